"""Every method of quotad.Client against a running daemon (see support.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import unittest
from unittest import mock

import quotad
from support import DaemonTest

YOUTUBE_QUOTA_BODY = json.dumps({"error": {"code": 403, "message": "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
                                           "errors": [{"message": "quota exceeded", "domain": "youtube.quota", "reason": "quotaExceeded"}]}})


class DefaultsTest(unittest.TestCase):
    def test_url_and_token_from_the_environment(self) -> None:
        with mock.patch.dict(os.environ, {"QUOTAD_SERVER": "http://10.1.2.3:9000/api/v1/", "QUOTAD_TOKEN": "t0k"}):
            c = quotad.Client()
        self.assertEqual(c.url, "http://10.1.2.3:9000")
        self.assertEqual(c.token, "t0k")

    def test_default_url_without_environment(self) -> None:
        with mock.patch.dict(os.environ, {"QUOTAD_SERVER": "", "QUOTAD_TOKEN": ""}):
            c = quotad.Client()
        self.assertEqual(c.url, "http://127.0.0.1:8080")
        self.assertEqual(c.token, "")

    def test_arguments_win_over_the_environment(self) -> None:
        with mock.patch.dict(os.environ, {"QUOTAD_SERVER": "http://10.1.2.3:9000", "QUOTAD_TOKEN": "env"}):
            c = quotad.Client("http://127.0.0.1:1234", token="arg")
        self.assertEqual((c.url, c.token), ("http://127.0.0.1:1234", "arg"))

    def test_bad_url(self) -> None:
        with self.assertRaisesRegex(ValueError, "must look like http://127.0.0.1:8080"):
            quotad.Client("127.0.0.1:8080")


class ReadsTest(DaemonTest):
    def test_status(self) -> None:
        st = self.q.status()
        self.assertEqual(sorted(a["name"] for a in st["apis"]), ["groq", "pexels", "youtube"])
        self.assertEqual(sorted(c["name"] for c in st["channels"]), ["Manual", "Photos", "RankRiot", "Shorts"])

    def test_apis_and_api(self) -> None:
        self.assertEqual(sorted(a["name"] for a in self.q.apis()), ["groq", "pexels", "youtube"])
        yt = self.q.api("youtube")
        self.assertEqual(yt["windows"][0]["limit"], 10000)
        self.assertTrue(yt["available"])

    def test_channels_and_channel(self) -> None:
        self.assertIn("RankRiot", [c["name"] for c in self.q.channels()])
        rr = self.q.channel("RankRiot")
        self.assertEqual(rr["apis"], ["groq", "youtube"])
        self.assertTrue(rr["active"])

    def test_not_found(self) -> None:
        with self.assertRaises(quotad.NotFound) as cm:
            self.q.api("nope")
        self.assertEqual((cm.exception.status, cm.exception.code), (404, "unknown_api"))
        with self.assertRaises(quotad.NotFound) as cm:
            self.q.channel("Nobody")
        self.assertEqual(cm.exception.code, "unknown_channel")
        with self.assertRaises(quotad.NotFound) as cm:
            self.q.commit("0123456789abcdef", 5)
        self.assertEqual(cm.exception.code, "unknown_reservation")
        self.assertIsInstance(cm.exception, quotad.QuotadError)

    def test_logs(self) -> None:
        self.q.pause("Shorts", reason="first")
        self.q.resume("Shorts")
        self.q.pause("Shorts", reason="second")
        page = self.q.logs(channel="Shorts", limit=1)
        self.assertEqual(len(page["events"]), 1)
        self.assertIn("second", page["events"][0]["message"])
        older = self.q.logs(channel="Shorts", limit=1, before=page["next_before"])
        self.assertLess(older["events"][0]["id"], page["events"][0]["id"])
        pauses = self.q.logs(category="%pause%", level="WARNING", limit=1000)
        self.assertTrue(all(e["level"] == "WARNING" for e in pauses["events"]))
        self.assertTrue(any("second" in e["message"] for e in pauses["events"]))

    def test_usage(self) -> None:
        until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=2)
        before = self.q.usage(api="pexels", channel="Photos", by="minute", since="1h", until=until)
        self.q.spend("pexels", 3, channel="Photos")
        after = self.q.usage(api="pexels", channel="Photos", by="minute", since="1h", until=until)
        total = lambda u: sum(p["units"] for p in u["points"])  # noqa: E731
        self.assertEqual(after["by"], "minute")
        self.assertEqual(total(after) - total(before), 3)
        self.assertTrue(all(p["api"] == "pexels" and p["channel"] == "Photos" for p in after["points"]))
        with self.assertRaises(quotad.InvalidRequest):
            self.q.usage(by="week")

    def test_schedule_and_classify(self) -> None:
        self.assertEqual(self.q.schedule("daily 00:00 UTC", from_="2026-03-07T00:00:00Z", n=2),
                         ["2026-03-08T00:00:00Z", "2026-03-09T00:00:00Z"])
        v = self.q.classify(api="youtube", status=403, message=YOUTUBE_QUOTA_BODY)
        self.assertTrue(v["quota"])
        self.assertTrue(self.q.api("youtube")["available"], "classify changed nothing")

    def test_ready(self) -> None:
        self.assertTrue(self.q.ready())
        self.assertFalse(quotad.Client("http://127.0.0.1:1", retries=0).ready())


class SpendTest(DaemonTest):
    def test_spend(self) -> None:
        res = self.q.spend("youtube", 150, channel="RankRiot")
        self.assertEqual((res["api"], res["channel"], res["units"], res["exhausted"]), ("youtube", "RankRiot", 150, False))
        self.assertEqual(res["windows"][0]["remaining"], 9850)
        self.assertEqual(self.window("youtube")["used"], 150)
        self.q.spend("youtube", 1)  # no channel
        self.assertEqual(self.window("youtube")["used"], 151)

    def test_exhaustion_raises_quota_exhausted(self) -> None:
        res = self.q.spend("youtube", 10000, channel="Shorts")
        self.assertTrue(res["exhausted"])
        w = self.window("youtube")
        with self.assertRaises(quotad.QuotaExhausted) as cm:
            self.q.spend("youtube", 1, channel="Shorts")
        e = cm.exception
        self.assertEqual((e.status, e.code, e.api, e.window), (429, "exhausted", "youtube", "daily"))
        self.assertIsInstance(e, quotad.QuotadError)
        self.assertEqual(e.until, quotad.errors.parse_time(w["next_reset"]))
        self.assertIsNotNone(e.retry_after)
        left = (e.until - dt.datetime.now(dt.timezone.utc)).total_seconds()
        self.assertGreater(e.retry_after, 0)
        self.assertLess(abs(e.retry_after - left), 5, (e.retry_after, left))
        self.assertIn("exhausted", str(e))
        self.assertEqual(self.window("youtube")["used"], 10000, "a refused spend counts nothing")

    def test_invalid(self) -> None:
        with self.assertRaises(quotad.InvalidRequest) as cm:
            self.q.spend("youtube", -5)
        self.assertEqual((cm.exception.status, cm.exception.code), (400, "invalid"))
        self.assertIsInstance(cm.exception, ValueError)
        self.assertEqual(self.window("youtube")["used"], 0)

    def test_unauthorized(self) -> None:
        for token in ["wrong", ""]:
            with self.subTest(token=token):
                with quotad.Client(token=token) as c, self.assertRaises(quotad.Unauthorized) as cm:
                    c.spend("youtube", 5)
                self.assertEqual(cm.exception.status, 401)
        self.assertEqual(self.window("youtube")["used"], 0)


class ReserveTest(DaemonTest):
    def test_commits_what_was_used(self) -> None:
        with self.q.reserve("groq", 2000, channel="RankRiot", ttl="10m") as r:
            self.assertEqual(r.units, 2000)
            self.assertEqual(self.window("groq")["reserved"], 2000)
            r.used = 1730
        self.assertTrue(r.done)
        self.assertEqual(r.result["units"], 1730)
        w = self.window("groq")
        self.assertEqual((w["used"], w["reserved"]), (1730, 0))

    def test_commits_everything_reserved_when_used_is_not_set(self) -> None:
        with self.q.reserve("groq", 500, channel="RankRiot"):
            pass
        w = self.window("groq")
        self.assertEqual((w["used"], w["reserved"]), (500, 0))

    def test_releases_on_an_exception(self) -> None:
        with self.assertRaisesRegex(RuntimeError, "provider down"):
            with self.q.reserve("groq", 2000, channel="RankRiot") as r:
                r.used = 100
                raise RuntimeError("provider down")
        w = self.window("groq")
        self.assertEqual((w["used"], w["reserved"]), (0, 0))

    def test_explicit_commit_and_release(self) -> None:
        r = self.q.reserve("groq", 300, ttl=60)
        expires = quotad.errors.parse_time(r.expires_at)
        self.assertLess(abs((expires - dt.datetime.now(dt.timezone.utc)).total_seconds() - 60), 10)
        r.commit(0)
        r2 = self.q.reserve("groq", 300)
        r2.release()
        w = self.window("groq")
        self.assertEqual((w["used"], w["reserved"]), (0, 0))

    def test_refused_when_the_units_are_not_free(self) -> None:
        self.q.spend("groq", 99000)
        with self.assertRaises(quotad.QuotaExhausted) as cm:
            self.q.reserve("groq", 2000, channel="RankRiot")
        self.assertEqual(cm.exception.api, "groq")
        self.assertEqual(self.window("groq")["reserved"], 0)


class MutationsTest(DaemonTest):
    def test_report_error_quota(self) -> None:
        res = self.q.report_error(channel="Shorts", api="youtube", status=403,
                                  headers={"Content-Type": "application/json"}, message=YOUTUBE_QUOTA_BODY)
        self.assertTrue(res["verdict"]["quota"])
        self.assertEqual(res["verdict"]["api"], "youtube")
        self.assertTrue(res["api_exhausted"])
        self.assertEqual(sorted(res["paused"]), ["RankRiot", "Shorts"])
        self.assertFalse(self.q.api("youtube")["available"])
        self.assertEqual(self.reasons("Shorts"), ["quota:youtube"])

    def test_report_error_other_and_success(self) -> None:
        res = self.q.report_error(channel="Shorts", message="ffmpeg exited with status 1")
        self.assertFalse(res["verdict"]["quota"])
        self.assertEqual(res["consecutive_errors"], 1)
        self.assertEqual(self.channel("Shorts")["consecutive_errors"], 1)
        ch = self.q.report_success("Shorts")
        self.assertEqual(ch["consecutive_errors"], 0)
        self.assertTrue(ch["active"])

    def test_pause_and_resume(self) -> None:
        ch = self.q.pause("Shorts", reason="re-recording the intro")
        self.assertFalse(ch["active"])
        self.assertEqual(ch["pause_reasons"][0]["reason"], "manual")
        self.assertEqual(ch["pause_reasons"][0]["detail"], "re-recording the intro")
        self.assertEqual(self.q.resume("Shorts"), {"resumed": ["Shorts"], "already_active": []})
        self.q.pause("Shorts")
        self.q.pause("Photos")
        res = self.q.resume(channels=["Shorts", "Photos", "RankRiot"])
        self.assertEqual(sorted(res["resumed"]), ["Photos", "Shorts"])
        self.assertEqual(res["already_active"], ["RankRiot"])
        self.q.pause("Manual")
        self.assertEqual(self.q.resume()["resumed"], [], "resume() leaves manual pauses")
        self.assertEqual(self.q.resume(all=True)["resumed"], ["Manual"])

    def test_reset(self) -> None:
        self.q.spend("youtube", 10000, channel="Shorts")
        self.q.spend("groq", 10)
        self.assertEqual(self.reasons("Shorts"), ["quota:youtube"])
        res = self.q.reset("youtube")
        self.assertEqual(res["apis"], ["youtube"])
        self.assertEqual(sorted(res["resumed"]), ["RankRiot", "Shorts"])
        self.assertEqual(self.window("youtube")["used"], 0)
        self.assertEqual(self.window("groq")["used"], 10)
        self.q.spend("youtube", 5)
        self.assertEqual(sorted(self.q.reset(apis=["groq", "youtube"])["apis"]), ["groq", "youtube"])
        self.assertEqual((self.window("groq")["used"], self.window("youtube")["used"]), (0, 0))
        self.q.spend("pexels", 5)
        self.assertEqual(sorted(self.q.reset()["apis"]), ["groq", "pexels", "youtube"])
        self.assertEqual(self.window("pexels")["used"], 0)
        with self.assertRaises(quotad.NotFound):
            self.q.reset("nope")


if __name__ == "__main__":
    unittest.main()
