"""Start-up work that only uses idle processor time: the SCHED_IDLE policy, set for one thread only."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from tools.plans import checkov_scan
from tools.scheduling import set_policy

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_IDLE is Linux's")


def policy_of(thread_id: int = 0) -> str | None:
    """The name of the scheduling policy of ``thread_id`` (0: the calling thread)."""
    current = os.sched_getscheduler(thread_id)
    return next((name for name in ("SCHED_OTHER", "SCHED_BATCH", "SCHED_IDLE", "SCHED_FIFO", "SCHED_RR")
                 if getattr(os, name, None) == current), None)


def policy_seen_on_a_thread(*names: str) -> list[str | None]:
    seen: list[str | None] = []

    def run() -> None:
        for name in names:
            set_policy(name)
            seen.append(policy_of())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen


def test_a_thread_set_idle_runs_idle_and_the_others_keep_theirs() -> None:
    assert policy_seen_on_a_thread("SCHED_IDLE") == ["SCHED_IDLE"]
    assert policy_of() == "SCHED_OTHER"


def test_an_unknown_policy_is_refused_and_changes_nothing() -> None:
    assert set_policy("SCHED_NONSENSE") is False
    assert policy_of() == "SCHED_OTHER"


def test_the_checkov_worker_waits_for_its_files_in_idle_time() -> None:
    worker = checkov_scan.start_checkov()
    try:
        deadline = time.monotonic() + 30
        while policy_of(worker.pid) != "SCHED_IDLE" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert policy_of(worker.pid) == "SCHED_IDLE"
    finally:
        checkov_scan.stop_checkov(worker)
