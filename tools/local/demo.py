"""The demo: the pipeline end to end on a local AWS emulator, with no AWS account (``make demo``).

    python -m tools local demo [--events N] [--malformed-rate R] [--keep | --destroy] [--stack-dir DIR]
        [--retry-visibility S|queue] [--write-faults R] [--always-fail ID] [--timeout S]

Starts moto's server on 127.0.0.1 at a free port, synthesizes the `local` stack, runs ``terraform init``
and ``terraform apply`` on it, sends sample events (valid and malformed) to the ingest queue while the
local runner delivers them through validator, enricher and processor, waits until every queue is
drained, prints a summary, and tears everything down, also after an error or Ctrl-C: the emulator stops
and the state is forgotten, since what was deployed lived only in the emulator's memory (``--destroy``
runs ``terraform destroy`` first, as ``down`` does).  ``--keep`` leaves the environment running for the other
``python -m tools local`` commands and records it in ``.local/session.json`` (or the file
TAP_LOCAL_SESSION names); function logs and the emulator's log go beside that file.

Exit status: 0 when every event is accounted for (stored, rejected or dead-lettered), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tools.local import inspect_queues
from tools.local.emulator import Emulator, client
from tools.local.events import QueueProducer, sample_events
from tools.local.faults import WriteFaults
from tools.local.lifecycle import deployed, refuse_if_running
from tools.local.options import add_delivery_options, retry_visibility
from tools.local.progress import Progress
from tools.local.runner import Runner
from tools.local.topology import Topology


@dataclass
class Summary:
    """What went in, what came out, and where every event ended."""

    sent: int
    malformed: int
    stages: list[dict[str, Any]]
    table: str
    items: int
    rejects: dict[str, list[dict[str, Any]]]
    dead_letters: dict[str, list[dict[str, Any]]]
    in_flight: dict[str, int]
    seconds: float
    delivery_seconds: float
    injected_write_faults: int = 0
    #: What happens to the environment after the summary (see :func:`teardown_text`).
    teardown: str = ""

    @property
    def rejected(self) -> int:
        return sum(len(messages) for messages in self.rejects.values())

    @property
    def dead_lettered(self) -> int:
        return sum(len(messages) for messages in self.dead_letters.values())

    @property
    def accounted(self) -> bool:
        """Sent = stored + rejected + dead-lettered, and nothing left in a stage's queue."""
        return self.sent == self.items + self.rejected + self.dead_lettered and not any(
            self.in_flight.values()
        )


def collect(
    sqs: Any,
    dynamodb: Any,
    topology: Topology,
    runner: Runner,
    *,
    sent: int,
    malformed: int,
    seconds: float,
    delivery_seconds: float,
) -> Summary:
    """Read the queues and the table after a run (peeking: the messages stay where they are)."""
    table = topology.tables[0] if topology.tables else ""
    items = dynamodb.scan(TableName=table, Select="COUNT")  # paginate: a COUNT scan is capped at 1 MB too
    count = items["Count"]
    while "LastEvaluatedKey" in items:
        items = dynamodb.scan(TableName=table, Select="COUNT", ExclusiveStartKey=items["LastEvaluatedKey"])
        count += items["Count"]
    return Summary(
        sent=sent,
        malformed=malformed,
        stages=[s.as_dict() for s in runner.stats()],
        table=table,
        items=count,
        rejects={
            q.name: [inspect_queues.describe(q, m) for m in inspect_queues.peek(sqs, q)]
            for q in topology.reject_queues()
        },
        dead_letters={
            dlq.name: [inspect_queues.describe(dlq, m) for m in inspect_queues.peek(sqs, dlq)]
            for dlq, _ in topology.dead_letter_queues()
        },
        in_flight={stage.source.name: inspect_queues.depth(sqs, stage.source) for stage in topology.stages},
        seconds=seconds,
        delivery_seconds=delivery_seconds,
    )


