"""Handler throughput against the emulator (moto's server): records per second through the processor with
its batched writes against one ``PutItem`` per record, and the validator's and enricher's CPU time per
record.

One child process (so the handlers' logs and metrics stay out of this output) imports the three stages,
makes their clients and warms them with one batch each, then runs ``--runs`` rounds. Each round:

  processor, batched   the processor's handler on ``--batches`` batches of 10 typical enriched records
                       (BatchWriteItem), wall time
  processor, PutItem   the same records parsed and converted the same way, then one PutItem each (the
                       draft's way, ``put_each`` below), wall time
                       (for both: this process's CPU time per record too, the rest of the wall time
                       being the emulator's)
  validator, enricher  their handlers on ``--batches`` batches of 10 typical records each, process CPU
                       time (``time.process_time``: this process only, not the emulator's)

Figures are medians over the rounds; the ratio is batched / PutItem records per second. The table is
scanned at the end: it must hold every key written.

Usage::

    python -m tools bench-throughput [--runs 5] [--batches 20] [--format markdown|json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script in the child process
    sys.path.insert(0, str(ROOT))

from tools.benchmarks import register, summary  # noqa: E402
from tools.benchmarks.memory import MeasureContext, sqs_event, stage_bodies  # noqa: E402
from tools.benchmarks.pipeline_env import BenchmarkError, emit, run_child, running_pipeline  # noqa: E402

BATCH_SIZE = 10


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench-throughput`` on the operator CLI (``python -m tools``)."""
    return register(subparsers, "bench-throughput",
                    "processor records/s batched vs PutItem; validator/enricher CPU per record",
                    __doc__, configure, run)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=5, help="rounds; figures are medians (default 5)")
    parser.add_argument("--batches", type=int, default=20, help="batches of 10 records per round (default 20)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (also the child process's)."""
    parser = argparse.ArgumentParser(description=summary(__doc__))
    configure(parser)
    return run(parser, parser.parse_args(argv))


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.runs < 1 or args.batches < 1:
        parser.error("--runs and --batches must be at least 1")
    if args.child:
        emit(measure(args.runs, args.batches))
        return 0
    with running_pipeline() as pipeline:
        command = [sys.executable, str(Path(__file__).resolve()), "--child"]
        command += ["--runs", str(args.runs), "--batches", str(args.batches)]
        result = summarize(run_child(command, pipeline.child_env()))
    print(json.dumps(result, indent=2) if args.format == "json" else render_markdown(result))
    return 0


# ---------------------------------------------------------------- child: run the handlers


def put_each(client: Any, table_name: str, bodies: list[str]) -> None:
    """Store each enriched record with its own PutItem: the comparison the batched writes are measured
    against (same parsing and conversion as the processor, one request per record)."""
    from handlers.processor.store import to_item
    from handlers.shared.contract import parse_enriched

    for body in bodies:
        client.put_item(TableName=table_name, Item=to_item(parse_enriched(body)))


def _events(stage: str, batches: int) -> list[dict[str, Any]]:
    bodies = stage_bodies(stage, BATCH_SIZE * batches)
    return [sqs_event(bodies[i : i + BATCH_SIZE], i) for i in range(0, len(bodies), BATCH_SIZE)]


def _call(app: Any, event: dict[str, Any]) -> None:
    response = app.handler(event, MeasureContext())
    if response["batchItemFailures"]:
        raise BenchmarkError(f"{app.__name__} reported failed records: {response['batchItemFailures']}")


def measure(runs: int, batches: int) -> dict[str, Any]:
    """The child's rounds; raw figures per round."""
    import os

    from handlers.enricher import app as enricher
    from handlers.processor import app as processor
    from handlers.shared import clients
    from handlers.validator import app as validator

    events = {stage: _events(stage, batches) for stage in ("validator", "enricher", "processor")}
    processor_bodies = [[record["body"] for record in event["Records"]] for event in events["processor"]]
    records = BATCH_SIZE * batches
    table = os.environ["TABLE_NAME"]
    for app, stage in ((validator, "validator"), (enricher, "enricher"), (processor, "processor")):
        _call(app, events[stage][0])  # clients made, models loaded: the rounds measure a warm container
    put_each(clients.dynamodb(), table, processor_bodies[0][:1])

    rounds: list[dict[str, float]] = []
    for _ in range(runs):
        figures: dict[str, float] = {}
        started, cpu = time.perf_counter(), time.process_time()
        for event in events["processor"]:
            _call(processor, event)
        figures["batched_records_per_s"] = records / (time.perf_counter() - started)
        figures["batched_cpu_ms_per_record"] = (time.process_time() - cpu) * 1000 / records

        started, cpu = time.perf_counter(), time.process_time()
        for bodies in processor_bodies:
            put_each(clients.dynamodb(), table, bodies)
        figures["put_item_records_per_s"] = records / (time.perf_counter() - started)
        figures["put_item_cpu_ms_per_record"] = (time.process_time() - cpu) * 1000 / records

        for app, stage in ((validator, "validator"), (enricher, "enricher")):
            cpu = time.process_time()
            for event in events[stage]:
                _call(app, event)
            figures[f"{stage}_cpu_ms_per_record"] = (time.process_time() - cpu) * 1000 / records
        rounds.append(figures)

    stored = clients.dynamodb().scan(TableName=table, Select="COUNT")["Count"]
    return {"rounds": rounds, "records_per_round": records, "items_in_table": stored,
            "record_kb": [len(body.encode()) / 1000 for body in processor_bodies[0]]}


# ---------------------------------------------------------------- parent: medians and report


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Medians over the rounds and the batched / PutItem ratio; BenchmarkError if the table lacks records."""
    if raw["items_in_table"] != raw["records_per_round"]:
        raise BenchmarkError(
            f"the table holds {raw['items_in_table']} items after writing {raw['records_per_round']} distinct "
            "keys: some writes were lost, the figures would mislead"
        )
    keys = raw["rounds"][0].keys()
    medians = {key: statistics.median(figures[key] for figures in raw["rounds"]) for key in keys}
    ratio = medians["batched_records_per_s"] / medians["put_item_records_per_s"]
    return {**raw, "medians": medians, "batched_vs_put_item_ratio": ratio}


def render_markdown(result: dict[str, Any]) -> str:
    """The medians with each round's range."""
    rounds = result["rounds"]

    def cell(key: str, fmt: str) -> str:
        values = [figures[key] for figures in rounds]
        return f"{fmt.format(result['medians'][key])} ({fmt.format(min(values))}–{fmt.format(max(values))})"

    sizes = result["record_kb"]
    lines = [
        f"| figure (median of {len(rounds)} rounds, {result['records_per_round']} records each) | value (range) |",
        "| --- | --- |",
        f"| processor, batched writes: records/s | {cell('batched_records_per_s', '{:.0f}')} |",
        f"| processor, one PutItem per record: records/s | {cell('put_item_records_per_s', '{:.0f}')} |",
        f"| processor, batched writes: CPU ms per record (this process) | "
        f"{cell('batched_cpu_ms_per_record', '{:.2f}')} |",
        f"| processor, one PutItem per record: CPU ms per record (this process) | "
        f"{cell('put_item_cpu_ms_per_record', '{:.2f}')} |",
        f"| validator: CPU ms per record | {cell('validator_cpu_ms_per_record', '{:.2f}')} |",
        f"| enricher: CPU ms per record | {cell('enricher_cpu_ms_per_record', '{:.2f}')} |",
        "",
        f"batched / PutItem: **{result['batched_vs_put_item_ratio']:.2f}** x the records per second. "
        f"Typical records of {min(sizes):.1f}-{max(sizes):.1f} KB in batches of {BATCH_SIZE}, against moto's "
        f"server on this machine; Python {sys.version.split()[0]}.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
