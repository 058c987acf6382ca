"""The package itself: standard library only, Python 3.9 syntax, and a wheel that the in-tree backend builds."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import sys
import tempfile
import unittest
import zipfile

import quotad

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SOURCES = os.path.join(ROOT, "quotad")


def sources() -> list:
    return sorted(os.path.join(SOURCES, f) for f in os.listdir(SOURCES) if f.endswith(".py"))


class PackageTest(unittest.TestCase):
    def test_version_matches_pyproject(self) -> None:
        with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as f:
            m = re.search(r'^version = "([^"]+)"', f.read(), re.M)
        self.assertIsNotNone(m)
        self.assertEqual(quotad.__version__, m.group(1))

    def test_sources_are_python_3_9(self) -> None:
        for path in sources() + [os.path.join(ROOT, "_backend", "quotad_build.py")]:
            with open(path, encoding="utf-8") as f:
                ast.parse(f.read(), path, feature_version=(3, 9))

    def test_standard_library_only(self) -> None:
        names = getattr(sys, "stdlib_module_names", None)
        if names is None:
            self.skipTest("sys.stdlib_module_names needs Python 3.10")
        for path in sources():
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    mods = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    mods = [node.module or ""]
                else:
                    continue
                for mod in mods:
                    self.assertIn(mod.split(".")[0], names, f"{path} imports {mod}")

    def test_backend_builds_a_wheel_and_an_sdist(self) -> None:
        spec = importlib.util.spec_from_file_location("quotad_build", os.path.join(ROOT, "_backend", "quotad_build.py"))
        backend = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(backend)  # type: ignore[union-attr]
        self.assertEqual(backend.get_requires_for_build_wheel(), [])
        with tempfile.TemporaryDirectory() as d:
            name = backend.build_wheel(d)
            self.assertEqual(name, f"quotad-{quotad.__version__}-py3-none-any.whl")
            with zipfile.ZipFile(os.path.join(d, name)) as z:
                files = set(z.namelist())
                record = z.read(f"quotad-{quotad.__version__}.dist-info/RECORD").decode()
                meta = z.read(f"quotad-{quotad.__version__}.dist-info/METADATA").decode()
            for want in ["quotad/__init__.py", "quotad/client.py", "quotad/quota_manager.py", "quotad/py.typed"]:
                self.assertIn(want, files)
                self.assertIn(want + ",sha256=", record)
            self.assertIn("Requires-Python: >=3.9", meta)
            self.assertTrue(backend.build_sdist(d).endswith(".tar.gz"))


if __name__ == "__main__":
    unittest.main()
