"""End to end on the emulator, lifecycle: what a platform engineer does to a deployment, on one of its own.

The tests run in file order on a deployment made by ``demo --keep``: an idempotent apply, the queue policies
as deployed, the unreviewed ``cdktf diff``, a reviewed plan carried as a CI artifact and applied byte for byte,
then ``terraform destroy`` leaving nothing; the fixture ends with ``down``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import PROJECT_ROOT, DeployedPipeline
from tests.support.artifact import round_trip, step
from tests.support.shared_provider import shared_providers
from tools.plans.layout import PlanFolder, sha256_of
from tools.plans.plan import make_plan
from tools.plans.review import Review, build_review, write_review
from tools.terraform_cli import terraform_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]


def _stack_on_the_deployed_state(pipeline: DeployedPipeline, target: Path) -> Path:
    """A copy of the deployed `local` stack whose local backend is the deployment's own state file."""
    shutil.copytree(pipeline.deployment.stack_dir, target,
                    ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    document = json.loads((target / "cdk.tf.json").read_text())
    document["terraform"]["backend"]["local"]["path"] = str(pipeline.deployment.state_file())
    (target / "cdk.tf.json").write_text(json.dumps(document))
    return target


def test_apply_is_idempotent(pipeline: DeployedPipeline) -> None:
    code, plan = pipeline.deployment.plan_exit_code()
    assert code == 0, f"a plan right after apply wants changes:\n{plan}"


def test_every_queue_keeps_a_tls_only_policy_naming_its_own_arn(pipeline: DeployedPipeline) -> None:
    """The ARN each policy builds from the queue's name is the queue's, and the redrive left it in place."""
    sqs = pipeline.client("sqs")
    assert len(pipeline.topology.queues) == 7
    for queue in pipeline.topology.queues:
        attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
        [statement] = json.loads(attributes["Policy"])["Statement"]
        assert (statement["Effect"], statement["Action"], statement["Resource"]) == (
            "Deny", "sqs:*", attributes["QueueArn"]), queue.name
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}, queue.name
        assert ("RedrivePolicy" in attributes) == (queue.dead_letter_arn is not None), queue.name


def test_every_terminal_queue_has_its_arrivals_alarm_on_the_emulator(pipeline: DeployedPipeline) -> None:
    """The emulator took the metric math alarms (and the idempotent apply above read them back unchanged)."""
    described = pipeline.client("cloudwatch").describe_alarms(AlarmNamePrefix="tap-")["MetricAlarms"]
    arrivals = {a["AlarmName"]: a for a in described if a["AlarmName"].endswith("-arrivals")}
    assert sorted(arrivals) == ["tap-enrich-local-dlq-arrivals", "tap-ingest-local-dlq-arrivals",
                                "tap-process-local-dlq-arrivals", "tap-rejects-local-arrivals"]
    for name, alarm in arrivals.items():
        expressions = [m["Expression"] for m in alarm["Metrics"] if m.get("Expression")]
        assert expressions == ["DIFF(visible + FILL(in_flight, 0))"], name
        assert alarm["AlarmActions"] == alarm["OKActions"] and len(alarm["AlarmActions"]) == 1, name


