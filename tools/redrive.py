"""``python -m tools redrive``: move dead-lettered messages back to their queue, on any environment, keys kept.

  python -m tools redrive --queue tap-ingest-prod-dlq             a dry run: how many, and the first ten
  python -m tools redrive --queue tap-ingest-prod-dlq --apply     move them all (--limit N: at most N)
  python -m tools redrive --env prod --queue ingest --apply       the same, by the stage's queue
  python -m tools redrive --queue tap-rejects-prod --apply        replay rejected records into the ingest queue

QUEUE is a dead-letter queue, the queue it serves, or the rejects queue, by name (or, with --env, by the
short names ingest, enrich, process and rejects). The environment (its region, and on `local` the emulator's
endpoint) comes from --env or else from the queue's name. Credentials are the AWS SDK's usual ones
(AWS_PROFILE, environment variables, SSO); the role needs sqs:ReceiveMessage, DeleteMessage,
ChangeMessageVisibility, GetQueueAttributes, GetQueueUrl and ListDeadLetterSourceQueues on the source,
SendMessage on the target, and kms:Decrypt and GenerateDataKey on the environment's key where it encrypts
the queues (prod).

Every message is sent again with its body and message attributes, plus ``original_sent_timestamp``: the
SentTimestamp of the producer's first message, which a redrive policy keeps when it moves a message into a
dead-letter queue and which a new send would lose. The validator keys a record without ``timestamp`` by it,
so a redriven record overwrites, never duplicates, what an earlier delivery stored. SQS's own redrive (the
console's "Start DLQ redrive", StartMessageMoveTask) cannot add it: docs/runbook.md says what that costs.

A rejects replay is for after a fix to the validator or the contract: the validator's verdict attributes are
dropped (it judges again), and a body that was too large to travel in one message (``body_part``) stays in the
rejects queue. Each message is sent before it is deleted: an interruption can duplicate a message, never lose
one; a message SQS refuses to take stays where it was, and the command exits 1 naming it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from handlers.shared.batches import sqs_batches
from handlers.shared.names import ORIGINAL_SENT_TIMESTAMP

#: While a batch is being moved its messages stay invisible this long.
HOLD_SECONDS = 30
#: A message left behind stays invisible this long while the move goes on (so that no receive brings it back
#: and hides the rest), and is released when the move ends; a move interrupted on the way releases it then.
LEFT_HOLD_SECONDS = 900
#: Long polling on AWS: a short poll samples some of SQS's servers and may come back empty while messages wait
#: (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html),
#: which would end a move early. The emulator answers from one store: no wait there.
WAIT_SECONDS = 1
#: Messages a dry run lists unless --limit says otherwise.
DRY_RUN_SAMPLE = 10
#: The validator's verdict on a reject: dropped on a replay, since the validator judges the record again.
VERDICT_ATTRIBUTES = ("reason_code", "reason", "source_message_id")
#: Marks one part of a reject body too large for one message; such parts are left in the rejects queue.
BODY_PART_ATTRIBUTE = "body_part"
REJECTS = "rejects"
INGEST = "ingest"
STAGE_QUEUES = ("ingest", "enrich", "process")
DLQ_TAIL = "-dlq"
_DEPTH_ATTRIBUTES = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                     "ApproximateNumberOfMessagesDelayed"]

#: What to send for one received message: its SendMessageBatch entry fields, or the reason it stays.
Prepare = Callable[[dict[str, Any]], "dict[str, Any] | str"]


class RedriveError(RuntimeError):
    """The redrive cannot start: the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class QueueRef:
    name: str
    url: str


@dataclass(frozen=True)
class Route:
    """Where messages are taken from and sent to; ``replay``: from the rejects queue."""

    source: QueueRef
    target: QueueRef
    replay: bool = False

    @property
    def prepare(self) -> Prepare:
        return replayed_reject if self.replay else redriven_message


@dataclass
class MoveResult:
    """What a move did: how many moved, and each message left behind (message id -> why)."""

    moved: int = 0
    left: dict[str, str] = field(default_factory=dict)


def _first_sent(message: Mapping[str, Any], attributes: Mapping[str, Any]) -> dict[str, str] | None:
    """The ``original_sent_timestamp`` attribute to send: the carried one, else this message's SentTimestamp."""
    if ORIGINAL_SENT_TIMESTAMP in attributes:
        return dict(attributes[ORIGINAL_SENT_TIMESTAMP])
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return {"DataType": "Number", "StringValue": sent} if sent else None


def _entry(message: Mapping[str, Any], attributes: dict[str, Any]) -> dict[str, Any]:
    first = _first_sent(message, attributes)
    if first is not None:
        attributes[ORIGINAL_SENT_TIMESTAMP] = first
    entry: dict[str, Any] = {"MessageBody": message["Body"]}
    if attributes:
        entry["MessageAttributes"] = attributes
    return entry


