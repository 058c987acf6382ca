"""The exceptions of the quotad client: one class per kind of answer a caller acts on.

Every exception of the client is a QuotadError. The server's JSON error body
is ``{"error": {"code": ..., "message": ...}}``; the exception's message is
the server's message, and ``code``, ``status``, ``body`` and ``headers`` keep
the rest of the answer.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from typing import Any, Dict, Mapping, Optional

__all__ = [
    "QuotadError",
    "QuotaExhausted",
    "Unauthorized",
    "NotFound",
    "InvalidRequest",
    "Conflict",
    "Unavailable",
    "parse_time",
]


class QuotadError(Exception):
    """Any failure of a quotad call: the base of every exception of this package.

    Attributes:
        message: the server's message (or what went wrong on the way).
        status: the HTTP status, or None when no answer arrived.
        code: the error code of the server's body, such as ``"unknown_api"``.
        body: the decoded ``error`` object of the answer ({} when there was none).
        headers: the answer's headers, lower-case names ({} when there was none).
    """

    def __init__(self, message: str, status: Optional[int] = None, code: str = "",
                 body: Optional[Dict[str, Any]] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body: Dict[str, Any] = dict(body or {})
        self.headers: Dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}

    def __str__(self) -> str:
        return self.message


class QuotaExhausted(QuotadError):
    """A spend or reservation refused by one of quotad's holds (HTTP 429): it did not fit.

    Attributes:
        api: the API refused.
        window: the window that refused, such as ``"daily"``.
        kind: whose hold: ``"window"`` (the API's: exhausted, or fewer units free than asked),
            ``"budget"`` (the channel's own budget) or ``"reserve"`` (kept for a higher priority).
        channel: the channel held by a budget or a reserve ("" for a window).
        priority: the priority a reserve is kept for ("" otherwise).
        until: when the API serves again (an aware UTC datetime), or None when unknown.
        retry_after: seconds until then (the server's Retry-After), or None when unknown.
    """

    def __init__(self, message: str, status: Optional[int] = 429, code: str = "exhausted",
                 body: Optional[Dict[str, Any]] = None, headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(message, status, code, body, headers)
        self.api: str = str(self.body.get("api") or "")
        self.window: str = str(self.body.get("window") or "")
        self.kind: str = str(self.body.get("kind") or "window")
        self.channel: str = str(self.body.get("channel") or "")
        self.priority: str = str(self.body.get("priority") or "")
        until = self.body.get("until")
        self.until: Optional[_dt.datetime] = parse_time(until) if isinstance(until, str) else None
        self.retry_after: Optional[float] = None
        seconds = retry_after_seconds(self.headers.get("retry-after"))
        if seconds is not None:
            self.retry_after = seconds
        elif self.until is not None:
            now = _dt.datetime.now(_dt.timezone.utc)
            self.retry_after = max(0.0, (self.until - now).total_seconds())
        if self.until is None and self.retry_after is not None:
            self.until = (_dt.datetime.now(_dt.timezone.utc)
                          + _dt.timedelta(seconds=self.retry_after)).replace(microsecond=0)


    @property
    def channel_level(self) -> bool:
        """Whether the hold is the channel's own (a budget or a reserve), not the API's."""
        return self.kind in ("budget", "reserve")


class Unauthorized(QuotadError):
    """The token is missing or wrong (401), or the request was refused as cross-origin or for its host (403)."""


class NotFound(QuotadError):
    """No such API, channel, reservation or endpoint (404); ``code`` says which."""


class InvalidRequest(QuotadError, ValueError):
    """Bad input (400), a body over 1 MiB (413) or an Idempotency-Key reused for another request (422): nothing changed."""


class Conflict(QuotadError):
    """The operation contradicts the current state (409)."""


class Unavailable(QuotadError):
    """The daemon could not be reached, or answered 503 (shutting down, not ready, a store wait ran out)."""


_CLASSES = {
    "exhausted": QuotaExhausted,
    "unauthorized": Unauthorized,
    "forbidden": Unauthorized,
    "unknown_api": NotFound,
    "unknown_channel": NotFound,
    "unknown_reservation": NotFound,
    "not_found": NotFound,
    "invalid": InvalidRequest,
    "too_large": InvalidRequest,
    "idempotency_mismatch": InvalidRequest,
    "conflict": Conflict,
    "unavailable": Unavailable,
}

_STATUS_CODES = {
    400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
    413: "too_large", 422: "idempotency_mismatch", 429: "exhausted", 502: "unavailable", 503: "unavailable", 504: "unavailable",
}


def error_from_answer(status: int, reason: str, raw: bytes, headers: Mapping[str, str]) -> QuotadError:
    """Returns the exception a non-2xx answer means (the model is the Go client's decodeError)."""
    body: Dict[str, Any] = {}
    try:
        decoded = json.loads(raw.decode("utf-8"))
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
            body = decoded["error"]
    except (ValueError, UnicodeDecodeError):
        pass  # not quotad's JSON (a proxy's page, say): fall back on the status
    message = str(body.get("message") or "")
    if not message:
        message = f"quotad server: {status} {reason}".rstrip()
        text = raw.decode("utf-8", "replace").strip()
        if text and len(text) < 200:
            message += ": " + text
    code = str(body.get("code") or "") or _STATUS_CODES.get(status, f"http_{status}")
    cls = _CLASSES.get(code, QuotadError)
    return cls(message, status=status, code=code, body=body, headers=headers)


_SECONDS = re.compile(r"^[0-9]{1,10}$")


def retry_after_seconds(value: Optional[str]) -> Optional[float]:
    """Returns a Retry-After header's delay in seconds (ASCII digits only), else None (an HTTP date, garbage)."""
    if value is None:
        return None
    value = value.strip()
    return float(value) if _SECONDS.match(value) else None


_TIME = re.compile(r"^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$")


def parse_time(text: str) -> Optional[_dt.datetime]:
    """Parses an RFC 3339 time of the server (nanoseconds and ``Z`` included) into an aware datetime.

    Returns None for text that is not such a time. A time without an offset
    (the seed's ``YYYY-MM-DD HH:MM:SS``) is taken as UTC.
    """
    m = _TIME.match(text.strip())
    if not m:
        return None
    day, clock, frac, zone = m.groups()
    micro = (frac or ".0")[1:7].ljust(6, "0")
    offset = "+00:00" if zone in (None, "Z") else zone
    try:
        return _dt.datetime.fromisoformat(f"{day}T{clock}.{micro}{offset}")
    except ValueError:
        return None