def test_cdktf_diff_of_local_runs_through_the_pinned_cli(pipeline: DeployedPipeline, tmp_path: Path) -> None:
    """The unreviewed path (cdktf.json's app through the pinned cdktf CLI) plans against the emulator too.

    Before the reviewed-plan test below, which changes the deployment on purpose.
    """
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    shutil.copyfile(pipeline.deployment.state_file(), state_dir / "tap-pipeline-local.tfstate")
    env = terraform_env({
        **os.environ, **pipeline.deployment.extra_env(),
        "TAP_STACKS": "local", "TAP_LOCAL_STATE_DIR": str(state_dir), "PIPENV_VENV_IN_PROJECT": "1",
        "PIPENV_VERBOSITY": "-1",
    })
    result = subprocess.run(
        # --skip-provider-lock: cdktf's extra `providers lock -platform=linux_amd64` ignores the CLI config's
        # provider mirror and needs the public registry (hashicorp/terraform#35106).
        [str(PROJECT_ROOT / "node_modules" / ".bin" / "cdktf"), "diff", "tap-pipeline-local", "--skip-provider-lock",
         "--output", str(tmp_path / "cdktf.out")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert result.returncode == 0, f"cdktf diff failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "No changes" in result.stdout, result.stdout[-3000:]


def test_reviewed_plan_of_local_is_applied_byte_for_byte_on_the_emulator_after_an_artifacts_round_trip(
        pipeline: DeployedPipeline, tmp_path: Path) -> None:
    """Planned in one place, carried as CI carries it (apply.yml's own upload and download steps: a zip, which
    keeps no links and no file modes), applied elsewhere by the command the apply job runs."""
    stack_dir = _stack_on_the_deployed_state(pipeline, tmp_path / "stack")
    workspace, runner = tmp_path / "plan-job", tmp_path / "apply-job"
    folder = PlanFolder.for_stack("tap-pipeline-local", workspace / ".plans")
    unchanged = _review_as_make_plan_does(stack_dir, folder, pipeline)
    assert unchanged.changes == [] and unchanged.passed, "a real plan against the demo's deployment is empty"

    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    [validator] = [f for f in document["resource"]["aws_lambda_function"].values()
                   if f["function_name"].endswith("validator-local")]
    validator["memory_size"] = 256
    (stack_dir / "cdk.tf.json").write_text(json.dumps(document))
    _plan_against_the_emulator(stack_dir, folder, pipeline)
    review = build_review(folder, run_checkov=False)  # of the plan file shown again, as `make review` reads it
    write_review(folder, review)
    assert review.passed and any("memory_size" in w.message for w in review.warnings)

    jobs = yaml.safe_load((PROJECT_ROOT / ".github" / "workflows" / "apply.yml").read_text())["jobs"]
    carried = round_trip(workspace, step(jobs["plan"], "actions/upload-artifact"),
                         step(jobs["apply"], "actions/download-artifact"), {"env": "local"}, runner)
    assert "work/.terraform.lock.hcl" in carried and not [n for n in carried if n.startswith("work/.terraform/")]
    arrived = PlanFolder.for_stack("tap-pipeline-local", runner / ".plans")
    assert not [p for p in arrived.root.rglob("*") if p.is_symlink() or (p.is_file() and p.stat().st_mode & 0o111)]
    applied = subprocess.run(  # what `make apply ENV=local` runs, on the downloaded folder
        [sys.executable, "-m", "tools", "apply", "--env", "local", "--plans-dir", str(runner / ".plans")],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert applied.returncode == 0, f"{applied.stdout[-3000:]}\n{applied.stderr[-3000:]}"
    assert "Apply complete!" in applied.stdout

    assert _review_as_make_plan_does(stack_dir, folder, pipeline).changes == [], "the applied plan left nothing to do"
    function = pipeline.client("lambda").get_function_configuration(FunctionName=validator["function_name"])
    assert function["MemorySize"] == 256


def _plan_against_the_emulator(stack_dir: Path, folder: PlanFolder, pipeline: DeployedPipeline) -> dict:
    """`make plan`'s plan of ``stack_dir`` into ``folder``, its init, plan and show run as the reviewed-plan tests
    run theirs (tests/support/shared_provider.py): the apply in this file is the user's own command, with its own
    provider."""
    with shared_providers().in_make_plan():
        return make_plan(stack_dir, folder, emulator=pipeline.emulator.endpoint)


def _review_as_make_plan_does(stack_dir: Path, folder: PlanFolder, pipeline: DeployedPipeline) -> Review:
    """A plan against the emulator, reviewed from the JSON the plan derived (as `make plan` hands it to its review:
    one ``terraform show`` fewer)."""
    plan = _plan_against_the_emulator(stack_dir, folder, pipeline)
    return build_review(folder, run_checkov=False, plan=(plan, sha256_of(folder.plan_file)))


def test_destroy_leaves_nothing_in_the_emulator(pipeline: DeployedPipeline) -> None:
    pipeline.deployment.destroy()
    leftovers = {
        "queues": pipeline.client("sqs").list_queues().get("QueueUrls", []),
        "tables": pipeline.client("dynamodb").list_tables()["TableNames"],
        "functions": [f["FunctionName"] for f in pipeline.client("lambda").list_functions()["Functions"]],
        "event source mappings": pipeline.client("lambda").list_event_source_mappings()[
            "EventSourceMappings"
        ],
        "roles": [r["RoleName"] for r in pipeline.client("iam").list_roles()["Roles"]],
        "log groups": [g["logGroupName"] for g in pipeline.client("logs").describe_log_groups()["logGroups"]],
        "alarms": [a["AlarmName"] for a in pipeline.client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "dashboards": pipeline.client("cloudwatch").list_dashboards()["DashboardEntries"],
        "topics": pipeline.client("sns").list_topics()["Topics"],
    }
    left = {kind: found for kind, found in leftovers.items() if found}
    assert left == {}, f"left behind: {left}\nthe emulator's log of mapping requests:\n{_mapping_requests(pipeline)}"


def _mapping_requests(pipeline: DeployedPipeline) -> str:
    """What the emulator logged about event source mappings: a leftover mapping's story, should one stay."""
    log = pipeline.session_file.parent / "emulator.log"
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    return "\n".join(line for line in lines if "event-source-mappings" in line or "tap emulator:" in line)
