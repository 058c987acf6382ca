"""The seed's ``quota_manager`` functions, with the seed's names, done by a running quotad.

A daemon that did ``from quota_manager import reset_quota`` does
``from quotad.quota_manager import reset_quota`` and keeps its calls::

    from quotad.quota_manager import reset_quota, reset_all_quotas, auto_resume_paused_channels
    reset_quota('groq')
    reset_all_quotas()
    auto_resume_paused_channels()          # ['RankRiot']

The functions talk to the daemon named by ``QUOTAD_SERVER`` / ``QUOTAD_TOKEN``
(else http://127.0.0.1:8080); ``set_client`` chooses another, and each
function also takes ``client=``. Errors raise quotad's exceptions
(``quotad.Unavailable`` when the daemon cannot be reached).
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional, Union

from .client import Client
from .guard import describe_error

__all__ = [
    "reset_quota",
    "reset_all_quotas",
    "auto_resume_paused_channels",
    "get_quota_status_summary",
    "handle_api_error",
    "get_client",
    "set_client",
]

_lock = threading.Lock()
_client: Optional[Client] = None


def get_client() -> Client:
    """Returns the client the functions use: the one given to set_client, else ``Client()`` from the environment."""
    global _client
    with _lock:
        if _client is None:
            _client = Client()
        return _client


def set_client(client: Optional[Client]) -> None:
    """Makes the functions use ``client`` (None: a new ``Client()`` from the environment on the next call)."""
    global _client
    with _lock:
        _client = client


def _c(client: Optional[Client]) -> Client:
    return client if client is not None else get_client()


def reset_quota(api: str, *, client: Optional[Client] = None) -> Dict[str, Any]:
    """Refills one API now and resumes the channels that waited only on it (the seed's ``reset_quota('groq')``).

    Returns ``{"apis": ["groq"], "resumed": [...]}``; raises quotad.NotFound for an unknown API.
    """
    return _c(client).reset(api)


def reset_all_quotas(*, client: Optional[Client] = None) -> Dict[str, Any]:
    """Refills every API now and resumes the channels that waited on them (the seed's ``reset_all_quotas()``).

    Returns ``{"apis": [...], "resumed": [...]}``.
    """
    return _c(client).reset()


def auto_resume_paused_channels(*, client: Optional[Client] = None) -> List[str]:
    """Resumes the channels paused for quotas whose APIs are available again, and returns their names.

    As the seed's function: channels paused by a person (``quotad pause``) or
    for consecutive errors stay paused, and so does a channel still waiting
    on an exhausted API.
    """
    res = _c(client).resume()
    return list(res.get("resumed") or [])


def get_quota_status_summary(*, client: Optional[Client] = None) -> Dict[str, Dict[str, Any]]:
    """Returns a dict per API with the seed's ``api_quotas`` columns, for the API's binding window.

    Each value has ``quota_limit``, ``quota_used``, ``quota_remaining``,
    ``is_exhausted``, ``exhausted_at``, ``last_reset``, ``next_reset`` and
    ``auto_resume`` (times are RFC 3339 text in UTC, or None), plus
    ``window`` (the binding window's name), ``available_at`` and
    ``windows`` (every window, as the HTTP API gives them). The binding window
    is the exhausted one whose block ends last, else the one with the
    smallest share of its limit left. The result is JSON-serialisable, as
    the seed's ``json.dumps(get_quota_status_summary(), indent=2)`` needs.
    """
    out: Dict[str, Dict[str, Any]] = {}
    for a in _c(client).apis():
        windows = list(a.get("windows") or [])
        w = binding_window(windows) or {}
        exhausted = bool(w.get("exhausted")) or a.get("available") is False
        out[a["name"]] = {
            "quota_limit": w.get("limit", 0),
            "quota_used": w.get("used", 0),
            "quota_remaining": w.get("remaining", 0),
            "is_exhausted": exhausted,
            "exhausted_at": w.get("exhausted_at"),
            "last_reset": w.get("last_reset"),
            "next_reset": w.get("next_reset"),
            "auto_resume": a.get("auto_resume", True),
            "window": w.get("name"),
            "available_at": a.get("available_at"),
            "windows": windows,
        }
    return out


def binding_window(windows: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """Returns the window that binds an API: the exhausted one whose block ends last, else the fullest.

    "Fullest" is the smallest share of its limit left (ties: the earliest
    reset). None for an API without windows.
    """
    if not windows:
        return None
    exhausted = [w for w in windows if w.get("exhausted")]
    if exhausted:
        # RFC 3339 UTC text of one format sorts as time does; a missing time sorts first.
        return max(exhausted, key=lambda w: str(w.get("blocked_until") or w.get("next_reset") or ""))

    def share(w: Dict[str, Any]) -> float:
        limit = w.get("limit") or 0
        return (w.get("remaining", 0) / limit) if limit > 0 else 1.0

    return min(windows, key=lambda w: (share(w), str(w.get("next_reset") or "~")))


def handle_api_error(error: Union[BaseException, str], channel: Optional[str], *, api: Optional[str] = None,
                     client: Optional[Client] = None) -> bool:
    """Reports a failed call of a channel and returns whether it was a quota error (the daemon's error path).

    ``error`` is the exception the provider's SDK raised (its status, body and
    headers are read as :meth:`quotad.Client.guard` reads them) or the error's
    text. quotad classifies it: a quota error exhausts the API (until the
    provider's stated time when there is one) and pauses the channels that
    need it; any other error counts toward the channel's consecutive-error
    threshold.
    """
    d = describe_error(error)
    res = _c(client).report_error(channel=channel, api=api, status=d["status"], headers=d["headers"],
                                  message=d["message"])
    return bool((res.get("verdict") or {}).get("quota"))
