"""The GitHub Actions workflows: valid against GitHub's schema, and wired the reviewed way."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.artifact import step
from tools.plans.layout import NOT_IN_ARTIFACT

PROJECT_ROOT = Path(__file__).resolve().parents[3]
WORKFLOWS = sorted((PROJECT_ROOT / ".github" / "workflows").glob("*.yml"))
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def validate(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", *map(str, files)],
                          capture_output=True, text=True, check=False)


def load(name: str) -> dict:
    return yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / name).read_text())


def test_workflows_match_githubs_schema() -> None:
    assert [w.name for w in WORKFLOWS] == ["apply.yml", "drift.yml", "plan-review.yml"]
    result = validate(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    shutil.copyfile(WORKFLOWS[0], broken)
    broken.write_text(broken.read_text().replace("runs-on:", "run-on:", 1))
    assert validate(broken).returncode == 1


def test_apply_runs_the_reviewed_artifact_behind_an_approval() -> None:
    apply = load("apply.yml")
    job = apply["jobs"]["apply"]
    assert apply["permissions"]["id-token"] == "write"  # OIDC, no stored keys
    assert job["environment"] == "${{ matrix.env }}" and job["needs"] == "plan"
    assert job["concurrency"]["group"] == "deploy-${{ matrix.env }}"
    runs = [s.get("run", "") for s in job["steps"]]
    assert "make apply ENV=${{ matrix.env }}" in runs and not any("make plan" in r for r in runs)
    uses = [s.get("uses", "") for s in job["steps"]]
    assert "actions/download-artifact@v4" in uses and "aws-actions/configure-aws-credentials@v4" in uses
    assert not any("AWS_SECRET_ACCESS_KEY" in str(step) for step in job["steps"])


def test_pull_requests_post_the_review_and_drift_uses_detailed_exitcode() -> None:
    steps = load("plan-review.yml")["jobs"]["plan"]["steps"]
    assert any("gh pr comment" in s.get("run", "") and "review.md" in s.get("run", "") for s in steps)
    drift = load("drift.yml")
    assert "schedule" in drift[True]  # YAML 1.1 reads the key `on` as True
    assert any("--detailed-exitcode" in s.get("run", "") for s in drift["jobs"]["drift"]["steps"])


def concurrency_groups(workflow: dict) -> set[str]:
    groups = {workflow.get("concurrency", {}).get("group")}
    groups |= {job.get("concurrency", {}).get("group") for job in workflow["jobs"].values()}
    return groups - {None}


def test_drift_never_shares_a_concurrency_group_with_the_deploys() -> None:
    """GitHub cancels the pending job of a group when another one joins it: a scheduled drift run in apply's
    group would cancel a deploy that waits for its approval."""
    drift = load("drift.yml")["jobs"]["drift"]["concurrency"]
    assert drift == {"group": "drift-${{ matrix.env }}", "cancel-in-progress": False}
    deploys = concurrency_groups(load("apply.yml")) | concurrency_groups(load("plan-review.yml"))
    assert deploys and not concurrency_groups(load("drift.yml")) & deploys


def test_a_blocked_review_is_posted_and_then_fails_the_pull_request() -> None:
    # `make plan` exits 1 when the review blocks: the comment step must not depend on its success.
    steps = {s.get("id") or s.get("name"): s for s in load("plan-review.yml")["jobs"]["plan"]["steps"]}
    plan = steps["plan"]
    assert plan["run"].startswith("make plan ") and plan["continue-on-error"] is True
    [post] = [s for s in steps.values() if "gh pr comment" in s.get("run", "")]
    assert "steps.plan" not in post["if"]
    assert list(steps.values())[-1]["if"] == "steps.plan.outcome == 'failure'"


def test_the_plan_artifact_leaves_out_what_the_apply_installs_again_and_lands_where_apply_reads_it() -> None:
    """Excluded: exactly layout.NOT_IN_ARTIFACT (links into a plugin cache, providers a zip would break); the
    lock file is a hidden file, so hidden files must be uploaded. The e2e test applies such an artifact."""
    jobs = load("apply.yml")["jobs"]
    upload = step(jobs["plan"], "actions/upload-artifact")["with"]
    download = step(jobs["apply"], "actions/download-artifact")["with"]
    folder = ".plans/tap-pipeline-${{ matrix.env }}/"
    assert upload["path"].splitlines() == [folder, *(f"!{folder}{excluded}/" for excluded in NOT_IN_ARTIFACT)]
    assert upload["include-hidden-files"] is True and upload["name"] == download["name"]
    assert download["path"] == folder
    assert NOT_IN_ARTIFACT == ("work/.terraform",)


def test_the_apply_job_releases_after_the_reviewed_apply_and_fails_with_the_release() -> None:
    steps = load("apply.yml")["jobs"]["apply"]["steps"]
    runs = [s.get("run", "") for s in steps]
    apply = runs.index("make apply ENV=${{ matrix.env }}")
    [release] = [i for i, r in enumerate(runs) if r.startswith("make release ENV=${{ matrix.env }}")]
    assert release == apply + 1, "the release follows the apply it releases"
    assert "continue-on-error" not in steps[release], "a rollback must fail the run"
    [record] = [s for s in steps[release + 1:] if s.get("uses") == "actions/upload-artifact@v4"]
    assert record["if"] == "always()" and record["with"]["path"] in steps[release]["run"]


def test_make_release_runs_the_release_command() -> None:
    result = subprocess.run(["make", "-n", "release", "ENV=prod"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            check=True)
    assert [line.split(" -m tools ")[1] for line in result.stdout.splitlines() if " -m tools " in line] == [
        "release --env prod "]


def test_main_applies_only_after_make_plan_passed() -> None:
    steps = load("apply.yml")["jobs"]["plan"]["steps"]
    [plan] = [s for s in steps if "make plan" in s.get("run", "")]
    assert plan["run"] == "make plan ENV=${{ matrix.env }}" and "continue-on-error" not in plan




@pytest.mark.parametrize("target", ["plan", "review", "apply", "deploy"])
def test_make_targets_go_through_the_reviewed_path(target: str) -> None:
    result = subprocess.run(["make", "-n", target, "ENV=prod", "ACK=aws_sqs_queue.q", "YES=1"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, check=True)
    commands = [line for line in result.stdout.splitlines() if " -m tools " in line]
    assert commands, result.stdout
    assert "cdktf deploy" not in result.stdout
    if target == "deploy":
        assert [c.split(" -m tools ")[1] for c in commands] == [
            "plan --env prod --ack aws_sqs_queue.q", "apply --env prod --confirm --yes"]


def test_pull_requests_plan_and_review_all_three_environments_offline_in_one_command() -> None:
    job = load("plan-review.yml")["jobs"]["offline"]
    runs = [s.get("run", "") for s in job["steps"]]
    assert any(r.startswith("make plan ENV=dev,staging,prod ") and "--offline" in r for r in runs), runs
    assert "id-token" not in job["permissions"], "an offline plan needs no AWS identity"
