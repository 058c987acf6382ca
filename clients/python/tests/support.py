"""Shared set-up of the tests that need a running daemon.

They read QUOTAD_SERVER and QUOTAD_TOKEN (a daemon started with quotad.yaml of
this directory) and skip without them, unless QUOTAD_TEST_REQUIRE_SERVER=1 (the
Go test that runs them sets it), which makes a missing daemon a failure.
"""

from __future__ import annotations

import os
import unittest
from typing import Any, Dict

import quotad


def server_client() -> quotad.Client:
    """Returns a client of the test daemon, or skips the test when there is none."""
    if not os.environ.get("QUOTAD_SERVER"):
        msg = ("QUOTAD_SERVER is not set: start `quotad serve --config clients/python/tests/quotad.yaml` "
               "and set QUOTAD_SERVER and QUOTAD_TOKEN (docs/python.md)")
        if os.environ.get("QUOTAD_TEST_REQUIRE_SERVER") == "1":
            raise AssertionError(msg)
        raise unittest.SkipTest(msg)
    return quotad.Client()


class DaemonTest(unittest.TestCase):
    """A test against the daemon, starting from refilled APIs and active channels."""

    q: quotad.Client

    def setUp(self) -> None:
        self.q = server_client()
        self.addCleanup(self.q.close)
        self.q.reset()
        self.q.resume(all=True)
        for ch in self.q.channels():  # clear consecutive errors left by another test
            if ch["consecutive_errors"]:
                self.q.report_success(ch["name"])

    def window(self, api: str, name: str = "daily") -> Dict[str, Any]:
        """Returns one window of an API as the daemon has it now."""
        for w in self.q.api(api)["windows"]:
            if w["name"] == name:
                return w
        raise AssertionError(f"{api} has no window {name}")

    def channel(self, name: str) -> Dict[str, Any]:
        return self.q.channel(name)

    def reasons(self, name: str) -> list:
        return sorted(p["reason"] for p in self.q.channel(name)["pause_reasons"])
