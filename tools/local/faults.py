"""Injected DynamoDB write failures, to watch the pipeline's retries and dead-letter queues work locally.

:class:`WriteFaults` hooks botocore's events on the botocore session the handlers make their clients
from (``handlers.shared.clients.session()``), so every client made from it afterwards is affected, and
nothing in the handlers changes.  Items are chosen
by their ``id``, so a run is reproducible:

* transient: ``fail_once_rate`` of the ids (by a hash) are left out of their first BatchWriteItem and
  handed back in ``UnprocessedItems``, which is what DynamoDB answers when it throttles part of a batch;
* permanent: a BatchWriteItem or PutItem holding an id of ``always_fail`` is refused with a
  ValidationException, as DynamoDB refuses an item it can never store (a whole batch at once).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

_HOOKS = ("before-parameter-build", "before-call", "after-call")
_OPERATIONS = ("BatchWriteItem", "PutItem")
_STRIPPED = "tap_fault_unprocessed"
_ALL_STRIPPED = "tap_fault_all_unprocessed"
_REFUSED = "tap_fault_refused"


def _item_id(item: dict[str, Any]) -> str | None:
    value = item.get("id", {})
    return value.get("S") if isinstance(value, dict) else None


def _events(session: Any) -> Any:
    """The event emitter of a boto3 Session (``.events``) or of a botocore Session (a component)."""
    events = getattr(session, "events", None)
    return events if events is not None else session.get_component("event_emitter")


class WriteFaults:
    """Fails chosen DynamoDB writes; counts them (``injected`` unprocessed items, ``refused`` calls)."""

    def __init__(
        self, *, fail_once_rate: float = 0.0, always_fail: Iterable[str] = (), seed: str = "tap"
    ) -> None:
        if not 0.0 <= fail_once_rate <= 1.0:
            raise ValueError("fail_once_rate must be between 0 and 1")
        self.fail_once_rate = fail_once_rate
        self.always_fail = frozenset(always_fail)
        self.seed = seed
        self.failed_once: set[str] = set()
        self.injected = 0
        self.refused = 0
        self._session: Any = None

    def fails_once(self, item_id: str) -> bool:
        """Whether this write of ``item_id`` is its transient failure (each chosen id fails once)."""
        if item_id in self.failed_once or not self.fail_once_rate:
            return False
        digest = hashlib.sha256(f"{self.seed}:{item_id}".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 < self.fail_once_rate:
            self.failed_once.add(item_id)
            return True
        return False

    def install(self, session: Any = None) -> WriteFaults:
        """Hook into ``session`` (a boto3 or botocore session; the handlers' own if None): affects clients
        created from now on."""
        if session is None:
            from handlers.shared import clients

            session = clients.session()
        self._session = session
        for event, handler in self._handlers():
            _events(session).register(event, handler)
        return self

    def uninstall(self) -> None:
        if self._session is not None:
            for event, handler in self._handlers():
                _events(self._session).unregister(event, handler)
            self._session = None

    def _handlers(self) -> list[tuple[str, Any]]:
        handlers = dict(zip(_HOOKS, (self._choose, self._answer_instead, self._hand_back), strict=True))
        return [(f"{hook}.dynamodb.{op}", handlers[hook]) for hook in _HOOKS for op in _OPERATIONS]

    def _choose(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == "PutItem":
            item_id = _item_id(params.get("Item", {}))
            if item_id in self.always_fail:
                context[_REFUSED] = item_id
            return
        requests = [(table, r) for table, rs in params.get("RequestItems", {}).items() for r in rs]
        ids = [_item_id(r.get("PutRequest", {}).get("Item", {})) for _, r in requests]
        refused = next((i for i in ids if i in self.always_fail), None)
        if refused is not None:
            context[_REFUSED] = refused
            return
        kept: dict[str, list[Any]] = {}
        stripped: dict[str, list[Any]] = {}
        for (table, request), item_id in zip(requests, ids, strict=True):
            target = stripped if item_id is not None and self.fails_once(item_id) else kept
            target.setdefault(table, []).append(request)
        if stripped:
            params["RequestItems"] = kept  # a new mapping: the caller's own lists stay as they were
            context[_STRIPPED] = stripped
            context[_ALL_STRIPPED] = not kept
            self.injected += sum(len(r) for r in stripped.values())

    def _answer_instead(self, context: dict[str, Any], **_: Any) -> Any:
        # Answers in DynamoDB's place: a refusal, or (every item stripped) an empty successful write,
        # since DynamoDB would refuse a request with no items.
        from botocore.awsrequest import AWSResponse

        if _REFUSED in context:
            self.refused += 1
            message = f"injected fault: the item with id {context[_REFUSED]!r} can never be stored"
            error = {"Code": "ValidationException", "Message": message}
            return AWSResponse("", 400, {}, None), {
                "Error": error,
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        if context.get(_ALL_STRIPPED):
            return AWSResponse("", 200, {}, None), {"UnprocessedItems": {}, "ResponseMetadata": {}}
        return None

    def _hand_back(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        stripped = context.pop(_STRIPPED, None)
        if not stripped or "Error" in parsed:
            return
        unprocessed = parsed.setdefault("UnprocessedItems", {})
        for table, requests in stripped.items():
            unprocessed.setdefault(table, []).extend(requests)