def redriven_message(message: dict[str, Any]) -> dict[str, Any] | str:
    """A dead-lettered message as it goes back: body and attributes, plus its first SentTimestamp."""
    return _entry(message, dict(message.get("MessageAttributes") or {}))


def replayed_reject(message: dict[str, Any]) -> dict[str, Any] | str:
    """A rejected record as the ingest queue gets it again: without the verdict; a body part stays."""
    attributes = dict(message.get("MessageAttributes") or {})
    if BODY_PART_ATTRIBUTE in attributes:
        return ("one part of a body too large for one message: join the parts (docs/record-contract.md) and "
                "send the record again if it should pass")
    for name in VERDICT_ATTRIBUTES:
        attributes.pop(name, None)
    return _entry(message, attributes)


def _receive(sqs: Any, queue_url: str, count: int, wait_s: int) -> list[dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=count, WaitTimeSeconds=wait_s, VisibilityTimeout=HOLD_SECONDS,
        MessageSystemAttributeNames=["SentTimestamp", "ApproximateReceiveCount"], MessageAttributeNames=["All"],
    ).get("Messages", [])


def move_messages(sqs: Any, source_url: str, target_url: str, *, prepare: Prepare = redriven_message,
                  limit: int | None = None, wait_s: int = WAIT_SECONDS) -> MoveResult:
    """Move the messages of ``source_url`` to ``target_url`` (at most ``limit``), each as ``prepare`` makes it.

    Each batch is sent before it is deleted. A message ``prepare`` keeps, or that SQS refuses, stays in the
    source (hidden while the move goes on, visible again at the end) and is named in the result; the move ends
    when a receive brings nothing new.
    """
    result = MoveResult()
    held: dict[str, str] = {}  # message id -> latest receipt handle of the messages left behind
    while limit is None or result.moved < limit:
        wanted = 10 if limit is None else min(10, limit - result.moved)
        received = _receive(sqs, source_url, wanted, wait_s)
        again = [m for m in received if m["MessageId"] in result.left]  # back after a very long move
        held.update((m["MessageId"], m["ReceiptHandle"]) for m in again)
        _set_visibility(sqs, source_url, [m["ReceiptHandle"] for m in again], LEFT_HOLD_SECONDS)
        messages = [m for m in received if m["MessageId"] not in result.left]
        if not messages:
            break
        entries: dict[str, dict[str, Any]] = {}
        for index, message in enumerate(messages):
            prepared = prepare(message)
            if isinstance(prepared, str):
                result.left[message["MessageId"]] = prepared
                held[message["MessageId"]] = message["ReceiptHandle"]
            else:
                entries[str(index)] = {"Id": str(index), **prepared}
        sent, refused = _send(sqs, target_url, list(entries.values()))
        for entry_id, why in refused.items():
            message = messages[int(entry_id)]
            result.left[message["MessageId"]] = f"the target refused it: {why}"
            held[message["MessageId"]] = message["ReceiptHandle"]
        done = [{"Id": i, "ReceiptHandle": messages[int(i)]["ReceiptHandle"]} for i in sorted(sent, key=int)]
        if done:
            sqs.delete_message_batch(QueueUrl=source_url, Entries=done)
        result.moved += len(done)
        left_now = [m["ReceiptHandle"] for m in messages if m["MessageId"] in result.left]
        _set_visibility(sqs, source_url, left_now, LEFT_HOLD_SECONDS)
    _set_visibility(sqs, source_url, list(held.values()), 0)
    return result


def entry_size(entry: Mapping[str, Any]) -> int:
    """Bytes SQS counts for a SendMessageBatch entry: the body and each attribute's name, type and value."""
    size = len(entry["MessageBody"].encode("utf-8", "surrogatepass"))
    for name, value in (entry.get("MessageAttributes") or {}).items():
        payload = value.get("StringValue")
        payload_bytes = len(payload.encode("utf-8")) if payload is not None else len(value.get("BinaryValue", b""))
        size += len(name.encode("utf-8")) + len(value["DataType"].encode("utf-8")) + payload_bytes
    return size


def _send(sqs: Any, queue_url: str, entries: list[dict[str, Any]]) -> tuple[set[str], dict[str, str]]:
    """Send ``entries`` in batches SQS accepts; (ids sent, id -> why refused).

    A call that fails as a whole (a message larger than the target allows, say) is tried again entry by
    entry, so that one bad message does not hold back the nine beside it.
    """
    from botocore.exceptions import ClientError

    sent: set[str] = set()
    refused: dict[str, str] = {}
    for batch in sqs_batches(entries, entry_size):
        try:
            response = sqs.send_message_batch(QueueUrl=queue_url, Entries=batch)
        except ClientError as error:
            if len(batch) > 1:
                for entry in batch:
                    one_sent, one_refused = _send(sqs, queue_url, [entry])
                    sent |= one_sent
                    refused.update(one_refused)
            else:
                refused[batch[0]["Id"]] = str(error)
            continue
        sent |= {entry["Id"] for entry in response.get("Successful", [])}
        for failure in response.get("Failed", []):
            refused[failure["Id"]] = f"{failure.get('Code')}: {failure.get('Message', '')}".rstrip(": ")
    return sent, refused


