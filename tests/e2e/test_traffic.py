"""End to end on the emulator, traffic: the real stack, the real handlers, the local runner, the CLI a user runs.

The tests run in file order on one deployment of their own, made by ``demo --keep``: the demo's summary,
10,000 events with transient write faults, a poison record, a redriven record. They only add records, so
the emulator is stopped at the end rather than destroyed (``test_lifecycle.py`` proves destroy).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_EVENTS, PROJECT_ROOT, DeployedPipeline, json_lines
from tools.local import inspect_queues
from tools.local.events import MALFORMED_KINDS, sample_events

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

DESTROY_AT_END = False
EVENTS = 10_000
MALFORMED_RATE = 0.05
WRITE_FAULT_RATE = 0.02
ENRICHMENT_FIELDS = {"enriched_at", "pipeline_version", "environment", "data_size_bytes"}


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
    assert len(pipeline.stored("poison-1")) == 1


def test_redriven_record_without_timestamp_keeps_its_key(pipeline: DeployedPipeline) -> None:
    ingest = pipeline.topology.stages[0].source
    dead_letter = pipeline.topology.queue(ingest.dead_letter_arn or "")
    pipeline.cli("send", stdin=json.dumps({"id": "redrive-key-1", "data": {"x": 1}}) + "\n")
    sqs = pipeline.client("sqs")
    # Receive without deleting, as invocations that time out do, until the queue moves it to its DLQ. No long
    # polling: the receive that moves the message returns nothing and would wait the queue's 20 s.
    first_sent = None
    for _ in range(3 * (ingest.max_receive_count or 5)):
        for message in sqs.receive_message(
            QueueUrl=ingest.url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0,
            MessageSystemAttributeNames=["SentTimestamp"],
        ).get("Messages", []):  # fmt: skip
            if json.loads(message["Body"])["id"] == "redrive-key-1":
                first_sent = int(message["Attributes"]["SentTimestamp"])
        if inspect_queues.depth(sqs, dead_letter):
            break
    assert first_sent is not None and inspect_queues.depth(sqs, dead_letter) == 1
    time.sleep(0.01)  # the redriven message's SentTimestamp must differ from the first

    # The operator command for any environment, here the emulator's: a dry run first, then the move.
    dry_run = redrive(pipeline, "--env", "local", "--queue", "ingest")
    [listed] = [json.loads(line) for line in dry_run.splitlines() if line.startswith("{")]
    assert listed["action"] == "move" and listed["original_sent_timestamp"] == first_sent
    assert "Nothing moved" in dry_run and inspect_queues.depth(sqs, dead_letter) == 1
    assert "moved 1 messages from tap-ingest-local-dlq to tap-ingest-local" in redrive(
        pipeline, "--env", "local", "--queue", "ingest", "--apply")
    (redriven,) = inspect_queues.peek(sqs, ingest)
    assert int(redriven["Attributes"]["SentTimestamp"]) > first_sent, "a redrive sends a new message"
    assert redriven["MessageAttributes"]["original_sent_timestamp"]["StringValue"] == str(first_sent)

    pipeline.cli("run", "--json")
    stored = pipeline.stored("redrive-key-1")
    assert [int(item["timestamp"]) for item in stored] == [first_sent], "keyed by the first SentTimestamp"


def redrive(pipeline: DeployedPipeline, *args: str) -> str:
    """``python -m tools redrive ARGS`` on the test's emulator, as an operator runs it; its stdout."""
    result = subprocess.run([sys.executable, "-m", "tools", "redrive", *args], cwd=PROJECT_ROOT,
                            env={**os.environ, "TAP_LOCAL_SESSION": str(pipeline.session_file)},
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"tools redrive {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout
