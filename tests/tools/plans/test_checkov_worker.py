"""What `make plan` starts before the synthesis, so that their start-up overlaps the synthesis and the plan
instead of following them: the checkov worker (checkov's start is most of its run) and, offline, the stand-in
server of AWS's public parameters (moto's import)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from tools.plans import checkov_scan, plan, public_parameters

CKV_SQS_ENCRYPTED = "CKV_AWS_27"  # "Ensure all data stored in the SQS queue is encrypted"


def queue_plan(encrypted: bool) -> dict[str, Any]:
    """The smallest plan JSON checkov reads: one queue, with or without SQS-managed encryption."""
    values = {"name": "work", "sqs_managed_sse_enabled": encrypted, "kms_master_key_id": None}
    resource = {"address": "aws_sqs_queue.work", "mode": "managed", "type": "aws_sqs_queue", "name": "work",
                "provider_name": "registry.terraform.io/hashicorp/aws"}
    return {
        "format_version": "1.2", "terraform_version": "1.11.0",
        "planned_values": {"root_module": {"resources": [{**resource, "values": values}]}},
        "resource_changes": [{**resource, "change": {"actions": ["create"], "before": None, "after": values}}],
        "configuration": {"root_module": {"resources": [
            {key: resource[key] for key in ("address", "mode", "type", "name")}
            | {"expressions": {"name": {"constant_value": "work"}}}]}},
    }


def test_a_worker_started_before_the_plans_existed_scans_each_of_them(tmp_path: Path) -> None:
    worker = checkov_scan.start_checkov()
    plain, encrypted = tmp_path / "plain" / "plan.json", tmp_path / "encrypted" / "plan.json"
    for path, flag in ((plain, False), (encrypted, True)):
        path.parent.mkdir()
        path.write_text(json.dumps(queue_plan(flag)))
    scan = checkov_scan.PendingScan([plain, encrypted], worker)
    assert [failed[:2] for failed in scan.result(plain).failed] == [(CKV_SQS_ENCRYPTED, "aws_sqs_queue.work")]
    assert CKV_SQS_ENCRYPTED not in {failed[0] for failed in scan.result(encrypted).failed}
    assert scan.result(encrypted).passed >= 1


def test_a_worker_whose_input_ends_scans_nothing_and_exits_0() -> None:
    worker = checkov_scan.start_checkov()
    checkov_scan.needed_now(worker)
    stdout, _ = worker.communicate("")
    assert (worker.returncode, stdout) == (0, "")


def test_a_worker_given_no_argument_list_exits_2_saying_what_it_expected() -> None:
    worker = checkov_scan.start_checkov()
    checkov_scan.needed_now(worker)
    _, stderr = worker.communicate('{"file": "plan.json"}\n')
    assert worker.returncode == 2
    assert "expected a JSON list of arguments" in stderr


def test_a_worker_nobody_gives_files_to_is_stopped() -> None:
    worker = checkov_scan.start_checkov()
    checkov_scan.stop_checkov(worker)
    assert worker.poll() is not None


class FakeWorker:
    def __init__(self, events: list[str]) -> None:
        self.events = events
        self.returncode: int | None = None
        events.append("checkov worker started")

    def poll(self) -> int | None:
        return self.returncode


def plan_arguments(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    plan.configure(parser)
    return parser.parse_args(list(argv))


def fake_worker_and_synth(monkeypatch: pytest.MonkeyPatch, events: list[str]) -> None:
    def stop(worker: FakeWorker) -> None:
        worker.returncode = -9
        events.append("checkov worker stopped")

    def synth_fails(envs: list[str]) -> dict[str, Path]:
        events.append("synthesis")
        raise plan.PlanError("main.py failed")

    monkeypatch.setattr(checkov_scan, "start_checkov", lambda: FakeWorker(events))
    monkeypatch.setattr(public_parameters, "start_early", lambda: events.append("stand-in server started"))
    monkeypatch.setattr(checkov_scan, "stop_checkov", stop)
    monkeypatch.setattr(plan, "synthesize_stacks", synth_fails)


def test_make_plan_starts_checkov_before_the_synthesis_and_stops_it_when_no_review_comes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    fake_worker_and_synth(monkeypatch, events)
    assert plan.plan_and_review(plan_arguments("--env", "prod", "--offline")) == 3
    assert events == ["checkov worker started", "stand-in server started", "synthesis", "checkov worker stopped"]


def test_make_plan_starts_no_checkov_when_told_to_skip_it(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    fake_worker_and_synth(monkeypatch, events)
    assert plan.plan_and_review(plan_arguments("--env", "prod", "--offline", "--skip-checkov")) == 3
    assert events == ["stand-in server started", "synthesis"]


def test_a_plan_against_aws_starts_no_stand_in_server(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    fake_worker_and_synth(monkeypatch, events)
    monkeypatch.setattr(plan, "require_credentials", lambda stack: events.append(f"credentials of {stack}"))
    assert plan.plan_and_review(plan_arguments("--env", "prod")) == 3
    assert "stand-in server started" not in events and "synthesis" in events
