"""What the client parses from outside (answers, times, foreign exceptions) never breaks it: random inputs."""

from __future__ import annotations

import datetime as dt
import json
import random
import unittest

import quotad
from quotad.errors import error_from_answer, parse_time
from quotad.guard import describe_error

SEEDS = [b"", b"{", b"null", b"[]", b'{"error": null}', b'{"error": {"code": 5, "message": ["x"]}}',
         b'{"error": {"code": "exhausted", "until": "2026-13-45T99:00:00Z"}}', b"\xff\xfe",
         json.dumps({"error": {"code": "exhausted", "api": "groq", "until": "2026-01-01T00:00:00.123456789Z"}}).encode()]


def mutate(rng: random.Random, b: bytes) -> bytes:
    out = bytearray(b)
    for _ in range(rng.randint(0, 4)):
        op = rng.randint(0, 2)
        if op == 0 and out:
            del out[rng.randrange(len(out))]
        elif op == 1:
            out.insert(rng.randint(0, len(out)), rng.randrange(256))
        elif out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


class ParsingTest(unittest.TestCase):
    def test_error_answers(self) -> None:
        rng = random.Random(15)
        for i in range(5000):
            raw = mutate(rng, rng.choice(SEEDS))
            status = rng.choice([400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 599])
            headers = {"retry-after": rng.choice(["", "0", "17", "-3", "1e9", "Wed, 21 Oct 2015 07:28:00 GMT", "\u0661", "\u00b2"])}
            err = error_from_answer(status, "Reason", raw, headers)
            self.assertIsInstance(err, quotad.QuotadError, raw)
            self.assertTrue(str(err))
            if isinstance(err, quotad.QuotaExhausted):
                self.assertTrue(err.retry_after is None or err.retry_after >= 0, (raw, headers))

    def test_hold_kind(self) -> None:
        body = {"error": {"code": "exhausted", "message": "youtube: held by quotad: channel Norm's budget of youtube",
                          "api": "youtube", "window": "daily", "until": "2026-01-12T08:00:00Z", "kind": "budget", "channel": "Norm"}}
        err = error_from_answer(429, "Too Many Requests", json.dumps(body).encode(), {"retry-after": "60"})
        self.assertIsInstance(err, quotad.QuotaExhausted)
        self.assertEqual((err.kind, err.channel, err.api, err.channel_level), ("budget", "Norm", "youtube", True))
        err = error_from_answer(429, "Too Many Requests", b'{"error": {"code": "exhausted", "api": "groq"}}', {})
        self.assertEqual((err.kind, err.channel_level), ("window", False))

    def test_times(self) -> None:
        self.assertEqual(parse_time("2026-11-27T00:25:45.947988959Z"),
                         dt.datetime(2026, 11, 27, 0, 25, 45, 947988, tzinfo=dt.timezone.utc))
        self.assertEqual(parse_time("2026-01-11 12:30:45"), dt.datetime(2026, 1, 11, 12, 30, 45, tzinfo=dt.timezone.utc))
        self.assertEqual(parse_time("2026-03-08T02:30:00-08:00").utcoffset(), dt.timedelta(hours=-8))
        for bad in ["", "tomorrow", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z", "2026-01-01T00:00:00+25:00"]:
            self.assertIsNone(parse_time(bad), bad)
        rng = random.Random(16)
        for _ in range(5000):
            s = mutate(rng, b"2026-11-27T00:25:45.947988959Z").decode("latin-1")
            t = parse_time(s)
            self.assertTrue(t is None or t.tzinfo is not None, s)

    def test_foreign_exceptions(self) -> None:
        class Weird(Exception):
            status_code = "429"          # not an int: not taken for openai's
            response = object()          # no status_code, no text
            resp = None

            def __str__(self) -> str:
                return ""

        class Broken(Exception):
            status_code = 500

            @property
            def response(self) -> object:
                class R:
                    headers = 42         # not a mapping

                    @property
                    def text(self) -> str:
                        raise RuntimeError("stream not read")
                return R()

        class Hostile(Exception):  # as Python 3.9's urllib HTTPError without a body: KeyError for any name
            def __getattr__(self, name: str) -> object:
                raise KeyError(name)

            def __str__(self) -> str:
                raise RuntimeError("no text either")

        for err in [Weird(), Broken(), Hostile(), Exception("x" * 10), ValueError()]:
            d = describe_error(err)
            self.assertTrue(d["message"])
            self.assertTrue(d["status"] is None or isinstance(d["status"], int))
        self.assertEqual(describe_error(Broken())["status"], 500)

        class OddStatus(Exception):
            status_code = 42
        self.assertIsNone(describe_error(OddStatus("x"))["status"], "not an HTTP status")


if __name__ == "__main__":
    unittest.main()
