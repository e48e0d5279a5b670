"""Sample events, valid and malformed, and sending message bodies to a queue in batches of ten."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

#: SendMessageBatch takes at most 10 entries.
SEND_BATCH = 10

#: Kinds of malformed body, each with the reason code the validator gives it (handlers/shared/errors.py).
MALFORMED_KINDS: dict[str, str] = {
    "bad_json": "malformed_json",
    "missing_id": "missing_id",
    "unknown_field": "unknown_field",
    "bad_timestamp": "invalid_timestamp",
    "data_not_object": "invalid_data",
    "nan": "unsupported_number",
    "not_an_object": "not_an_object",
}


@dataclass(frozen=True)
class SampleEvent:
    """A message body to send, its ``id``, and for a malformed one its kind (see MALFORMED_KINDS)."""

    id: str
    body: str
    malformed: str | None = None


def malformed_body(kind: str, event_id: str, now_ms: int) -> str:
    """A body that breaks the record contract in the way ``kind`` names."""
    if kind == "bad_json":
        return '{"id": "' + event_id + '", "data": {'
    if kind == "missing_id":
        return json.dumps({"timestamp": now_ms, "data": {"ref": event_id}})
    if kind == "unknown_field":
        return json.dumps({"id": event_id, "timestamp": now_ms, "data": {}, "colour": "blue"})
    if kind == "bad_timestamp":
        return json.dumps({"id": event_id, "timestamp": "yesterday", "data": {}})
    if kind == "data_not_object":
        return json.dumps({"id": event_id, "timestamp": now_ms, "data": [1, 2, 3]})
    if kind == "nan":
        # Python's json writes NaN, which is not JSON: producers in the wild do this.
        return json.dumps({"id": event_id, "timestamp": now_ms, "data": {"value": float("nan")}})
    if kind == "not_an_object":
        return json.dumps([event_id])
    raise ValueError(f"unknown malformed kind {kind!r}; known: {', '.join(MALFORMED_KINDS)}")


def sample_events(
    count: int, *, malformed_rate: float = 0.05, seed: int = 7, prefix: str = "evt"
) -> list[SampleEvent]:
    """``count`` events, ``malformed_rate`` of them malformed (kinds in turn), in shuffled order.

    Valid events carry a timestamp (so their stored key is known in advance) and a small ``data`` object
    with a nested map, a list, a decimal and a unicode string.
    """
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    bad = round(count * malformed_rate)
    kinds = list(MALFORMED_KINDS)
    events = []
    for n in range(count):
        event_id = f"{prefix}-{n:06d}"
        if n < bad:
            kind = kinds[n % len(kinds)]
            events.append(SampleEvent(event_id, malformed_body(kind, event_id, now_ms), kind))
            continue
        data = {
            "n": n,
            "amount": round(rng.uniform(0, 1000), 2),
            "tags": ["a", "b"][: rng.randint(0, 2)],
            "customer": {"name": rng.choice(["Zoë", "Ana", "李"]), "tier": rng.randint(1, 3)},
        }
        body = json.dumps(
            {"id": event_id, "timestamp": now_ms - rng.randint(0, 86_400_000), "data": data},
            ensure_ascii=False,
        )
        events.append(SampleEvent(event_id, body))
    rng.shuffle(events)
    return events


def send_bodies(sqs: Any, queue_url: str, bodies: Sequence[str]) -> list[str]:
    """SendMessageBatch in tens; returns the message ids; RuntimeError naming any entry SQS refused."""
    message_ids = []
    for start in range(0, len(bodies), SEND_BATCH):
        chunk = bodies[start : start + SEND_BATCH]
        response = sqs.send_message_batch(
            QueueUrl=queue_url, Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        )
        if response.get("Failed"):
            raise RuntimeError(f"SQS refused {len(response['Failed'])} message(s): {response['Failed'][:3]}")
        by_entry = {entry["Id"]: entry["MessageId"] for entry in response.get("Successful", [])}
        message_ids += [by_entry[str(i)] for i in range(len(chunk))]
    return message_ids


def read_json_lines(lines: Iterable[str]) -> Iterator[str]:
    """Message bodies from JSON Lines: one body per non-blank line, sent as written (even if invalid)."""
    for line in lines:
        line = line.rstrip("\n")
        if line.strip():
            yield line


@dataclass(frozen=True)
class JsonLines:
    """The message bodies of a JSON Lines input, and the numbers (from 1) of the blank lines left out."""

    bodies: list[str]
    blank_lines: list[int]

    @classmethod
    def read(cls, lines: Iterable[str]) -> JsonLines:
        bodies: list[str] = []
        blank: list[int] = []
        for number, line in enumerate(lines, start=1):
            if line.strip():
                bodies.append(line.rstrip("\n"))
            else:
                blank.append(number)
        return cls(bodies, blank)

    def skipped(self) -> str:
        """What was left out and why, for the end of a sentence ('' when nothing was)."""
        if not self.blank_lines:
            return ""
        shown = ", ".join(map(str, self.blank_lines[:10])) + (", ..." if len(self.blank_lines) > 10 else "")
        plural = "s" if len(self.blank_lines) > 1 else ""
        return (f"; skipped {len(self.blank_lines)} blank line{plural} (line{plural} {shown}): a blank line "
                "holds no message")


class QueueProducer:
    """Sends bodies to a queue ``chunk`` at a time, whenever the runner asks (see Runner.run)."""

    def __init__(self, sqs: Any, queue_url: str, bodies: Sequence[str], chunk: int = 20) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.bodies = bodies
        self.chunk = chunk
        self.sent = 0
        self.message_ids: list[str] = []

    def has_more(self) -> bool:
        return self.sent < len(self.bodies)

    def send_some(self) -> int:
        chunk = self.bodies[self.sent : self.sent + self.chunk]
        self.message_ids += send_bodies(self.sqs, self.queue_url, chunk)
        self.sent += len(chunk)
        return len(chunk)