def print_summary(summary: Summary, out: TextIO = sys.stdout) -> None:
    """The summary as a person reads it."""

    def line(text: str = "") -> None:
        print(text, file=out)

    line()
    line("Summary")
    line(
        f"  events sent          {summary.sent:>7}  ({summary.sent - summary.malformed} valid, "
        f"{summary.malformed} malformed)"
    )
    for stage in summary.stages:
        line(
            f"  {stage['function']:<20} {stage['received']:>7} records from {stage['queue']}: "
            f"{stage['succeeded']} succeeded, {stage['failed']} failed (retried), "
            f"{stage['invocations']} invocations, {stage['errors']} failed whole"
        )
    line(f"  items in {summary.table:<11} {summary.items:>7}")
    for name, messages in {**summary.rejects, **summary.dead_letters}.items():
        reasons = Counter(
            m["reason_code"] or "no reason attribute (see the function's log)" for m in messages
        )
        detail = ", ".join(f"{code}: {n}" for code, n in reasons.most_common()) if messages else "empty"
        line(f"  {name:<20} {len(messages):>7}  {detail}")
    for name, depth in summary.in_flight.items():
        if depth:
            line(f"  still in {name:<11} {depth:>7}")
    if summary.injected_write_faults:
        line(f"  injected write faults {summary.injected_write_faults:>6} (retried by the processor)")
    rate = summary.sent / summary.delivery_seconds if summary.delivery_seconds else 0.0
    line(f"  delivery             {summary.delivery_seconds:>7.1f} s  ({rate:.0f} events/s)")
    line(f"  wall time            {summary.seconds:>7.1f} s")
    verdict = "every event accounted for" if summary.accounted else "MISMATCH: events unaccounted for"
    line(
        f"  sent = stored + rejected + dead-lettered: "
        f"{summary.sent} = {summary.items} + {summary.rejected} + "
        f"{summary.dead_lettered}  -> {verdict}"
    )
    if summary.teardown:
        line(f"  then                 {summary.teardown}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options."""
    parser.add_argument("--events", type=int, default=200, help="sample events to send (default 200)")
    parser.add_argument(
        "--malformed-rate",
        type=float,
        default=0.05,
        help="share of malformed events, of several kinds (default 0.05)",
    )
    # argparse refuses both at once ("argument --destroy: not allowed with argument --keep").
    ending = parser.add_mutually_exclusive_group()
    ending.add_argument(
        "--keep",
        action="store_true",
        help="leave the environment running; `python -m tools local down` ends it",
    )
    ending.add_argument(
        "--destroy",
        action="store_true",
        help="run `terraform destroy` before stopping the emulator (about a minute), instead of only stopping "
        "it and forgetting the state",
    )
    parser.add_argument(
        "--stack-dir",
        type=Path,
        metavar="DIR",
        help="deploy the stack already synthesized in DIR, keeping its state there, instead of synthesizing "
        "the `local` stack (state in .state/)",
    )
    add_delivery_options(parser)
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="give up delivering after this many seconds (default 900)",
    )


def teardown_text(*, keep: bool, destroy: bool) -> str:
    """The summary's last line: what the demo does with the environment once it has printed it."""
    if keep:
        return "the environment keeps running: end it with `python -m tools local down`"
    if destroy:
        return "terraform destroy, then the emulator stops and its state is forgotten"
    return "the emulator stops and its state is forgotten (no terraform destroy: --destroy runs it)"


def run(args: argparse.Namespace) -> int:
    """Deploy, send sample events, deliver them, print the summary; tear down unless --keep."""
    if refuse_if_running():
        return 2
    progress = Progress()
    events = sample_events(args.events, malformed_rate=args.malformed_rate)
    with deployed(progress, keep=args.keep, stack_dir=args.stack_dir, destroy=args.destroy) as env:
        summary = deliver(args, events, env.topology, env.emulator, env.log_dir, progress)
        summary.teardown = teardown_text(keep=args.keep, destroy=args.destroy)
        print_summary(summary)
        progress.step(f"function logs in {env.log_dir}")
    return 0 if summary.accounted else 1


def deliver(
    args: argparse.Namespace,
    events: list[Any],
    topology: Topology,
    emulator: Emulator,
    log_dir: Path,
    progress: Progress,
) -> Summary:
    """Send the events while the runner delivers them; then read where each one ended."""
    sqs = client("sqs", emulator.endpoint, topology.region)
    dynamodb = client("dynamodb", emulator.endpoint, topology.region)
    ingest = topology.outputs.get("ingest_queue_url") or topology.stages[0].source.url
    producer = QueueProducer(sqs, ingest, [event.body for event in events])
    malformed = sum(1 for event in events if event.malformed)
    faults = None
    if args.write_faults or args.always_fail:
        faults = WriteFaults(fail_once_rate=args.write_faults, always_fail=args.always_fail).install()
    progress.step(
        f"sending {len(events)} events ({malformed} malformed) and delivering them through "
        + " -> ".join(stage.function.name for stage in topology.stages)
        + " ..."
    )

    def show(runner: Runner) -> None:
        parts = [f"sent {producer.sent}/{len(events)}"] + [
            f"{s.function} {s.succeeded} ok/{s.failed} failed" for s in runner.stats()
        ]
        progress.status(" | ".join(parts))

    started = time.monotonic()
    try:
        with Runner(
            topology,
            emulator.endpoint,
            log_dir=log_dir,
            retry_visibility=retry_visibility(args.retry_visibility),
        ) as runner:
            runner.load_handlers()
            runner.run(producer=producer, timeout=args.timeout, on_progress=show)
    finally:
        if faults is not None:
            faults.uninstall()
    delivery = time.monotonic() - started
    progress.step("drained: every stage's queue is empty")
    summary = collect(
        sqs,
        dynamodb,
        topology,
        runner,
        sent=producer.sent,
        malformed=malformed,
        seconds=progress.elapsed(),
        delivery_seconds=delivery,
    )
    summary.injected_write_faults = faults.injected if faults else 0
    return summary
