"""The pipeline on a local AWS emulator, with no AWS account: python -m tools local <command>.

All commands but up and demo act on the environment recorded in .local/session.json (or in the file that
TAP_LOCAL_SESSION names). `python -m tools local <command> --help` gives a command's options. Function logs
(what the handlers print) go to .local/logs/<function>.log; the emulator's request log to .local/emulator.log.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tools.local import demo, inspect_queues, lifecycle
from tools.local.emulator import Emulator, client
from tools.local.events import JsonLines, QueueProducer, sample_events, send_bodies
from tools.local.faults import WriteFaults
from tools.local.options import add_delivery_options, retry_visibility
from tools.local.progress import Progress
from tools.local.runner import Runner
from tools.local.session import Session, local_dir, session_file
from tools.local.stack import Deployment
from tools.local.topology import Topology


class Environment:
    """The running environment of the session file: its deployment, topology and clients."""

    def __init__(self) -> None:
        self.session = Session.load()
        if not Emulator(self.session.endpoint, self.session.pid).alive():
            raise SystemExit(
                f"the emulator of {session_file()} (pid {self.session.pid}) is not running; "
                "remove the file, or run `python -m tools local down`"
            )
        state = Path(self.session.state_path) if self.session.state_path else None
        self.deployment = Deployment(Path(self.session.stack_dir), self.session.endpoint, state)
        self.topology: Topology = self.deployment.topology()
        self.sqs = client("sqs", self.session.endpoint, self.topology.region)
        self.dynamodb = client("dynamodb", self.session.endpoint, self.topology.region)

    @property
    def ingest_url(self) -> str:
        return str(self.topology.outputs.get("ingest_queue_url") or self.topology.stages[0].source.url)


def print_lines(records: Iterable[Any]) -> int:
    count = 0
    for record in records:
        print(inspect_queues.to_json(record))
        count += 1
    return count


def read_bodies(path: str | None) -> JsonLines:
    if path in (None, "-"):
        return JsonLines.read(sys.stdin)
    with open(path, encoding="utf-8") as lines:
        return JsonLines.read(lines)


def cmd_up(args: argparse.Namespace) -> int:
    if lifecycle.refuse_if_running():
        return 2
    with lifecycle.deployed(Progress(), keep=True, stack_dir=args.stack_dir):
        pass
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    for event in sample_events(args.n, malformed_rate=args.malformed_rate, seed=args.seed):
        print(event.body)
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    env = Environment()
    lines = read_bodies(args.file)
    ids = send_bodies(env.sqs, env.ingest_url, lines.bodies)
    print(f"sent {len(ids)} message{'s' if len(ids) != 1 else ''} to {env.ingest_url}{lines.skipped()}",
          file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    env = Environment()
    lines = read_bodies(args.send) if args.send else None
    producer = QueueProducer(env.sqs, env.ingest_url, lines.bodies) if lines else None
    faults = None
    if args.write_faults or args.always_fail:
        faults = WriteFaults(fail_once_rate=args.write_faults, always_fail=args.always_fail).install()
    log_dir = Path(env.session.log_dir) if env.session.log_dir else local_dir() / "logs"
    with Runner(
        env.topology,
        env.session.endpoint,
        log_dir=log_dir,
        retry_visibility=retry_visibility(args.retry_visibility),
    ) as runner:
        runner.load_handlers()
        started = time.monotonic()
        runner.run(producer=producer, timeout=args.timeout)
        seconds = time.monotonic() - started
    result = {
        "seconds": round(seconds, 3),
        "sent": producer.sent if producer else 0,
        "stages": [stats.as_dict() for stats in runner.stats()],
        "injected_write_faults": faults.injected if faults else 0,
        "refused_writes": faults.refused if faults else 0,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for stage in result["stages"]:
            print(
                f"{stage['function']:<20} {stage['received']:>7} received, {stage['succeeded']} succeeded, "
                f"{stage['failed']} failed, {stage['invocations']} invocations, "
                f"{stage['errors']} failed whole"
            )
        print(run_sentence(result, lines))
    return 0


def run_sentence(result: dict[str, Any], lines: JsonLines | None = None) -> str:
    """What ``run`` did, in words: what went in, what was stored, and where the rest is."""
    stages = result["stages"]
    received = stages[0]["received"] if stages else 0
    plural = "s" if result["sent"] != 1 else ""
    sent = f"Sent {result['sent']} message{plural}{lines.skipped() if lines else ''}. " if lines else ""
    if not received:
        return (f"{sent}Nothing to deliver: every stage's queue was already empty. Send records first "
                "(python -m tools local send FILE), then run again.")
    stored = stages[-1]["succeeded"]
    retried = sum(len(stage["failures"]) for stage in stages)
    retries = (f" {retried} record{'s' if retried != 1 else ''} failed at least once and "
               f"{'were' if retried != 1 else 'was'} delivered again.") if retried else ""
    return (f"{sent}Done in {result['seconds']:.1f} s: every stage's queue is empty, and the table got "
            f"{stored} record{'s' if stored != 1 else ''}.{retries} Rejected records: python -m tools local "
            "rejects; dead-lettered ones: python -m tools local dlq.")


def cmd_status(args: argparse.Namespace) -> int:
    env = Environment()
    print(f"endpoint  {env.session.endpoint} (emulator pid {env.session.pid})")
    print(f"stack     {env.session.stack_dir}")
    for name, depth in inspect_queues.depths(env.sqs, env.topology).items():
        print(f"queue     {name:<24} {depth:>7} messages")
    for table in env.topology.tables:
        count = sum(1 for _ in inspect_queues.scan_items(env.dynamodb, table))
        print(f"table     {table:<24} {count:>7} items")
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    env = Environment()
    items = (item for table in env.topology.tables for item in inspect_queues.scan_items(env.dynamodb, table))
    print_lines(item for n, item in enumerate(items) if args.limit is None or n < args.limit)
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    env = Environment()
    pairs = env.topology.dead_letter_queues()
    if args.queue:
        wanted = env.topology.queue(args.queue)
        pairs = [(q, s) for q, s in pairs if wanted in (q, s)]
        if not pairs:
            raise SystemExit(f"{wanted.name} is neither a dead-letter queue nor a queue that has one")
    consumers = {stage.source.name: stage.function.name for stage in env.topology.stages}
    printed = print_lines(
        {**entry, "reason": entry["reason"] or dead_letter_reason(source, consumers.get(source.name))}
        for dlq, source in pairs for entry in
        (inspect_queues.describe(dlq, m) for m in inspect_queues.peek(env.sqs, dlq, args.limit))
    )
    if not printed:
        which = "the dead-letter queue is" if len(pairs) == 1 else "every dead-letter queue is"
        print(f"no dead-lettered messages: {which} empty ({', '.join(dlq.name for dlq, _ in pairs)})", file=sys.stderr)
    return 0


def dead_letter_reason(source: Any, function: str | None) -> str:
    """Why a message without a reason of its own is in a dead-letter queue: its stage failed it every time."""
    receives = f"after {source.max_receive_count} receives" if source.max_receive_count else "after its receives"
    by = f" by {function}, whose log (.local/logs/{function}.log) says why" if function else ""
    return f"dead-lettered {receives} from {source.name}: each delivery failed{by}"


def cmd_rejects(args: argparse.Namespace) -> int:
    env = Environment()
    queues = env.topology.reject_queues()
    printed = print_lines(
        inspect_queues.describe(q, m) for q in queues for m in inspect_queues.peek(env.sqs, q, args.limit)
    )
    if not printed:
        print(f"no rejected records: {', '.join(q.name for q in queues)} is empty", file=sys.stderr)
    return 0


def cmd_redrive(args: argparse.Namespace) -> int:
    env = Environment()
    named = env.topology.queue(args.queue)
    pairs = {dlq: source for dlq, source in env.topology.dead_letter_queues()}
    if named not in pairs:
        if not named.dead_letter_arn:
            raise SystemExit(f"{named.name} is neither a dead-letter queue nor a queue that has one")
        named = env.topology.queue(named.dead_letter_arn)
    moved = inspect_queues.redrive(env.sqs, named, pairs[named])
    print(f"moved {moved} messages from {named.name} to {pairs[named].name}")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    lifecycle.take_down()
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``local`` and its commands on the operator CLI (``python -m tools``)."""
    local = commands.add_parser(
        "local",
        help="the pipeline on a local AWS emulator: up, demo, send, run, status, dlq, redrive, down, ...",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subcommands = local.add_subparsers(dest="local_command", required=True, metavar="COMMAND")

    def command(name: str, handler: Any, help_: str) -> argparse.ArgumentParser:
        sub = subcommands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(handler=handler)
        return sub

    sub = command("up", cmd_up, "start the emulator, deploy the `local` stack and keep it running")
    sub.add_argument("--stack-dir", type=Path, metavar="DIR",
                     help="deploy the stack already synthesized in DIR instead of synthesizing the `local` stack")
    sub = subcommands.add_parser(
        "demo", help="the whole demo: deploy, send sample events, deliver, summarize, tear down",
        description=demo.__doc__.split("\n\n")[0], epilog=demo.__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub.set_defaults(handler=demo.run)
    demo.add_arguments(sub)
    sub = command("sample", cmd_sample, "print sample events (valid and malformed) as JSON Lines")
    sub.add_argument("-n", type=int, default=100, help="how many (default 100)")
    sub.add_argument("--malformed-rate", type=float, default=0.05, help="share of malformed events (0.05)")
    sub.add_argument("--seed", type=int, default=7, help="random seed (7)")
    sub = command("send", cmd_send,
                  "send JSON Lines (a file, or stdin) to the ingest queue, a message a line; names skipped lines")
    sub.add_argument("file", nargs="?", help="JSON Lines file; stdin if absent or '-'")
    sub = command("run", cmd_run,
                  "deliver every stage's queue to its handler until all are drained, then say what each stage did")
    sub.add_argument(
        "--send", metavar="FILE", help="feed FILE's JSON Lines into the ingest queue as it drains (the emulator "
        "slows down with queue depth: use this rather than `send` for more than a few thousand messages)"
    )
    sub.add_argument("--timeout", type=float, default=900.0, help="give up after this many seconds (900)")
    sub.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_delivery_options(sub)
    command("status", cmd_status, "endpoint, queue depths and table item count")
    sub = command("items", cmd_items, "the table's items as JSON Lines")
    sub.add_argument("--limit", type=int, help="at most this many")
    sub = command("dlq", cmd_dlq,
                  "dead-lettered messages as JSON Lines, with why each was dead-lettered (left in the queue)")
    sub.add_argument("queue", nargs="?", help="one dead-letter queue (or the queue it serves); default all")
    sub.add_argument("--limit", type=int, help="at most this many per queue")
    sub = command(
        "rejects", cmd_rejects, "rejected records with their reasons as JSON Lines (left in the queue)"
    )
    sub.add_argument("--limit", type=int, help="at most this many")
    sub = command("redrive", cmd_redrive, "move a dead-letter queue's messages back to the queue it serves")
    sub.add_argument("queue", help="the dead-letter queue, or the queue it serves")
    command("down", cmd_down, "terraform destroy, stop the emulator, forget the session")
