"""A PEP 517 / PEP 660 build backend for the quotad client, standard library only.

pip builds packages in an isolated environment and installs the backend's
``requires`` into it first; with setuptools that means a download, which
fails on a machine without PyPI. This backend needs nothing (``requires =
[]``), so ``pip install ./clients/python`` works offline with any pip that
supports ``backend-path`` (pip >= 20).

It reads ``name``, ``version``, ``description`` and ``requires-python`` from
the ``[project]`` table of pyproject.toml (simple ``key = "value"`` lines: no
TOML parser is needed, and Python 3.9 and 3.10 have none) and packs the
``quotad`` package directory.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile
from typing import Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "quotad"


def _project() -> Dict[str, str]:
    """Returns the simple string keys of pyproject.toml's [project] table."""
    with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
        text = f.read()
    out: Dict[str, str] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
            continue
        m = re.match(r'^([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"\s*(#.*)?$', line)
        if section == "[project]" and m:
            out[m.group(1)] = m.group(2)
    for key in ("name", "version"):
        if key not in out:
            raise RuntimeError(f"pyproject.toml: [project] has no {key} = \"...\"")
    return out


def _metadata() -> str:
    p = _project()
    lines = ["Metadata-Version: 2.1", f"Name: {p['name']}", f"Version: {p['version']}"]
    if "description" in p:
        lines.append(f"Summary: {p['description']}")
    if "requires-python" in p:
        lines.append(f"Requires-Python: {p['requires-python']}")
    return "\n".join(lines) + "\n"


def _dist_info() -> str:
    p = _project()
    return f"{p['name'].replace('-', '_')}-{p['version']}.dist-info"


def _wheel_name() -> str:
    p = _project()
    return f"{p['name'].replace('-', '_')}-{p['version']}-py3-none-any.whl"


def _package_files() -> List[Tuple[str, str]]:
    """Returns (archive name, path) of every file of the package, sorted."""
    out = []
    base = os.path.join(ROOT, PACKAGE)
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith((".pyc", ".pyo")):
                continue
            path = os.path.join(dirpath, name)
            out.append((os.path.relpath(path, ROOT).replace(os.sep, "/"), path))
    return out


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write_wheel(wheel_directory: str, files: List[Tuple[str, bytes]]) -> str:
    dist = _dist_info()
    files = files + [
        (f"{dist}/METADATA", _metadata().encode()),
        (f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: quotad_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = [_record_line(n, d) for n, d in files] + [f"{dist}/RECORD,,"]
    files.append((f"{dist}/RECORD", ("\n".join(record) + "\n").encode()))
    name = _wheel_name()
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in files:
            info = zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, d)
    return name


def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    """Returns nothing: building needs only the standard library."""
    return []


get_requires_for_build_sdist = get_requires_for_build_wheel
get_requires_for_build_editable = get_requires_for_build_wheel


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None,
                metadata_directory: Optional[str] = None) -> str:
    """Builds quotad-VERSION-py3-none-any.whl in wheel_directory."""
    files = []
    for name, path in _package_files():
        with open(path, "rb") as f:
            files.append((name, f.read()))
    return _write_wheel(wheel_directory, files)


def build_editable(wheel_directory: str, config_settings: Optional[dict] = None,
                   metadata_directory: Optional[str] = None) -> str:
    """Builds a wheel whose .pth file puts this source tree on sys.path (pip install -e)."""
    return _write_wheel(wheel_directory, [("quotad_editable.pth", (ROOT + "\n").encode())])


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    """Builds quotad-VERSION.tar.gz: pyproject.toml, the backend, the package and its tests."""
    p = _project()
    base = f"{p['name']}-{p['version']}"
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        def add(arcname: str, data: bytes) -> None:
            info = tarfile.TarInfo(f"{base}/{arcname}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))

        add("PKG-INFO", _metadata().encode())
        for rel in ["pyproject.toml", "_backend/quotad_build.py"]:
            with open(os.path.join(ROOT, rel), "rb") as f:
                add(rel, f.read())
        for arcname, path in _package_files():
            with open(path, "rb") as f:
                add(arcname, f.read())
    return name
