"""Start-up work that only uses idle processor time: the SCHED_IDLE policy, set for one thread only."""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path

import pytest

from tests.tools.plans.test_checkov_worker import queue_plan
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
        assert policy_of(worker.pid) == "SCHED_IDLE", "set by the parent, before the worker runs any further"
    finally:
        checkov_scan.stop_checkov(worker)
    assert worker.poll() is not None


def test_a_worker_handed_its_files_gets_the_normal_policy_at_once(tmp_path: Path) -> None:
    # Still importing idle when the review waits for it, it would get only the time a busy machine leaves idle.
    # Leaving SCHED_IDLE takes CAP_SYS_NICE or an RLIMIT_NICE above 0 (sched(7)): elsewhere it stays as it was.
    if policy_seen_on_a_thread("SCHED_IDLE", "SCHED_OTHER")[-1] != "SCHED_OTHER":
        pytest.skip("this process may not leave SCHED_IDLE (no CAP_SYS_NICE, RLIMIT_NICE 0)")
    worker = checkov_scan.start_checkov()
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(json.dumps(queue_plan(encrypted=True)))
    scan = checkov_scan.PendingScan([plan_json], worker)
    try:
        assert policy_of(worker.pid) == "SCHED_OTHER"
    finally:
        scan.close()


def test_a_scan_that_starts_its_own_worker_never_runs_it_idle(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []
    start = checkov_scan.start_checkov
    monkeypatch.setattr(checkov_scan, "start_checkov", lambda *, idle=True: started.append(idle) or start(idle=idle))
    plan_json = tmp_path / "plan.json"
    plan_json.write_text(json.dumps(queue_plan(encrypted=True)))
    scan = checkov_scan.PendingScan([plan_json])
    try:
        assert started == [False] and policy_of(scan._process.pid) == "SCHED_OTHER"
    finally:
        scan.close()


def test_the_policy_of_a_process_that_has_ended_is_left_alone() -> None:
    worker = checkov_scan.start_checkov()
    checkov_scan.stop_checkov(worker)
    assert set_policy("SCHED_OTHER", worker.pid) is False