def _set_visibility(sqs: Any, queue_url: str, receipt_handles: list[str], seconds: int) -> None:
    for start in range(0, len(receipt_handles), 10):
        sqs.change_message_visibility_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": seconds}
            for i, handle in enumerate(receipt_handles[start:start + 10])
        ])


def approximate_depth(sqs: Any, queue_url: str) -> int:
    """Messages in the queue (visible, in flight, delayed), as SQS approximates them."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=_DEPTH_ATTRIBUTES)["Attributes"]
    return sum(int(value) for value in attributes.values())


def preview(sqs: Any, route: Route, limit: int, wait_s: int = WAIT_SECONDS) -> list[dict[str, Any]]:
    """The first ``limit`` messages of the source as a redrive would treat them; nothing moves.

    Each peeked message is held for HOLD_SECONDS while paging and released at the end.
    """
    found: list[dict[str, Any]] = []
    handles: list[str] = []
    try:
        while len(found) < limit:
            seen = {f["message_id"] for f in found}
            messages = [m for m in _receive(sqs, route.source.url, min(10, limit - len(found)), wait_s)
                        if m["MessageId"] not in seen]
            if not messages:
                break
            for message in messages:
                handles.append(message["ReceiptHandle"])
                found.append(_described(message, route.prepare(message)))
    finally:
        _set_visibility(sqs, route.source.url, handles, 0)
    return found


def _described(message: Mapping[str, Any], prepared: dict[str, Any] | str) -> dict[str, Any]:
    system = message.get("Attributes") or {}
    described: dict[str, Any] = {
        "message_id": message["MessageId"],
        "sent_timestamp": int(system.get("SentTimestamp", 0)),
        "receive_count": int(system.get("ApproximateReceiveCount", 0)),
        "body_bytes": len(message["Body"].encode("utf-8")),
    }
    reason = (message.get("MessageAttributes") or {}).get("reason_code")
    if reason is not None:  # a reject: why the validator refused it
        described["reason_code"] = reason.get("StringValue")
    if isinstance(prepared, str):
        return {**described, "action": "stay", "why": prepared}
    first = (prepared.get("MessageAttributes") or {}).get(ORIGINAL_SENT_TIMESTAMP)
    return {**described, "action": "move", ORIGINAL_SENT_TIMESTAMP: int(first["StringValue"]) if first else None}


# --- Finding the queues ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """The environment a command acts on: its region, its name prefix and suffix, and (local) its endpoint."""

    region: str
    project: str
    suffix: str
    endpoint: str | None = None

    def name(self, thing: str) -> str:
        from modules.naming import resource_name

        return resource_name(self.project, thing, self.suffix)


def environment_of(queue: str, project: str) -> str:
    """The environment suffix in a queue name ``<project>-<thing>-<suffix>[-dlq]``; RedriveError if none."""
    base = queue.removesuffix(DLQ_TAIL)
    thing, _, suffix = base.removeprefix(f"{project}-").partition("-")
    if not base.startswith(f"{project}-") or thing not in (*STAGE_QUEUES, REJECTS) or not suffix:
        raise RedriveError(f"cannot tell the environment from the queue name {queue!r} (expected "
                           f"{project}-<ingest|enrich|process|rejects>-<env>[-dlq]): pass --env")
    return suffix


def load_target(env_name: str) -> Target:
    """Region, names and (for `local`) the emulator's endpoint of the environment named ``env_name``."""
    from modules.settings import SettingsError
    from tools.environment import read_environment

    try:
        settings, endpoint = read_environment(env_name)
    except SettingsError as error:
        raise RedriveError(f"environment {env_name!r}: {error}") from error
    return Target(region=settings.region, project=settings.project, suffix=settings.suffix, endpoint=endpoint)


def sqs_client(target: Target) -> Any:
    if target.endpoint:
        from tools.local.emulator import client

        return client("sqs", target.endpoint, target.region)
    import boto3

    return boto3.client("sqs", region_name=target.region)


