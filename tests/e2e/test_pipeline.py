"""End to end on the emulator: the real stack, the real handlers, the local runner, the CLI a user runs.

The tests run in file order on one deployment, made by ``demo --keep``: the demo's summary, an idempotent
apply, 10,000 events, a poison record, destroy; the fixture ends with ``down``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_EVENTS, PROJECT_ROOT, DeployedPipeline
from tools.local import inspect_queues
from tools.local.events import MALFORMED_KINDS, sample_events
from tools.plans.apply import apply_plan
from tools.plans.layout import PlanFolder
from tools.plans.plan import make_plan
from tools.plans.review import build_review, write_review
from tools.terraform_cli import terraform_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

EVENTS = 10_000
MALFORMED_RATE = 0.05
WRITE_FAULT_RATE = 0.02
ENRICHMENT_FIELDS = {"enriched_at", "pipeline_version", "environment", "data_size_bytes"}


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line, parse_float=Decimal) for line in text.splitlines() if line.strip()]


def test_demo_deployed_delivered_and_accounted_for_every_event(pipeline: DeployedPipeline) -> None:
    summary = pipeline.demo_output
    malformed = round(DEMO_EVENTS * 0.05)
    sent = rf"events sent +{DEMO_EVENTS} +\({DEMO_EVENTS - malformed} valid, {malformed} malformed\)"
    assert re.search(sent, summary), summary
    for stage in pipeline.topology.stages:
        assert f"{stage.function.name:<20}" in summary
    assert f"items in {pipeline.topology.tables[0]}" in summary
    assert "-> every event accounted for" in summary, summary
    assert "environment kept running" in summary


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


def test_ten_thousand_events_end_to_end(
    pipeline: DeployedPipeline, tmp_path: Path, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = sample_events(EVENTS, malformed_rate=MALFORMED_RATE, seed=11, prefix="big")
    valid = {e.id: json.loads(e.body, parse_float=Decimal) for e in events if not e.malformed}
    malformed = {e.body: MALFORMED_KINDS[e.malformed] for e in events if e.malformed}
    assert len(malformed) == EVENTS * MALFORMED_RATE and len(set(MALFORMED_KINDS.values())) > 4
    source = tmp_path / "events.jsonl"
    source.write_text("".join(e.body + "\n" for e in events), encoding="utf-8")
    # What the demo left: the counts below must grow by exactly this run's events.
    items_before = len(json_lines(pipeline.cli("items")))
    rejects_before = len(json_lines(pipeline.cli("rejects")))

    started = time.monotonic()
    result = json.loads(
        pipeline.cli("run", "--send", str(source), "--write-faults", str(WRITE_FAULT_RATE), "--json")
    )
    wall = time.monotonic() - started
    rate = EVENTS / result["seconds"]
    record_property("events_per_second", round(rate, 1))
    with capsys.disabled():
        print(
            f"\n10,000 events: delivered in {result['seconds']:.1f} s ({rate:.0f} events/s), "
            f"command wall time {wall:.1f} s, {result['injected_write_faults']} injected write faults"
        )

    assert result["sent"] == EVENTS
    # Transient write failures happened and were absorbed by the processor's retries.
    assert result["injected_write_faults"] >= 0.5 * WRITE_FAULT_RATE * len(valid)
    validator, enricher, processor = result["stages"]
    assert validator["succeeded"] == EVENTS
    assert enricher["succeeded"] == processor["succeeded"] == len(valid)

    all_items = json_lines(pipeline.cli("items"))
    items = [item for item in all_items if item["id"] in valid]
    ids = Counter(item["id"] for item in all_items)
    assert not [i for i, n in ids.items() if n > 1], "an event was stored twice"
    assert set(ids) >= set(valid), "valid events missing from the table"
    assert len(all_items) == items_before + len(valid), "items that no event of this run explains"
    for item in items:
        sent = valid[item["id"]]
        assert (item["timestamp"], item["data"]) == (sent["timestamp"], sent["data"])
        assert ENRICHMENT_FIELDS <= set(item), f"item without the enricher's fields: {item}"
        assert item["environment"] == "local" and item["data_size_bytes"] > 0

    all_rejects = json_lines(pipeline.cli("rejects"))
    rejects = [r for r in all_rejects if r["body"] in malformed]
    assert Counter(r["body"] for r in rejects) == Counter(malformed.keys()), (
        "rejects differ from malformed sent"
    )
    assert len(all_rejects) == rejects_before + len(malformed)
    wrong = [
        (r["reason_code"], malformed[r["body"]]) for r in rejects if r["reason_code"] != malformed[r["body"]]
    ]
    assert not wrong, f"rejected with another reason than expected (got, expected): {wrong[:5]}"
    assert all(r["reason"] for r in rejects)

    dead = json_lines(pipeline.cli("dlq"))
    assert not dead
    assert EVENTS == len(items) + len(rejects) + len(dead), "sent != stored + rejected + dead-lettered"
    sqs = pipeline.client("sqs")
    depths = inspect_queues.depths(sqs, pipeline.topology)
    rejects_queue = {q.name for q in pipeline.topology.reject_queues()}
    assert {name: n for name, n in depths.items() if name not in rejects_queue and n} == {}


def test_poison_record_is_dead_lettered_after_max_receives_then_redriven(pipeline: DeployedPipeline) -> None:
    stage = pipeline.topology.stages[-1]
    dead_letter = pipeline.topology.queue(stage.source.dead_letter_arn or "")
    body = json.dumps({"id": "poison-1", "timestamp": int(time.time() * 1000), "data": {"x": 1}})
    pipeline.cli("send", stdin=body + "\n")

    result = json.loads(pipeline.cli("run", "--always-fail", "poison-1", "--json"))
    processor = result["stages"][-1]
    assert list(processor["failures"].values()) == [stage.source.max_receive_count], processor
    assert processor["failed"] == stage.source.max_receive_count and processor["succeeded"] == 0
    (dead,) = json_lines(pipeline.cli("dlq", dead_letter.name))
    assert dead["queue"] == dead_letter.name and json.loads(dead["body"])["id"] == "poison-1"

    assert "moved 1 messages" in pipeline.cli("redrive", dead_letter.name)
    sqs = pipeline.client("sqs")
    assert inspect_queues.depth(sqs, dead_letter) == 0
    assert [json.loads(m["Body"])["id"] for m in inspect_queues.peek(sqs, stage.source)] == ["poison-1"]

    result = json.loads(pipeline.cli("run", "--json"))
    assert result["stages"][-1]["succeeded"] == 1
    stored = [item for item in json_lines(pipeline.cli("items")) if item["id"] == "poison-1"]
    assert len(stored) == 1


def test_redriven_record_without_timestamp_keeps_its_key(pipeline: DeployedPipeline) -> None:
    ingest = pipeline.topology.stages[0].source
    dead_letter = pipeline.topology.queue(ingest.dead_letter_arn or "")
    pipeline.cli("send", stdin=json.dumps({"id": "redrive-key-1", "data": {"x": 1}}) + "\n")
    sqs = pipeline.client("sqs")
    # Receive without deleting, as invocations that time out do, until the queue moves it to its DLQ.
    first_sent = None
    for _ in range(3 * (ingest.max_receive_count or 5)):
        for message in sqs.receive_message(
            QueueUrl=ingest.url, MaxNumberOfMessages=10, VisibilityTimeout=0,
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", []):  # fmt: skip
            if json.loads(message["Body"])["id"] == "redrive-key-1":
                first_sent = int(message["Attributes"]["SentTimestamp"])
        if inspect_queues.depth(sqs, dead_letter):
            break
    assert first_sent is not None and inspect_queues.depth(sqs, dead_letter) == 1
    time.sleep(0.01)  # the redriven message's SentTimestamp must differ from the first

    assert "moved 1 messages" in pipeline.cli("redrive", dead_letter.name)
    (redriven,) = inspect_queues.peek(sqs, ingest)
    assert int(redriven["Attributes"]["SentTimestamp"]) > first_sent, "a redrive sends a new message"
    assert redriven["MessageAttributes"]["original_sent_timestamp"]["StringValue"] == str(first_sent)

    pipeline.cli("run", "--json")
    stored = [item for item in json_lines(pipeline.cli("items")) if item["id"] == "redrive-key-1"]
    assert [int(item["timestamp"]) for item in stored] == [first_sent], "keyed by the first SentTimestamp"


def _stack_on_the_deployed_state(pipeline: DeployedPipeline, target: Path) -> Path:
    """A copy of the deployed `local` stack whose local backend is the deployment's own state file."""
    shutil.copytree(pipeline.deployment.stack_dir, target,
                    ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    document = json.loads((target / "cdk.tf.json").read_text())
    document["terraform"]["backend"]["local"]["path"] = str(pipeline.deployment.state_file())
    (target / "cdk.tf.json").write_text(json.dumps(document))
    return target


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


def test_reviewed_plan_of_local_is_applied_byte_for_byte_on_the_emulator(pipeline: DeployedPipeline,
                                                                         tmp_path: Path) -> None:
    stack_dir = _stack_on_the_deployed_state(pipeline, tmp_path / "stack")
    folder = PlanFolder.for_stack("tap-pipeline-local", tmp_path / "plans")
    make_plan(stack_dir, folder, emulator=pipeline.emulator.endpoint)
    unchanged = build_review(folder, run_checkov=False)
    assert unchanged.changes == [] and unchanged.passed, "a real plan against the demo's deployment is empty"

    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    [validator] = [f for f in document["resource"]["aws_lambda_function"].values()
                   if f["function_name"].endswith("validator-local")]
    validator["memory_size"] = 256
    (stack_dir / "cdk.tf.json").write_text(json.dumps(document))
    make_plan(stack_dir, folder, emulator=pipeline.emulator.endpoint)
    review = build_review(folder, run_checkov=False)
    write_review(folder, review)
    assert review.passed and any("memory_size" in w.message for w in review.warnings)
    assert "Apply complete!" in apply_plan(folder)

    make_plan(stack_dir, folder, emulator=pipeline.emulator.endpoint)
    assert build_review(folder, run_checkov=False).changes == [], "the applied plan left nothing to do"
    function = pipeline.client("lambda").get_function_configuration(FunctionName=validator["function_name"])
    assert function["MemorySize"] == 256


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
    assert {kind: found for kind, found in leftovers.items() if found} == {}
