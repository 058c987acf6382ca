"""The quotad client: every operation of the daemon's HTTP API (/api/v1) as a method.

Methods take the arguments the HTTP API names, in its order, and return its
JSON answer as dicts and lists. Error answers raise the exceptions of
quotad.errors (QuotaExhausted for a 429, and so on).

Every mutation sends an ``Idempotency-Key`` header: a fresh random key per
call, the same key on each retry of that call, so a daemon that supports it
counts a retried spend once. The client retries a request that could not be
sent or whose answer was lost (a refused, reset or dropped connection) and a
503 answer (honouring Retry-After), a few times within a bounded total time;
it never retries any other answer, a 429 refusal above all.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import threading
import time
import urllib.parse
import uuid
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from .errors import QuotadError, Unavailable, error_from_answer, retry_after_seconds
from .guard import Guard

__all__ = ["Client", "Reservation", "DEFAULT_URL"]

DEFAULT_URL = "http://127.0.0.1:8080"
"""The daemon's address when neither ``url`` nor ``QUOTAD_SERVER`` gives one."""

JSON = Any
Headers = Mapping[str, Union[str, Sequence[str]]]


class Client:
    """A client of one quotad daemon. It is safe to share between threads.

    ``Client()`` reads ``QUOTAD_SERVER`` and ``QUOTAD_TOKEN`` from the
    environment, else talks to http://127.0.0.1:8080 without a token::

        import quotad
        q = quotad.Client()
        q.spend("youtube", 100, channel="RankRiot")

    Args:
        url: the daemon, such as ``"http://127.0.0.1:8080"`` (a trailing ``/api/v1`` is accepted).
        token: the bearer token (``quotad token``); mutations need it when the daemon has one.
        timeout: seconds one request may take.
        retries: how many times a request is retried after a connection error or a 503.
        retry_time: seconds after the first attempt of a call within which a retry may start.
    """

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, *,
                 timeout: float = 30.0, retries: int = 3, retry_time: float = 15.0) -> None:
        raw = (url if url is not None else os.environ.get("QUOTAD_SERVER", "")).strip() or DEFAULT_URL
        parts = urllib.parse.urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"quotad server URL must look like {DEFAULT_URL}, got {raw!r}")
        path = parts.path.rstrip("/")
        if path.endswith("/api/v1"):
            path = path[: -len("/api/v1")]
        self.url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = path
        self.token = token if token is not None else os.environ.get("QUOTAD_TOKEN", "")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.retry_time = retry_time
        self._local = threading.local()
        self._sleep: Callable[[float], None] = time.sleep

    def __repr__(self) -> str:
        return f"quotad.Client({self.url!r})"

    # ---- transport ----

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Closes this thread's keep-alive connection (the next call opens another)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _send(self, method: str, path: str, body: Optional[bytes],
              headers: Dict[str, str]) -> Tuple[int, str, bytes, Dict[str, str]]:
        conn = self._connection()
        try:
            conn.request(method, self._prefix + path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except BaseException:
            self.close()
            raise
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        if resp.will_close:
            self.close()
        return resp.status, resp.reason, data, hdrs

    def request(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None,
                query: Optional[Mapping[str, Any]] = None, *, idempotent: Optional[bool] = None) -> JSON:
        """Sends one request to ``path`` (such as ``"/api/v1/status"``) and returns the decoded answer.

        ``body`` is sent as JSON; ``query`` parameters that are None are left
        out. A POST other than a read sends a fresh Idempotency-Key, the same
        on each retry. A 204 answer returns None. Error answers raise
        QuotadError subclasses.
        """
        if query:
            q = {k: _query_value(v) for k, v in query.items() if v is not None}
            if q:
                path += "?" + urllib.parse.urlencode(q)
        headers = {"Accept": "application/json", "User-Agent": "quotad-python"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        if idempotent is None:
            idempotent = method == "POST"
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        deadline = time.monotonic() + self.retry_time
        attempt = 0
        while True:
            try:
                status, reason, raw, hdrs = self._send(method, path, data, headers)
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine,
                    http.client.IncompleteRead) as exc:
                # Not sent, or its answer lost: the Idempotency-Key makes a resend safe.
                wait = self._backoff(attempt, None, deadline)
                if wait is None:
                    raise Unavailable(self._unreachable(exc, attempt + 1)) from exc
            except (socket.timeout, OSError) as exc:
                raise Unavailable(self._unreachable(exc, attempt + 1)) from exc
            else:
                if 200 <= status <= 299:
                    if status == 204 or not raw:
                        return None
                    try:
                        return json.loads(raw.decode("utf-8"))
                    except ValueError as exc:
                        raise QuotadError(f"quotad server {self.url}: {method} {path}: answer is not JSON",
                                          status=status, headers=hdrs) from exc
                err = error_from_answer(status, reason, raw, hdrs)
                if status != 503:
                    raise err
                wait = self._backoff(attempt, hdrs.get("retry-after"), deadline)
                if wait is None:
                    raise err
            attempt += 1
            self._sleep(wait)

    def _unreachable(self, exc: BaseException, attempts: int) -> str:
        what = str(exc) or type(exc).__name__
        tries = f" ({attempts} attempts)" if attempts > 1 else ""
        return (f"could not reach quotad at {self.url}{tries}: {what} — is `quotad serve` running there? "
                f"(QUOTAD_SERVER sets the address)")

    def _backoff(self, attempt: int, retry_after: Optional[str], deadline: float) -> Optional[float]:
        """Returns how long to wait before the next attempt, or None when no attempt is left."""
        if attempt >= self.retries:
            return None
        wait = min(2.0, 0.1 * (2 ** attempt)) * (0.5 + random.random() / 2)
        seconds = retry_after_seconds(retry_after)
        if seconds is not None:
            wait = seconds
        if time.monotonic() + wait > deadline:
            return None
        return wait

    def _get(self, path: str, query: Optional[Mapping[str, Any]] = None) -> JSON:
        return self.request("GET", path, query=query)

    def _post(self, path: str, body: Optional[Mapping[str, Any]] = None) -> JSON:
        return self.request("POST", path, body if body is not None else {})

    # ---- reads ----

    def status(self) -> Dict[str, Any]:
        """Every API and channel: ``{"apis": [...], "channels": [...]}`` (GET /api/v1/status)."""
        return self._get("/api/v1/status")

    def apis(self) -> List[Dict[str, Any]]:
        """Every API with its windows (GET /api/v1/apis)."""
        return self._get("/api/v1/apis")

    def api(self, api: str) -> Dict[str, Any]:
        """One API with its windows (GET /api/v1/apis/{api}); NotFound when there is none."""
        return self._get("/api/v1/apis/" + _seg(api))

    def channels(self) -> List[Dict[str, Any]]:
        """Every channel (GET /api/v1/channels)."""
        return self._get("/api/v1/channels")

    def channel(self, name: str) -> Dict[str, Any]:
        """One channel (GET /api/v1/channels/{name}); NotFound when there is none."""
        return self._get("/api/v1/channels/" + _seg(name))

    def logs(self, category: Optional[str] = None, channel: Optional[str] = None, level: Optional[str] = None,
             limit: Optional[int] = None, before: Optional[int] = None,
             after: Optional[int] = None) -> Dict[str, Any]:
        """One page of the event log, newest first: ``{"events": [...], "next_before": id or None}`` (GET /api/v1/logs).

        ``category`` is a LIKE pattern when it holds ``%``; pass ``next_before``
        as ``before`` for the next, older page.
        """
        return self._get("/api/v1/logs", {"category": category, "channel": channel, "level": level,
                                          "limit": limit, "before": before, "after": after})

    def usage(self, api: Optional[str] = None, channel: Optional[str] = None, by: Optional[str] = None,
              since: Optional[Any] = None, until: Optional[Any] = None) -> Dict[str, Any]:
        """Units spent per API and channel by ``minute``, ``hour`` (default) or ``day`` (GET /api/v1/usage).

        ``since`` is a datetime, RFC 3339 text or a span back from ``until``
        such as ``"48h"`` or ``"7d"`` (default 24h); ``until`` a datetime or
        RFC 3339 text (default now). Returns ``{"by", "since", "until", "points"}``,
        each point ``{"start", "api", "channel", "units", "count"}``.
        """
        return self._get("/api/v1/usage", {"api": api, "channel": channel, "by": by,
                                           "since": since, "until": until})

    def schedule(self, rule: str, from_: Optional[Any] = None, n: Optional[int] = None) -> List[str]:
        """The next ``n`` instants (RFC 3339, UTC) of a reset rule such as ``"daily 00:00"`` (GET /api/v1/schedule)."""
        return self._get("/api/v1/schedule", {"rule": rule, "from": from_, "n": n})

    def classify(self, api: Optional[str] = None, status: Optional[int] = None, headers: Optional[Headers] = None,
                 message: Optional[str] = None, model: Optional[str] = None) -> Dict[str, Any]:
        """How an error would be classified, changing nothing (POST /api/v1/classify)."""
        body = _error_body(None, api, status, headers, message, model)
        return self.request("POST", "/api/v1/classify", body, idempotent=False)

    def ready(self) -> bool:
        """Whether the daemon answers GET /readyz with 200 (its store answers and its monitor runs)."""
        try:
            status, _, _, _ = self._send("GET", "/readyz", None, {})
        except OSError:
            return False
        return status == 200

    # ---- mutations ----

    def spend(self, api: str, units: int, channel: Optional[str] = None,
              model: Optional[str] = None) -> Dict[str, Any]:
        """Records units spent on an API (POST /api/v1/apis/{api}/spend).

        Returns ``{"api", "channel", "units", "exhausted", "windows"}``; raises
        QuotaExhausted (with ``retry_after`` and ``until``) while the API is exhausted.
        """
        return self._post("/api/v1/apis/" + _seg(api) + "/spend",
                          _drop_none({"units": units, "channel": channel, "model": model}))

    def reserve(self, api: str, units: int, channel: Optional[str] = None, ttl: Optional[Union[str, float]] = None,
                model: Optional[str] = None) -> "Reservation":
        """Holds units of an API before a call (POST /api/v1/apis/{api}/reserve) and returns the Reservation.

        ``ttl`` is a Go duration (``"10m"``) or seconds (default: the server's
        5 minutes). Used as a context manager, the reservation commits what the
        block used (``r.used``, else everything reserved) and releases the
        units when the block raises::

            with q.reserve("groq", 2000, channel="RankRiot") as r:
                resp = groq_client.chat.completions.create(...)
                r.used = resp.usage.total_tokens

        Raises QuotaExhausted when a window lacks the free units.
        """
        if isinstance(ttl, (int, float)) and not isinstance(ttl, bool):
            ttl = f"{ttl}s"
        data = self._post("/api/v1/apis/" + _seg(api) + "/reserve",
                          _drop_none({"units": units, "channel": channel, "ttl": ttl, "model": model}))
        return Reservation(self, data)

    def commit(self, id: str, units: int) -> Dict[str, Any]:
        """Spends the units a reservation really used; 0 spends nothing (POST /api/v1/reservations/{id}/commit)."""
        return self._post("/api/v1/reservations/" + _seg(id) + "/commit", {"units": units})

    def release(self, id: str) -> None:
        """Gives a reservation's units back (POST /api/v1/reservations/{id}/release)."""
        self._post("/api/v1/reservations/" + _seg(id) + "/release")

    def report_error(self, channel: Optional[str] = None, api: Optional[str] = None, status: Optional[int] = None,
                     headers: Optional[Headers] = None, message: Optional[str] = None,
                     model: Optional[str] = None) -> Dict[str, Any]:
        """Reports a failed call; quotad decides whether it is a quota error (POST /api/v1/errors).

        Give at least ``message``, ``status`` or ``headers``. Returns
        ``{"verdict": {"quota", "kind", "api", "until", "evidence"}, "paused", "api_exhausted", "consecutive_errors"}``.
        """
        return self._post("/api/v1/errors", _error_body(channel, api, status, headers, message, model))

    def report_success(self, channel: str) -> Dict[str, Any]:
        """Clears a channel's consecutive-error count (POST /api/v1/channels/{name}/success); returns the channel."""
        return self._post("/api/v1/channels/" + _seg(channel) + "/success")

    def pause(self, channel: str, reason: Optional[str] = None) -> Dict[str, Any]:
        """Pauses a channel until a person resumes it (POST /api/v1/channels/{name}/pause); returns the channel."""
        return self._post("/api/v1/channels/" + _seg(channel) + "/pause", _drop_none({"reason": reason}))

    def resume(self, channel: Optional[str] = None, channels: Optional[Sequence[str]] = None,
               all: bool = False) -> Dict[str, Any]:
        """Resumes channels; returns ``{"resumed": [...], "already_active": [...]}``.

        - ``resume("RankRiot")`` clears every pause of one channel (POST /api/v1/channels/{name}/resume);
        - ``resume(channels=[...])`` resumes those in one transaction;
        - ``resume(all=True)`` clears every pause of every channel;
        - ``resume()`` resumes the channels whose quota pauses are cleared (manual and errors
          pauses stay: the seed's ``auto_resume_paused_channels``) (POST /api/v1/resume).
        """
        if channel is not None:
            return self._post("/api/v1/channels/" + _seg(channel) + "/resume")
        if channels is not None:
            return self._post("/api/v1/resume", {"channels": list(channels)})
        return self._post("/api/v1/resume", {"all": bool(all)})

    def reset(self, api: Optional[str] = None, apis: Optional[Sequence[str]] = None) -> Dict[str, Any]:
        """Refills APIs now and resumes the channels that waited on them; returns ``{"apis": [...], "resumed": [...]}``.

        ``reset("youtube")`` refills one API (POST /api/v1/apis/{api}/reset),
        ``reset(apis=[...])`` those named, ``reset()`` every API (POST /api/v1/reset).
        """
        if api is not None:
            return self._post("/api/v1/apis/" + _seg(api) + "/reset")
        if apis is not None:
            return self._post("/api/v1/reset", {"apis": list(apis)})
        return self._post("/api/v1/reset")

    # ---- error reporting around calls ----

    def guard(self, channel: Optional[str], api: Optional[str] = None, model: Optional[str] = None) -> Guard:
        """A context manager and decorator that reports an exception raised inside it, then re-raises it.

        Status, body and headers are read from the exceptions of ``openai``/``groq``
        (``APIStatusError``), ``googleapiclient.errors.HttpError`` and
        ``requests.HTTPError``; any other exception is reported by its text::

            with q.guard("RankRiot", api="groq"):
                groq_client.chat.completions.create(...)

            @q.guard("RankRiot")
            def upload(video): ...
        """
        return Guard(self, channel, api, model)


class Reservation:
    """Units held by :meth:`Client.reserve`; a context manager that commits or releases them.

    Attributes:
        id, api, channel, units, expires_at: the server's answer.
        data: that answer as a dict.
        used: the units to commit when the ``with`` block ends without an exception
            (None: everything reserved).
        result: the commit's answer once committed (a spend result), else None.
        done: whether it was committed or released.
    """

    def __init__(self, client: Client, data: Dict[str, Any]) -> None:
        self.client = client
        self.data = data
        self.id: str = data["id"]
        self.api: str = data.get("api", "")
        self.channel: str = data.get("channel", "")
        self.units: int = int(data.get("units", 0))
        self.expires_at: Optional[str] = data.get("expires_at")
        self.used: Optional[int] = None
        self.result: Optional[Dict[str, Any]] = None
        self.done = False

    def __repr__(self) -> str:
        return f"<quotad.Reservation {self.id} {self.api} {self.units}>"

    def commit(self, units: Optional[int] = None) -> Dict[str, Any]:
        """Spends ``units`` (default: ``used``, else everything reserved) and returns the spend result."""
        if units is None:
            units = self.used if self.used is not None else self.units
        self.result = self.client.commit(self.id, units)
        self.done = True
        return self.result

    def release(self) -> None:
        """Gives the units back."""
        self.client.release(self.id)
        self.done = True

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if self.done:
            return
        if exc_type is None:
            self.commit()
            return
        try:
            self.release()
        except QuotadError:
            pass  # the block's exception matters more; the reservation expires by itself


def _seg(name: str) -> str:
    """Escapes one path segment (a name may hold '/' or '?')."""
    return urllib.parse.quote(str(name), safe="")


def _drop_none(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _query_value(v: Any) -> str:
    if hasattr(v, "isoformat"):
        if getattr(v, "tzinfo", None) is None:
            raise ValueError(f"quotad: a time parameter needs a time zone, got naive {v!r}")
        return v.isoformat().replace("+00:00", "Z")
    return str(v)


def _error_body(channel: Optional[str], api: Optional[str], status: Optional[int], headers: Optional[Headers],
                message: Optional[str], model: Optional[str]) -> Dict[str, Any]:
    hdrs = None
    if headers:
        hdrs = {str(k): (v if isinstance(v, str) else [str(x) for x in v]) for k, v in headers.items()}
    return _drop_none({"channel": channel, "api": api, "model": model, "status": status,
                       "headers": hdrs, "message": message})
