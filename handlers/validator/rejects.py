"""Reject messages: the original body and why it was refused, split into parts when it does not fit.

SQS counts a message's attributes against its 256 KiB with the body, so a body near the limit plus its
reason cannot travel as one message. Rather than truncate it (and lose what the producer sent), such a body
is cut into parts, at UTF-8 character boundaries, each sent as its own reject message with the same reason
and these attributes:

- ``body_part``: ``"2/3"`` (1-based part number / number of parts);
- ``body_bytes``: the UTF-8 size of the whole original body;
- ``body_sha256``: the hex SHA-256 of the whole original body, to check the reassembly.

Joining the parts' bodies in part order gives the original body back, byte for byte. A record is
acknowledged only when every part was sent; otherwise it is a batch item failure and all its parts are sent
again on the next receive (the same ``source_message_id`` and ``body_sha256`` identify repeats).
"""

from __future__ import annotations

import hashlib

from handlers.shared.contract import MAX_SQS_MESSAGE_BYTES
from handlers.shared.forwarding import Outgoing

#: The widest ``body_part`` value, reserved when sizing parts (a 1 MiB body makes 5 parts).
_PART_LABEL_RESERVE = "999/999"


def reject_messages(source_id: str, body: str, attributes: dict[str, str]) -> list[Outgoing]:
    """One reject message for ``body``, or its parts when body and attributes exceed the SQS limit."""
    whole = Outgoing(source_id, body, attributes)
    if whole.size() <= MAX_SQS_MESSAGE_BYTES:
        return [whole]
    raw = body.encode("utf-8", "surrogatepass")
    part_attributes = {
        **attributes,
        "body_part": _PART_LABEL_RESERVE,
        "body_bytes": str(len(raw)),
        "body_sha256": hashlib.sha256(raw).hexdigest(),
    }
    room = MAX_SQS_MESSAGE_BYTES - Outgoing(source_id, "", part_attributes).size()
    parts = split_utf8(raw, room)
    return [
        Outgoing(source_id, part, {**part_attributes, "body_part": f"{number}/{len(parts)}"})
        for number, part in enumerate(parts, start=1)
    ]


def split_utf8(raw: bytes, max_bytes: int) -> list[str]:
    """``raw`` cut into texts of at most ``max_bytes`` UTF-8 bytes each, never inside a character."""
    if max_bytes < 4:
        raise ValueError(f"max_bytes must leave room for one UTF-8 character (4 bytes), not {max_bytes}")
    parts: list[str] = []
    start = 0
    while start < len(raw):
        end = min(start + max_bytes, len(raw))
        while end < len(raw) and raw[end] & 0xC0 == 0x80:  # a continuation byte: back off to its lead
            end -= 1
        parts.append(raw[start:end].decode("utf-8", "surrogatepass"))
        start = end
    return parts
