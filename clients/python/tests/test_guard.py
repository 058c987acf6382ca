"""client.guard: reports the provider's exception (status, body, headers) to the daemon, then re-raises it."""

from __future__ import annotations

import asyncio
import datetime as dt
import unittest

import fakes
import quotad
from quotad.guard import describe_error
from support import DaemonTest


class DescribeErrorTest(unittest.TestCase):
    """What is read from each SDK's exception (no daemon needed)."""

    def test_openai_groq_api_status_error(self) -> None:
        d = describe_error(fakes.groq_rate_limit_error())
        self.assertEqual(d["status"], 429)
        self.assertEqual(d["message"], fakes.GROQ_TPD_BODY, "the raw body, as the provider sent it")
        self.assertEqual(d["headers"]["retry-after"], "433")
        self.assertEqual(d["headers"]["via"], ["1.1 google", "1.1 cf"], "repeated headers kept apart")

    def test_openai_error_without_response_text_uses_body(self) -> None:
        err = fakes.groq_rate_limit_error()
        err.response.text = ""  # type: ignore[attr-defined]
        self.assertIn("rate_limit_exceeded", describe_error(err)["message"])

    def test_google_http_error(self) -> None:
        err, _ = fakes.google_http_error()
        d = describe_error(err)
        self.assertEqual(d["status"], 403)
        self.assertIn("quotaExceeded", d["message"])
        self.assertEqual(d["headers"], {"content-type": "application/json; charset=UTF-8"},
                         "httplib2's status and -content-encoding are not headers")

    def test_requests_http_error(self) -> None:
        err, _ = fakes.requests_http_error()
        d = describe_error(err)
        self.assertEqual(d["status"], 429)
        self.assertEqual(d["message"], fakes.PEXELS_429_BODY)
        self.assertEqual({k.lower(): v for k, v in d["headers"].items()}["retry-after"], "60")

    def test_urllib_http_error(self) -> None:
        import email.message
        import urllib.error
        h = email.message.Message()
        h["Retry-After"] = "30"
        err = urllib.error.HTTPError("https://api.pexels.com/v1/search", 429, "Too Many Requests", h, None)
        d = describe_error(err)
        self.assertEqual((d["status"], d["headers"]), (429, {"Retry-After": "30"}))
        self.assertIn("429", d["message"])

    def test_plain_exception_and_text(self) -> None:
        self.assertEqual(describe_error(RuntimeError("disk full")),
                         {"status": None, "headers": None, "message": "RuntimeError: disk full"})
        self.assertEqual(describe_error(KeyError())["message"], "KeyError")
        self.assertEqual(describe_error("Groq: Rate limit reached")["message"], "Groq: Rate limit reached")

    def test_long_message_is_cut(self) -> None:
        self.assertEqual(len(describe_error("x" * 10_000_000)["message"]), quotad.guard.MAX_MESSAGE)


class GuardTest(DaemonTest):
    def test_context_manager_reports_openai_groq_error(self) -> None:
        err = fakes.groq_rate_limit_error()
        g = self.q.guard("RankRiot")  # no api: quotad attributes it from the evidence
        with self.assertRaises(fakes.RateLimitError) as cm:
            with g:
                raise err
        self.assertIs(cm.exception, err, "the caller's own exception is re-raised")
        self.assertTrue(g.result["verdict"]["quota"])
        self.assertEqual(g.result["verdict"]["api"], "groq")
        self.assertEqual(sorted(g.result["paused"]), ["Manual", "RankRiot"])
        groq = self.q.api("groq")
        self.assertFalse(groq["available"])
        # Groq said "try again in 7m12.3s" (Retry-After 433): back then, not at midnight.
        back = quotad.errors.parse_time(groq["available_at"])
        left = (back - dt.datetime.now(dt.timezone.utc)).total_seconds()
        self.assertTrue(400 < left < 440, left)
        self.assertEqual(self.reasons("RankRiot"), ["quota:groq"])

    def test_decorator_reports_google_http_error(self) -> None:
        err, real = fakes.google_http_error()
        calls = []

        @self.q.guard("Shorts", api="youtube")
        def upload(video: str) -> str:
            calls.append(video)
            raise err

        self.assertEqual(upload.__name__, "upload")
        with self.assertRaises(type(err)) as cm:
            upload("intro.mp4")
        self.assertIs(cm.exception, err)
        self.assertEqual(calls, ["intro.mp4"])
        self.assertFalse(self.q.api("youtube")["available"])
        self.assertEqual(self.reasons("Shorts"), ["quota:youtube"])
        if not real:
            self.skipTest("googleapiclient is not installed (Debian: python3-googleapi): checked a stand-in of HttpError")

    def test_requests_http_error(self) -> None:
        err, real = fakes.requests_http_error()
        g = self.q.guard("Photos", api="pexels")
        with self.assertRaises(type(err)):
            with g:
                raise err
        self.assertTrue(g.result["verdict"]["quota"])
        self.assertEqual(self.reasons("Photos"), ["quota:pexels"])
        if not real:
            self.skipTest("requests is not installed (Debian: python3-requests): checked a stand-in of HTTPError")

    def test_other_error_counts_toward_the_threshold(self) -> None:
        with self.assertRaises(RuntimeError):
            with self.q.guard("Shorts"):
                raise RuntimeError("ffmpeg exited with status 1")
        ch = self.channel("Shorts")
        self.assertTrue(ch["active"])
        self.assertEqual(ch["consecutive_errors"], 1)

    def test_decorator_returns_the_value_and_reports_nothing_on_success(self) -> None:
        @self.q.guard("Shorts")
        def ok(x: int) -> int:
            return x * 2

        self.assertEqual(ok(21), 42)
        self.assertEqual(self.channel("Shorts")["consecutive_errors"], 0)

    def test_async_decorator(self) -> None:
        @self.q.guard("RankRiot", api="groq")
        async def chat() -> None:
            raise fakes.groq_rate_limit_error()

        with self.assertRaises(fakes.RateLimitError):
            asyncio.run(chat())
        self.assertEqual(self.reasons("RankRiot"), ["quota:groq"])

    def test_quotads_own_refusal_is_not_reported(self) -> None:
        self.q.spend("youtube", 10000)
        before = self.q.logs(limit=1)["events"][0]["id"]
        with self.assertRaises(quotad.QuotaExhausted):
            with self.q.guard("Shorts", api="youtube"):
                self.q.spend("youtube", 100, channel="Shorts")
        self.assertEqual(self.q.logs(after=before)["events"], [], "nothing reported")
        self.assertEqual(self.channel("Shorts")["consecutive_errors"], 0)

    def test_daemon_down_keeps_the_callers_exception(self) -> None:
        down = quotad.Client("http://127.0.0.1:1", retries=0)
        with self.assertLogs("quotad", "WARNING") as logs:
            with self.assertRaisesRegex(RuntimeError, "boom"):
                with down.guard("Shorts"):
                    raise RuntimeError("boom")
        self.assertIn("could not report RuntimeError", logs.output[0])

    def test_keyboard_interrupt_is_not_reported(self) -> None:
        with self.assertRaises(KeyboardInterrupt):
            with self.q.guard("Shorts"):
                raise KeyboardInterrupt
        self.assertEqual(self.channel("Shorts")["consecutive_errors"], 0)


if __name__ == "__main__":
    unittest.main()
