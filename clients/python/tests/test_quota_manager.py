"""quotad.quota_manager: the seed's functions against a real exhausted and paused daemon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest

import fakes
import quotad
from quotad import quota_manager
from quotad.quota_manager import (auto_resume_paused_channels, binding_window, get_quota_status_summary,
                                  handle_api_error, reset_all_quotas, reset_quota)
from support import DaemonTest

SEED_COLUMNS = ["quota_limit", "quota_used", "quota_remaining", "is_exhausted", "exhausted_at", "last_reset",
                "next_reset"]


class QuotaManagerTest(DaemonTest):
    def setUp(self) -> None:
        super().setUp()
        quota_manager.set_client(self.q)
        self.addCleanup(quota_manager.set_client, None)

    def exhaust(self, api: str, channel: str) -> None:
        body = {"groq": fakes.GROQ_TPD_BODY, "youtube": fakes.YOUTUBE_QUOTA_BODY.decode(),
                "pexels": "Rate limit exceeded"}[api]
        res = self.q.report_error(channel=channel, api=api, status=429 if api != "youtube" else 403, message=body)
        self.assertTrue(res["verdict"]["quota"], res)

    def test_status_summary_has_the_seeds_columns(self) -> None:
        self.q.spend("youtube", 150, channel="RankRiot")
        s = get_quota_status_summary()
        self.assertEqual(sorted(s), ["groq", "pexels", "youtube"])
        yt = s["youtube"]
        for col in SEED_COLUMNS + ["windows"]:
            self.assertIn(col, yt)
        self.assertEqual((yt["quota_limit"], yt["quota_used"], yt["quota_remaining"], yt["is_exhausted"]),
                         (10000, 150, 9850, False))
        self.assertIsNone(yt["exhausted_at"])
        self.assertEqual(yt["next_reset"], self.window("youtube")["next_reset"])
        self.assertEqual(len(yt["windows"]), 1)
        json.dumps(s, indent=2)  # the seed's troubleshooting one-liner prints it

    def test_status_summary_binding_window(self) -> None:
        self.q.spend("pexels", 90)  # daily 10/100 left, monthly 910/1000
        p = get_quota_status_summary()["pexels"]
        self.assertEqual((p["window"], p["quota_limit"], p["quota_remaining"]), ("daily", 100, 10))
        self.assertEqual(sorted(w["name"] for w in p["windows"]), ["daily", "monthly"])
        self.exhaust("youtube", "Shorts")
        yt = get_quota_status_summary()["youtube"]
        self.assertTrue(yt["is_exhausted"])
        self.assertIsNotNone(yt["exhausted_at"])

    def test_binding_window_rules(self) -> None:
        a = {"name": "a", "limit": 100, "remaining": 50, "exhausted": False, "next_reset": "2026-01-02T00:00:00Z"}
        b = {"name": "b", "limit": 1000, "remaining": 100, "exhausted": False, "next_reset": "2026-02-01T00:00:00Z"}
        self.assertEqual(binding_window([a, b])["name"], "b", "the smallest share left")
        ea = dict(a, exhausted=True, blocked_until=None)
        eb = dict(b, exhausted=True, blocked_until="2026-01-01T00:07:00Z")
        self.assertEqual(binding_window([ea, eb])["name"], "a", "the exhausted window whose block ends last")
        self.assertEqual(binding_window([a, eb])["name"], "b")
        self.assertIsNone(binding_window([]))

    def test_reset_quota(self) -> None:
        self.exhaust("youtube", "Shorts")
        self.assertEqual(self.reasons("Shorts"), ["quota:youtube"])
        res = reset_quota("youtube")
        self.assertEqual(res["apis"], ["youtube"])
        self.assertEqual(sorted(res["resumed"]), ["RankRiot", "Shorts"])
        self.assertTrue(self.q.api("youtube")["available"])
        self.assertTrue(self.channel("Shorts")["active"])
        with self.assertRaises(quotad.NotFound):
            reset_quota("nope")

    def test_reset_all_quotas(self) -> None:
        self.exhaust("youtube", "Shorts")
        self.exhaust("groq", "RankRiot")
        self.q.spend("pexels", 7)
        res = reset_all_quotas()
        self.assertEqual(sorted(res["apis"]), ["groq", "pexels", "youtube"])
        s = get_quota_status_summary()
        self.assertFalse(any(v["is_exhausted"] for v in s.values()))
        self.assertEqual(s["pexels"]["quota_used"], 0)
        self.assertTrue(self.channel("RankRiot")["active"])

    def test_auto_resume_paused_channels(self) -> None:
        # Photos waits on pexels, whose auto_resume is off: a reset leaves it paused.
        self.exhaust("pexels", "Photos")
        self.assertEqual(reset_quota("pexels")["resumed"], [])
        self.assertEqual(self.reasons("Photos"), ["quota:pexels"])
        # Shorts and RankRiot wait on youtube, still exhausted; Manual was paused by a person.
        self.exhaust("youtube", "Shorts")
        self.q.pause("Manual", reason="on holiday")
        self.assertEqual(auto_resume_paused_channels(), ["Photos"])
        self.assertTrue(self.channel("Photos")["active"])
        self.assertEqual(self.reasons("Shorts"), ["quota:youtube"], "its API is still exhausted")
        self.assertEqual(self.reasons("Manual"), ["manual"], "a manual pause is never lifted")
        self.assertEqual(auto_resume_paused_channels(), [], "nothing left to resume")
        # A channel paused by a person and for a quota stays paused once the quota is back.
        self.q.pause("Shorts")
        self.q.reset("youtube")
        self.assertEqual(auto_resume_paused_channels(), [])
        self.assertEqual(self.reasons("Shorts"), ["manual"])

    def test_handle_api_error(self) -> None:
        self.assertTrue(handle_api_error(fakes.groq_rate_limit_error(), "RankRiot"))
        self.assertEqual(self.reasons("RankRiot"), ["quota:groq"])
        self.assertFalse(handle_api_error(RuntimeError("ffmpeg exited with status 1"), "Shorts"))
        self.assertEqual(self.channel("Shorts")["consecutive_errors"], 1)
        self.assertTrue(self.channel("Shorts")["active"])
        err, _ = fakes.google_http_error()
        self.assertTrue(handle_api_error(err, "Shorts"))
        self.assertEqual(self.reasons("Shorts"), ["quota:youtube"])

    def test_handle_api_error_text(self) -> None:
        self.assertTrue(handle_api_error("Pexels API: 429 Too Many Requests - rate limit exceeded", "Photos",
                                         api="pexels"))
        self.assertEqual(self.reasons("Photos"), ["quota:pexels"])

    def test_seed_one_liner(self) -> None:
        """The seed's troubleshooting command, with the module path changed, run as a person would."""
        code = ("from quotad.quota_manager import get_quota_status_summary; import json; "
                "print(json.dumps(get_quota_status_summary(), indent=2))")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                             timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(json.loads(out.stdout)["youtube"]["quota_limit"], 10000)


class DefaultClientTest(unittest.TestCase):
    def test_client_from_the_environment(self) -> None:
        quota_manager.set_client(None)
        self.addCleanup(quota_manager.set_client, None)
        c = quota_manager.get_client()
        self.assertIs(quota_manager.get_client(), c)
        self.assertEqual(c.url, quotad.Client().url)


if __name__ == "__main__":
    unittest.main()
