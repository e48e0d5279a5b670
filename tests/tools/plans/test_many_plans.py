"""Several stacks in one command (`plan --env dev,staging,prod`): one synthesis, plans side by side, one checkov
process for every plan JSON, acknowledgements across the plans, and the worst exit code."""

from __future__ import annotations

import argparse
import io
import json
import threading
import time
from pathlib import Path

import pytest

from main import environments_file
from tools.local.progress import Progress
from tools.plans import checkov_scan, plan, review, timings
from tools.plans.layout import PlanFolder, environments_argument


def test_env_values_are_comma_lists_or_repeats_in_order_without_repeats() -> None:
    assert environments_argument(["dev,staging", "prod", "dev"]) == ["dev", "staging", "prod"]
    assert environments_argument([" prod "]) == ["prod"]


@pytest.mark.parametrize("values", [["dev,,prod"], [","], []])
def test_an_empty_environment_name_is_refused_with_an_example(values: list[str]) -> None:
    with pytest.raises(ValueError, match="give environment names, e.g. --env prod or --env dev,staging,prod"):
        environments_argument(values)


def test_three_shipped_environments_are_synthesized_by_one_run_selecting_them() -> None:
    variables = plan.synthesis_variables(["dev", "staging", "prod"], environments_file({}), {"PATH": "/bin"})
    assert variables == {"PATH": "/bin", "TAP_STACKS": "dev,staging,prod"}


def test_the_bootstrap_stack_comes_with_the_environment_previews_are_made_from() -> None:
    variables = plan.synthesis_variables(["state", "prod"], environments_file({}), {})
    assert variables["TAP_STACKS"] == "dev,prod"


def test_a_preview_sets_the_suffix_next_to_shipped_environments() -> None:
    variables = plan.synthesis_variables(["pr7", "prod"], environments_file({}), {})
    assert variables == {"TAP_STACKS": "dev,prod", "ENVIRONMENT_SUFFIX": "pr7"}


def test_two_previews_in_one_command_are_refused() -> None:
    with pytest.raises(plan.PlanError, match="previews pr7, pr8: one synthesis makes one preview"):
        plan.synthesis_variables(["pr7", "pr8"], environments_file({}), {})


def _args(**overrides: object) -> argparse.Namespace:
    values = {"env": ["dev,staging,prod"], "stack_dir": None, "offline": True, "state": None, "endpoint": None,
              "plans_dir": Path("/nonexistent"), "detailed_exitcode": False, "ack": [], "skip_checkov": True,
              "budget": None, "timings": False, "timings_json": None, "destroy": False}
    return argparse.Namespace(**{**values, **overrides})