def _queue(sqs: Any, name: str, target: Target) -> QueueRef:
    try:
        return QueueRef(name, sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except sqs.exceptions.QueueDoesNotExist as error:
        raise RedriveError(f"no queue {name!r} in {target.region} for these credentials: check the name and "
                           "--env, and that AWS_PROFILE (or the credentials) point at the environment's account"
                           ) from error


def _name_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def resolve_route(sqs: Any, queue: str, target: Target) -> Route:
    """What ``queue`` means: the rejects queue (a replay into ingest), a queue with a dead-letter queue (its
    DLQ back into it) or a dead-letter queue (back into the one queue that uses it)."""
    name = target.name(queue) if queue in (*STAGE_QUEUES, REJECTS) else queue
    named = _queue(sqs, name, target)
    if name == target.name(REJECTS):
        return Route(named, _queue(sqs, target.name(INGEST), target), replay=True)
    # SQS leaves out "Attributes" when the queue has none of those asked for.
    attributes = sqs.get_queue_attributes(QueueUrl=named.url, AttributeNames=["RedrivePolicy"]).get("Attributes", {})
    if "RedrivePolicy" in attributes:
        dead_letter = json.loads(attributes["RedrivePolicy"])["deadLetterTargetArn"].rsplit(":", 1)[-1]
        return Route(_queue(sqs, dead_letter, target), named)
    sources = sqs.list_dead_letter_source_queues(QueueUrl=named.url).get("queueUrls", [])
    if len(sources) != 1:
        found = ", ".join(sorted(_name_of(u) for u in sources)) or "none"
        raise RedriveError(f"{name} is neither the rejects queue nor the dead-letter queue of exactly one queue "
                           f"(queues that use it: {found}): name a dead-letter queue, its queue, or the rejects "
                           "queue")
    return Route(named, QueueRef(_name_of(sources[0]), sources[0]))


# --- The command ------------------------------------------------------------------------------------------------

def run(args: argparse.Namespace) -> int:
    """The ``redrive`` command: 0 done (or dry run), 1 some messages refused by the target, 2 cannot start."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        target = load_target(args.env or environment_of(args.queue, _default_project()))
        return redrive(sqs_client(target), target, args.queue, apply=args.apply, limit=args.limit)
    except RedriveError as error:
        print(f"redrive: {error}", file=sys.stderr)
    except NoCredentialsError:
        print("redrive: no AWS credentials: set AWS_PROFILE (or sign in with `aws sso login`) for the "
              "environment's account, with a role that may use its queues (see `python -m tools redrive -h`)",
              file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        print(f"redrive: AWS refused: {error}", file=sys.stderr)
    return 2


def redrive(sqs: Any, target: Target, queue: str, *, apply: bool, limit: int | None, out: Any = None) -> int:
    """Resolve ``queue`` in ``target`` and move its messages (``apply``) or show what would move; exit code."""
    out = out or sys.stdout
    route = resolve_route(sqs, queue, target)
    wait_s = 0 if target.endpoint else WAIT_SECONDS
    what = "replay" if route.replay else "redrive"
    if not apply:
        depth = approximate_depth(sqs, route.source.url)
        for line in preview(sqs, route, limit or DRY_RUN_SAMPLE, wait_s):
            print(json.dumps(line, sort_keys=True), file=out)
        again = f" --limit {limit}" if limit else ""
        print(f"dry run: {route.source.name} holds about {depth} messages; a {what} would move them to "
              f"{route.target.name}. Nothing moved: run again with --apply{again}.", file=out)
        return 0
    result = move_messages(sqs, route.source.url, route.target.url, prepare=route.prepare, limit=limit,
                           wait_s=wait_s)
    print(f"moved {result.moved} messages from {route.source.name} to {route.target.name}", file=out)
    for message_id, why in sorted(result.left.items()):
        print(f"left {message_id} in {route.source.name}: {why}", file=out)
    return 1 if any(why.startswith("the target refused") for why in result.left.values()) else 0


def _default_project() -> str:
    from main import environments_file

    return environments_file().project()


def _limit(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"--limit {value} is invalid: give a whole number of messages, 1 or more")
    return number


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``redrive`` on the operator CLI (``python -m tools``)."""
    parser = commands.add_parser(
        "redrive", help="move a dead-letter (or the rejects) queue's messages back, keeping record keys; dry run first",
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--queue", required=True, metavar="QUEUE",
                        help="a dead-letter queue, the queue it serves, or the rejects queue (name, or with --env "
                             "ingest|enrich|process|rejects)")
    parser.add_argument("--env", metavar="ENV", help="local, dev, staging, prod or a preview suffix "
                                                     "(default: the one the queue's name ends with)")
    parser.add_argument("--apply", action="store_true", help="move the messages (without it: a dry run)")
    parser.add_argument("--limit", type=_limit, metavar="N",
                        help=f"move at most N messages (dry run: list N, default {DRY_RUN_SAMPLE})")
    parser.set_defaults(handler=run)
