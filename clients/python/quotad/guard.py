"""Reporting a provider's exception to quotad: what the error says, read from the SDKs' exception objects.

Nothing here imports the SDKs: the exception objects are read by their shape.

- ``openai`` / ``groq`` ``APIStatusError`` (and its subclasses ``RateLimitError`` ...):
  ``.status_code``, ``.response`` (an httpx.Response: ``.headers``, ``.text``), ``.body``.
- ``googleapiclient.errors.HttpError``: ``.resp`` (an httplib2.Response: a dict of
  headers with ``.status``), ``.content`` (bytes).
- ``requests.HTTPError``: ``.response`` (a requests.Response: ``.status_code``,
  ``.headers``, ``.text``).
- ``urllib.error.HTTPError``: ``.code``, ``.headers``.
- anything else: its text.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, TypeVar, Union

if TYPE_CHECKING:  # pragma: no cover
    from .client import Client

__all__ = ["Guard", "describe_error"]

log = logging.getLogger("quotad")

F = TypeVar("F", bound=Callable[..., Any])

# A message is cut to this many characters: the server takes bodies of up to 1 MiB.
MAX_MESSAGE = 64 * 1024


def describe_error(error: Union[BaseException, str]) -> Dict[str, Any]:
    """Returns ``{"status", "headers", "message"}`` of a failed call, for :meth:`Client.report_error`.

    ``status`` and ``headers`` are None when the error does not carry them.
    A string is taken as the error's message.
    """
    if isinstance(error, str):
        return {"status": None, "headers": None, "message": error[:MAX_MESSAGE]}
    status: Optional[int] = None
    headers: Optional[Dict[str, Union[str, List[str]]]] = None
    message: Optional[str] = None

    response = _attr(error, "response")
    resp = _attr(error, "resp")
    if isinstance(_attr(error, "status_code"), int):
        # openai / groq APIStatusError (httpx response)
        status = _attr(error, "status_code")
        headers = _headers(_attr(response, "headers"))
        message = _text(response)
        if not message:
            body = _attr(error, "body")
            if body is not None:
                message = body if isinstance(body, str) else _json(body)
    elif resp is not None and _attr(error, "content") is not None:
        # googleapiclient.errors.HttpError (httplib2 response)
        status = _int(_attr(resp, "status"))
        headers = _headers(resp)
        content = _attr(error, "content") or b""
        if isinstance(content, bytes):
            content = content.decode("utf-8", "replace")
        message = str(content) or None
    elif response is not None and isinstance(_attr(response, "status_code"), int):
        # requests.HTTPError
        status = _attr(response, "status_code")
        headers = _headers(_attr(response, "headers"))
        message = _text(response)
    elif isinstance(_attr(error, "code"), int) and _attr(error, "headers") is not None:
        # urllib.error.HTTPError (its body is a stream: reading it would take it from the caller)
        status = _attr(error, "code")
        headers = _headers(_attr(error, "headers"))
    if not message:
        try:
            text = str(error)
        except Exception:
            text = ""
        message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        status = None  # not an HTTP status: the server would refuse the report
    return {"status": status, "headers": headers or None, "message": message[:MAX_MESSAGE]}


def _attr(obj: Any, name: str) -> Any:
    """Returns obj.name, or None when it is missing or reading it fails.

    A foreign exception's attribute may raise anything: Python 3.9's
    urllib.error.HTTPError without a body raises KeyError for unknown names.
    """
    try:
        return getattr(obj, name, None)
    except Exception:
        return None


def _int(v: Any) -> Optional[int]:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _text(response: Any) -> Optional[str]:
    if response is None:
        return None
    try:
        text = response.text
    except Exception:  # a streamed httpx response not read yet, say
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return text if isinstance(text, str) and text else None


def _json(v: Any) -> str:
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return str(v)


def _headers(h: Any) -> Optional[Dict[str, Union[str, List[str]]]]:
    """Returns a response's headers as the API takes them: each a string or a list of strings."""
    if h is None:
        return None
    try:
        # httpx.Headers.items() joins repeated headers; multi_items() keeps them apart.
        pairs = list(h.multi_items()) if callable(_attr(h, "multi_items")) else list(h.items())
    except Exception:
        return None
    out: Dict[str, Union[str, List[str]]] = {}
    for k, v in pairs:
        k = str(k)
        # httplib2.Response keeps the status line as the key "status" and its own
        # notes as "-content-encoding" and the like: not headers.
        if k == "status" or k.startswith("-"):
            continue
        v = v.decode("latin-1") if isinstance(v, bytes) else str(v)
        prev = out.get(k)
        if prev is None:
            out[k] = v
        elif isinstance(prev, list):
            prev.append(v)
        else:
            out[k] = [prev, v]
    return out


class Guard:
    """Reports an exception raised inside it to quotad, then lets it propagate.

    Made by :meth:`Client.guard`. As a context manager::

        with q.guard("RankRiot", api="groq"):
            ...

    As a decorator (of plain and ``async`` functions)::

        @q.guard("RankRiot", api="youtube")
        def upload(video): ...

    quotad's own refusals (QuotadError, such as QuotaExhausted from a spend
    inside the block) are not reported: they are not the provider's errors.
    When the report itself fails (the daemon is down), the failure is logged
    on the ``quotad`` logger and the original exception still propagates.
    ``result`` keeps the last report's answer (its ``verdict`` says whether it
    was a quota error).
    """

    def __init__(self, client: "Client", channel: Optional[str], api: Optional[str] = None,
                 model: Optional[str] = None) -> None:
        self.client = client
        self.channel = channel
        self.api = api
        self.model = model
        self.result: Optional[Dict[str, Any]] = None

    def report(self, error: Union[BaseException, str]) -> Optional[Dict[str, Any]]:
        """Reports one error now and returns the server's answer (None when the report failed)."""
        d = describe_error(error)
        try:
            self.result = self.client.report_error(channel=self.channel, api=self.api, status=d["status"],
                                                   headers=d["headers"], message=d["message"], model=self.model)
        except Exception as exc:  # never hide the caller's exception behind ours
            log.warning("quotad: could not report %s for channel %s: %s", type(error).__name__, self.channel, exc)
            self.result = None
        return self.result

    def __enter__(self) -> "Guard":
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        from .errors import QuotadError

        if exc is not None and isinstance(exc, Exception) and not isinstance(exc, QuotadError):
            self.report(exc)
        # None: the exception, if any, propagates.

    def __call__(self, func: F) -> F:
        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await func(*args, **kwargs)
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return wrapper  # type: ignore[return-value]