def test_several_stacks_are_synthesized_once_and_planned_side_by_side(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    synthesized: list[list[str]] = []
    running, overlap = [0], [0]
    lock = threading.Lock()

    def fake_synthesize(envs: list[str]) -> dict[str, Path]:
        synthesized.append(list(envs))
        folders = {env: tmp_path / env for env in envs}
        for folder in folders.values():
            folder.mkdir()
            (folder / "cdk.tf.json").write_text("{}")
        return folders

    def fake_make_plan(stack_dir: Path, folder: PlanFolder, **_: object) -> dict:
        with lock:
            running[0] += 1
            overlap[0] = max(overlap[0], running[0])
        time.sleep(0.3)
        with lock:
            running[0] -= 1
        return {"resource_changes": [], "stack": folder.root.name}

    reviewed: list[tuple[list[str], list[str]]] = []

    def fake_review_folders(folders: list[PlanFolder], args: argparse.Namespace, plans: list[dict],
                            checkov_worker: object = None) -> list[int]:
        reviewed.append(([f.root.name for f in folders], [p["stack"] for p in plans]))
        return [0, 1, 0]

    monkeypatch.setattr(plan, "synthesize_stacks", fake_synthesize)
    monkeypatch.setattr(plan, "make_plan", fake_make_plan)
    monkeypatch.setattr(review, "review_folders", fake_review_folders)

    assert plan.run(_args(plans_dir=tmp_path / "plans")) == 1, "the worst review's code"
    assert synthesized == [["dev", "staging", "prod"]]
    assert overlap[0] == 3, "the three plans did not run at the same time"
    stacks = ["tap-pipeline-dev", "tap-pipeline-staging", "tap-pipeline-prod"]
    assert reviewed == [(stacks, stacks)], "each review got its own stack's plan"


def test_a_failed_plan_among_several_fails_the_command_after_all_have_finished(monkeypatch: pytest.MonkeyPatch,
                                                                                tmp_path: Path,
                                                                                capsys: pytest.CaptureFixture) -> None:
    finished: list[str] = []

    def fake_make_plan(stack_dir: Path, folder: PlanFolder, **_: object) -> dict:
        if folder.root.name == "tap-pipeline-staging":
            raise plan.PlanError("terraform plan failed for tap-pipeline-staging")
        time.sleep(0.2)
        finished.append(folder.root.name)
        return {}

    monkeypatch.setattr(plan, "synthesize_stacks", lambda envs: {e: _stack(tmp_path, e) for e in envs})
    monkeypatch.setattr(plan, "make_plan", fake_make_plan)
    assert plan.run(_args(plans_dir=tmp_path / "plans")) == 3
    assert "terraform plan failed for tap-pipeline-staging" in capsys.readouterr().err
    assert sorted(finished) == ["tap-pipeline-dev", "tap-pipeline-prod"]


def _stack(root: Path, env: str) -> Path:
    folder = root / env
    folder.mkdir(exist_ok=True)
    (folder / "cdk.tf.json").write_text("{}")
    return folder


@pytest.mark.parametrize("option", [{"stack_dir": Path("/tmp")}, {"state": Path("/tmp/state.json")}])
def test_one_stacks_options_with_several_environments_are_refused(option: dict, capsys: pytest.CaptureFixture) -> None:
    assert plan.run(_args(**option)) == 3
    assert "describe one stack: give one --env with them" in capsys.readouterr().err


# The review of several plans ------------------------------------------------------------------------------

def _review(stack: str, blocking: list[str]) -> review.Review:
    return review.Review(stack, "sha", [], False, [review.Finding(a, f"{a}: bad", "policy") for a in blocking],
                         [], [], "skipped")


def test_an_acknowledgement_applies_to_the_plans_it_blocks_in() -> None:
    reviews = [_review("dev", ["aws_sqs_queue.q"]), _review("prod", ["aws_sqs_queue.q", "aws_kms_key.k"])]
    codes: list[int | None] = [None, None]
    acknowledged = review.acknowledge_across(reviews, ["aws_sqs_queue.q"], codes)
    assert [r.acknowledged for r in acknowledged] == [["aws_sqs_queue.q"], ["aws_sqs_queue.q"]]
    assert [r.passed for r in acknowledged] == [True, False]
    assert codes == [None, None]


def test_an_acknowledgement_that_blocks_nowhere_refuses_every_review(capsys: pytest.CaptureFixture) -> None:
    reviews = [_review("dev", ["aws_sqs_queue.q"]), _review("prod", [])]
    codes: list[int | None] = [None, None]
    assert review.acknowledge_across(reviews, ["aws_sqs_queue.typo"], codes) == [None, None]
    assert codes == [3, 3]
    assert "acknowledged aws_sqs_queue.typo, but nothing blocks it in any plan" in capsys.readouterr().err


def test_the_reviews_share_one_checkov_process_started_before_the_policies(monkeypatch: pytest.MonkeyPatch,
                                                                           tmp_path: Path) -> None:
    started: list[list[Path]] = []
    order: list[str] = []

    class FakeScan:
        def __init__(self, plan_jsons: list[Path], process: object = None) -> None:
            started.append(list(plan_jsons))
            order.append("checkov started")

        def result(self, plan_json: Path) -> checkov_scan.CheckovResult:
            order.append(f"checkov read {plan_json.parent.name}")
            return checkov_scan.CheckovResult(80, ())

        def close(self) -> None:
            order.append("checkov closed")

    def fake_policies(plan_json: dict) -> object:
        order.append(f"policies {plan_json['stack']}")
        return type("Result", (), {"deny": (), "warn": ()})()

    monkeypatch.setattr(checkov_scan, "PendingScan", FakeScan)
    monkeypatch.setattr(review.policies, "evaluate", fake_policies)
    monkeypatch.setattr(review, "EXTRA_CHECKS", [])
    monkeypatch.setattr(review.cost_gate, "review_cost", lambda *a: review.cost_gate.CostReview.__new__(
        review.cost_gate.CostReview))
    monkeypatch.setattr(review.cost_gate.CostReview, "findings", [], raising=False)
    folders = []
    for name in ("tap-pipeline-dev", "tap-pipeline-prod"):
        folder = PlanFolder(tmp_path / name)
        folder.workdir.mkdir(parents=True)
        folder.plan_file.write_bytes(b"plan")
        folders.append(folder)
    args = argparse.Namespace(ack=[], skip_checkov=False, budget=None)
    monkeypatch.setattr(review, "write_review", lambda folder, r: None)
    monkeypatch.setattr(review.report, "terminal", lambda r: r.stack)

    codes = review.review_folders(folders, args, [{"stack": "dev"}, {"stack": "prod"}])

    assert codes == [0, 0]
    assert started == [[f.plan_json for f in folders]], "one checkov process for both plans"
    assert order[:2] == ["checkov started", "policies dev"], order
    assert order[-1] == "checkov closed"


# checkov's report of several files --------------------------------------------------------------------------

def _check(path: Path, check_id: str, resource: str) -> dict:
    return {"check_id": check_id, "check_name": f"{check_id} name", "resource": resource,
            "file_abs_path": str(path)}


def _report(passed: list[dict], failed: list[dict], parsing_errors: int = 0) -> str:
    return json.dumps({"check_type": "terraform_plan", "results": {"passed_checks": passed, "failed_checks": failed},
                       "summary": {"passed": len(passed), "failed": len(failed), "parsing_errors": parsing_errors}})


def test_one_report_is_split_by_file() -> None:
    dev, prod = Path("/plans/dev/plan.json"), Path("/plans/prod/plan.json")
    stdout = _report([_check(dev, "CKV_AWS_1", "a.b"), _check(prod, "CKV_AWS_1", "a.b"),
                      _check(prod, "CKV_AWS_2", "a.c")], [_check(dev, "CKV_AWS_3", "q.r")])
    results = checkov_scan.results_by_file(1, stdout, "", [dev, prod])
    assert results[dev] == checkov_scan.CheckovResult(1, (("CKV_AWS_3", "q.r", "CKV_AWS_3 name"),))
    assert results[prod] == checkov_scan.CheckovResult(2, ())


def test_a_file_no_check_ran_on_is_an_error_although_another_passed() -> None:
    dev, prod = Path("/plans/dev/plan.json"), Path("/plans/prod/plan.json")
    with pytest.raises(checkov_scan.CheckovError, match="ran no check on /plans/prod/plan.json"):
        checkov_scan.results_by_file(0, _report([_check(dev, "CKV_AWS_1", "a.b")], []), "", [dev, prod])


def test_a_parsing_error_or_a_crash_is_an_error() -> None:
    dev = Path("/plans/dev/plan.json")
    with pytest.raises(checkov_scan.CheckovError, match="did not parse"):
        checkov_scan.results_by_file(0, _report([_check(dev, "CKV_AWS_1", "a.b")], [], parsing_errors=1), "", [dev])
    with pytest.raises(checkov_scan.CheckovError, match="crashed \\(exit 2\\): Traceback"):
        checkov_scan.results_by_file(2, "", "Traceback", [dev])


# --timings ----------------------------------------------------------------------------------------------------

def test_timings_add_up_per_phase_and_stack_and_refuse_unknown_phases() -> None:
    recorded = [timings.Timing("dev", "plan", 2.0), timings.Timing("prod", "plan", 3.0),
                timings.Timing("dev", "plan", 1.0), timings.Timing("all", "synth", 9.0)]
    assert timings.totals(recorded) == {"synth": {"all": 9.0}, "plan": {"dev": 3.0, "prod": 3.0}}
    assert "wall time 12.5 s" in timings.render(recorded, 12.5)
    with pytest.raises(ValueError, match="unknown phase 'sleep'"), timings.phase("dev", "sleep"):
        pass


def test_each_phase_of_several_plans_names_its_stack_and_one_plan_needs_no_name(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan, "make_plan", lambda stack_dir, folder, *, step, **_: step("terraform plan") or {})

    def phases(envs: list[str]) -> list[str]:
        out = io.StringIO()
        stacks = {env: (tmp_path, PlanFolder.for_stack(f"tap-pipeline-{env}", tmp_path / "plans")) for env in envs}
        plan.plan_side_by_side(stacks, offline_mode=True, state=None, endpoints=None, emulators={},
                               progress=Progress(out))
        return sorted(line.split("] ", 1)[1] for line in out.getvalue().splitlines())

    assert phases(["dev", "prod"]) == ["tap-pipeline-dev: terraform plan", "tap-pipeline-prod: terraform plan"]
    assert phases(["prod"]) == ["terraform plan"]
