"""Retries and Idempotency-Key, against a test server in this process that records every request.

No daemon is needed: the server fails attempts on purpose (a 503, a dropped
connection) and answers what quotad would.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import unittest
from typing import Any, Callable, Dict, List, Optional, Tuple

import quotad

Answer = Tuple[int, Dict[str, str], Any]  # status, headers, JSON body; status 0 drops the connection


class Recorder(http.server.ThreadingHTTPServer):
    """Answers requests from a script of answers (the last repeats) and records them."""

    daemon_threads = True

    def __init__(self, script: List[Answer]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.script = script
        self.requests: List[Dict[str, Any]] = []
        self.lock = threading.Lock()

    def next_answer(self, record: Dict[str, Any]) -> Answer:
        with self.lock:
            self.requests.append(record)
            i = min(len(self.requests), len(self.script)) - 1
            return self.script[i]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Recorder

    def log_message(self, *args: Any) -> None:
        pass

    def handle_one(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        record = {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": json.loads(body) if body else None}
        status, headers, out = self.server.next_answer(record)
        if status == 0:  # drop the connection without an answer
            self.close_connection = True
            return
        data = b"" if out is None else json.dumps(out).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = handle_one


SPEND_OK: Answer = (200, {"Content-Type": "application/json"},
                    {"api": "youtube", "channel": "RankRiot", "units": 100, "exhausted": False, "windows": []})
UNAVAILABLE_NOW: Answer = (503, {"Retry-After": "0"},
                           {"error": {"code": "unavailable", "message": "store busy: try again"}})
DROP: Answer = (0, {}, None)
EXHAUSTED: Answer = (429, {"Retry-After": "27854"},
                     {"error": {"code": "exhausted", "message": "spend youtube: youtube: quota exhausted (window daily) until 2026-11-27T08:00:00Z",
                                "api": "youtube", "window": "daily", "until": "2026-11-27T08:00:00Z"}})


class RetryTest(unittest.TestCase):
    def serve(self, *script: Answer, **kw: Any) -> Tuple[Recorder, quotad.Client]:
        srv = Recorder(list(script))
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        t.start()
        self.addCleanup(srv.server_close)
        self.addCleanup(srv.shutdown)
        c = quotad.Client(f"http://127.0.0.1:{srv.server_address[1]}", token="tok", **kw)
        self.addCleanup(c.close)
        return srv, c

    def keys(self, srv: Recorder) -> List[Optional[str]]:
        return [r["headers"].get("idempotency-key") for r in srv.requests]

    def test_503_is_retried_with_the_same_key(self) -> None:
        srv, c = self.serve(UNAVAILABLE_NOW, UNAVAILABLE_NOW, SPEND_OK)
        self.assertEqual(c.spend("youtube", 100, channel="RankRiot")["units"], 100)
        keys = self.keys(srv)
        self.assertEqual(len(keys), 3)
        self.assertTrue(keys[0] and len(keys[0]) >= 16, keys)
        self.assertEqual(len(set(keys)), 1, f"one key for every attempt: {keys}")
        self.assertEqual([r["body"] for r in srv.requests], [{"units": 100, "channel": "RankRiot"}] * 3)
        self.assertEqual(srv.requests[0]["headers"]["authorization"], "Bearer tok")

    def test_dropped_connection_is_retried_with_the_same_key(self) -> None:
        srv, c = self.serve(DROP, SPEND_OK)
        c.spend("youtube", 100)
        keys = self.keys(srv)
        self.assertEqual(len(keys), 2)
        self.assertEqual(keys[0], keys[1])

    def test_each_call_has_its_own_key(self) -> None:
        srv, c = self.serve(SPEND_OK)
        c.spend("youtube", 1)
        c.spend("youtube", 1)
        c.report_error(channel="RankRiot", message="boom")
        keys = self.keys(srv)
        self.assertEqual(len(set(keys)), 3, keys)

    def test_every_mutation_sends_a_key_and_reads_do_not(self) -> None:
        srv, c = self.serve((200, {}, {"id": "r1", "api": "groq", "units": 5}))
        calls: List[Callable[[], Any]] = [
            lambda: c.spend("groq", 5), lambda: c.reserve("groq", 5), lambda: c.commit("r1", 5),
            lambda: c.release("r1"), lambda: c.report_error(channel="x", message="m"),
            lambda: c.report_success("x"), lambda: c.pause("x"), lambda: c.resume("x"), lambda: c.resume(),
            lambda: c.reset("groq"), lambda: c.reset()]
        for call in calls:
            call()
        self.assertTrue(all(self.keys(srv)), self.keys(srv))
        n = len(srv.requests)
        c.status()
        c.logs(limit=5)
        c.classify(message="m")
        self.assertEqual(self.keys(srv)[n:], [None, None, None], "reads (classify too) send no key")

    def test_model_is_sent_only_when_given(self) -> None:
        srv, c = self.serve(SPEND_OK)
        c.spend("groq", 5, channel="RankRiot")
        c.spend("groq", 5, channel="RankRiot", model="llama-3.3-70b-versatile")
        self.assertNotIn("model", srv.requests[0]["body"])
        self.assertEqual(srv.requests[1]["body"]["model"], "llama-3.3-70b-versatile")
        self.assertEqual(srv.requests[1]["path"], "/api/v1/apis/groq/spend")

    def test_429_is_never_retried(self) -> None:
        srv, c = self.serve(EXHAUSTED, SPEND_OK)
        with self.assertRaises(quotad.QuotaExhausted) as cm:
            c.spend("youtube", 100)
        self.assertEqual(len(srv.requests), 1)
        e = cm.exception
        self.assertEqual(e.retry_after, 27854)
        self.assertEqual(e.until.isoformat(), "2026-11-27T08:00:00+00:00")
        self.assertEqual((e.api, e.window), ("youtube", "daily"))

    def test_429_is_not_retried_even_when_soon(self) -> None:
        soon = (429, {"Retry-After": "1"}, {"error": {"code": "exhausted", "message": "groq: quota exhausted (window rpm)",
                                                      "api": "groq", "window": "rpm", "until": None}})
        srv, c = self.serve(soon, SPEND_OK)
        c._sleep = lambda s: None  # type: ignore[assignment]
        with self.assertRaises(quotad.QuotaExhausted) as cm:
            c.spend("groq", 1)
        self.assertEqual(len(srv.requests), 1)
        self.assertEqual(cm.exception.retry_after, 1)
        self.assertIsNotNone(cm.exception.until, "until derived from Retry-After")

    def test_attempts_are_bounded(self) -> None:
        srv, c = self.serve(UNAVAILABLE_NOW, retries=2)
        with self.assertRaises(quotad.Unavailable) as cm:
            c.spend("youtube", 1)
        self.assertEqual(len(srv.requests), 3)
        self.assertEqual(cm.exception.status, 503)
        self.assertIn("store busy", str(cm.exception))

    def test_total_time_is_bounded(self) -> None:
        srv, c = self.serve((503, {"Retry-After": "3600"}, {"error": {"code": "unavailable", "message": "busy"}}))
        start = time.monotonic()
        with self.assertRaises(quotad.Unavailable):
            c.spend("youtube", 1)
        self.assertEqual(len(srv.requests), 1, "a wait beyond retry_time is not waited")
        self.assertLess(time.monotonic() - start, 5)

    def test_retry_after_is_honoured(self) -> None:
        srv, c = self.serve((503, {"Retry-After": "2"}, None), SPEND_OK)
        waits: List[float] = []
        c._sleep = waits.append  # type: ignore[assignment]
        c.spend("youtube", 1)
        self.assertEqual(waits, [2.0])
        self.assertEqual(len(srv.requests), 2)

    def test_connection_refused_is_retried_then_unavailable(self) -> None:
        c = quotad.Client("http://127.0.0.1:1", retries=2)
        waits: List[float] = []
        c._sleep = waits.append  # type: ignore[assignment]
        with self.assertRaises(quotad.Unavailable) as cm:
            c.spend("youtube", 1)
        self.assertEqual(len(waits), 2)
        self.assertIsNone(cm.exception.status)
        self.assertIn("could not reach quotad at http://127.0.0.1:1 (3 attempts)", str(cm.exception))

    def test_errors_are_typed(self) -> None:
        cases = [
            ((401, {}, {"error": {"code": "unauthorized", "message": "missing or wrong bearer token"}}), quotad.Unauthorized),
            ((403, {}, {"error": {"code": "forbidden", "message": "cross-origin"}}), quotad.Unauthorized),
            ((404, {}, {"error": {"code": "unknown_channel", "message": "unknown channel \"X\""}}), quotad.NotFound),
            ((400, {}, {"error": {"code": "invalid", "message": "units must be positive"}}), quotad.InvalidRequest),
            ((409, {}, {"error": {"code": "conflict", "message": "job running"}}), quotad.Conflict),
            ((422, {}, {"error": {"code": "idempotency_mismatch", "message": "key reused"}}), quotad.InvalidRequest),
            ((500, {}, {"error": {"code": "internal", "message": "internal error"}}), quotad.QuotadError),
            ((502, {}, "<html>bad gateway</html>"), quotad.Unavailable),
        ]
        for answer, cls in cases:
            with self.subTest(status=answer[0]):
                srv, c = self.serve(answer, retries=0)
                with self.assertRaises(cls) as cm:
                    c.pause("X")
                self.assertIs(type(cm.exception), cls)
                self.assertEqual(cm.exception.status, answer[0])
                if isinstance(answer[2], dict):
                    self.assertEqual(str(cm.exception), answer[2]["error"]["message"])


if __name__ == "__main__":
    unittest.main()
