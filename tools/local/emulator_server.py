"""moto's server (``python -m moto.server``) with two hot helpers swapped for faster ones, its package
folder listed once rather than for every request, SQS's
SetQueueAttributes made to keep a queue's policy when the call does not name it, as SQS does, Lambda's
CreateEventSourceMapping made to keep one mapping per queue and function, as Lambda does, and a repeated
create or conditional put (a client resending a call moto already served, on a loaded machine) answered with
what the first one made.

Profiling the pipeline on moto 5.2 shows most of the emulator's time in two helpers that SQS calls for
every message, several times (``Queue.attributes`` recomputes every attribute, message counts included):
``camelcase_to_underscores`` (a pure function of its string, so memoizing it changes nothing) and
``unix_time``/``unix_time_millis`` without an argument (the current time, computed through naive
datetimes; ``time.time()`` gives the same number).  Both are replaced before moto loads its backends,
which import them by name.  If a moto release renames them, the server simply runs unpatched.

    python -m tools.local.emulator_server [moto.server options, e.g. -H 127.0.0.1 -p 5000]
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import threading
import time
from typing import Any


def speed_up_moto() -> bool:
    """Patch moto.core.utils in place; False if its helpers are not the ones this was written for."""
    from moto.core import utils

    originals = [getattr(utils, name, None) for name in ("camelcase_to_underscores", "unix_time")]
    if not all(callable(helper) for helper in originals):
        return False
    camelcase_to_underscores, unix_time = originals

    def fast_unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(unix_time(dt))  # type: ignore[misc]

    def fast_unix_time_millis(dt: Any = None) -> float:
        return fast_unix_time(dt) * 1000.0

    utils.camelcase_to_underscores = functools.lru_cache(maxsize=8192)(camelcase_to_underscores)
    utils.unix_time = fast_unix_time
    utils.unix_time_millis = fast_unix_time_millis
    return True


def list_moto_modules_once() -> bool:
    """moto's server finds the backend for each request's host by listing its own package folder: a
    ``listdir`` and a ``stat`` of each of its ~150 entries for every request, 5 % of the emulator's samples under
    the 10,000-event run (py-spy, docs/performance.md). The folder does not change while the server runs: it is
    listed once. False (and nothing patched) if moto has no such function any more."""
    from moto import backends

    original = getattr(backends, "list_of_moto_modules", None)
    if not callable(original):
        return False
    modules = tuple(original())

    def list_of_moto_modules() -> tuple[str, ...]:
        return modules

    backends.list_of_moto_modules = list_of_moto_modules
    return True


def keep_unnamed_queue_policy() -> bool:
    """SetQueueAttributes changes only the attributes it names, on SQS; moto 5.2 also clears ``Policy``.

    moto's ``Queue._set_attributes`` ends with ``self.policy = attributes.get("Policy")``, so setting a
    redrive policy on a queue created with its TLS-only policy would drop that policy, and the next plan
    would want to set it again.  The patched method passes the current policy along when the call does
    not name one.  False (and nothing patched) if moto's queue has no such method any more.
    """
    from moto.sqs.models import Queue

    original = getattr(Queue, "_set_attributes", None)
    if not callable(original):
        return False

    def _set_attributes(self: Any, attributes: dict[str, Any], now: Any = None) -> None:
        # While the constructor runs, the queue has no policy yet: its defaults name Policy anyway.
        if "Policy" not in attributes and hasattr(self, "_policy_json"):
            attributes = {**attributes, "Policy": self.policy}
        original(self, attributes, now)

    Queue._set_attributes = _set_attributes
    return True


def request_digest(spec: dict[str, Any]) -> str:
    """A request body's fingerprint (a CreateFunction body carries the whole zip: only its hash is kept)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def log_repeat(operation: str, what: str) -> None:
    """One line in the emulator's log for each repeated create answered, to see when they happen."""
    print(f"tap emulator: {operation} repeated for {what}; answered with what the first one made",
          file=sys.stderr, flush=True)


def one_mapping_per_source_and_function() -> bool:
    """CreateEventSourceMapping refuses a second mapping of one queue to one function, as Lambda does, and
    answers a repeat of the very request that made the existing mapping with that mapping.

    Lambda answers such a create with ResourceConflictException, naming the existing mapping's UUID
    (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html, "Errors"). moto 5.2
    means to, but looks the pair up under a literal key (``"func.function_arn"``), so it makes a second
    mapping. A repeated create (a client retrying a request whose answer it did not get) then leaves a
    mapping that no Terraform state knows of, and ``terraform destroy`` leaves it behind: seen once in CI, on
    a loaded machine. A byte-for-byte repeat gets the mapping it made (and a line in the emulator's log, to
    see when it happens); any other second mapping of the pair is refused as Lambda refuses it. False (and
    nothing patched) if moto's Lambda backend has no such method any more.
    """
    from moto.awslambda.exceptions import LambdaClientError
    from moto.awslambda.models import LambdaBackend

    original = getattr(LambdaBackend, "create_event_source_mapping", None)
    if not callable(original):
        return False
    one_at_a_time = threading.Lock()  # moto's server answers each request on a thread of its own

    class MappingConflict(LambdaClientError):
        code = 409

        def __init__(self, message: str) -> None:
            super().__init__("ResourceConflictException", message)

    def create_event_source_mapping(self: Any, spec: dict[str, Any]) -> Any:
        request = request_digest(spec)  # before moto adds its own keys to ``spec``
        with one_at_a_time:
            source, name = spec.get("EventSourceArn"), spec.get("FunctionName")
            function = self._lambdas.get_function_by_name_or_arn_with_qualifier(name or "")
            for existing in list(self._event_source_mappings.values()):
                same_function = existing.function_name == name or existing.function_arn == function.function_arn
                if existing.event_source_arn != source or not same_function:
                    continue
                if getattr(existing, "tap_request", None) == request:
                    log_repeat("CreateEventSourceMapping", f"{source} -> {name} ({existing.uuid})")
                    return existing
                raise MappingConflict(
                    f"An event source mapping with event source ({source}) and function ({name}) already "
                    f"exists. Please update or delete the existing mapping with UUID {existing.uuid}")
            mapping = original(self, spec)
            mapping.tap_request = request
            return mapping

    LambdaBackend.create_event_source_mapping = create_event_source_mapping
    return True


def answer_repeated_function_creates() -> bool:
    """A repeat of the CreateFunction that made a function still there gets the first one's answer again.

    On a loaded machine the provider has sent a CreateFunction again that moto had already served; moto
    answered the repeat ``ResourceConflictException: Function already exist``, which the provider retried
    for five minutes before the apply failed. A byte-for-byte repeat (the same body, zip included) is
    answered as the first one was, while the function it made exists (a function deleted and created
    again is a new create); any other create of an existing name is still refused, as Lambda refuses it.
    moto checks for the name in its response layer, so that is where this goes. False (and nothing
    patched) if moto's Lambda responses have no such method any more.
    """
    from moto.awslambda.responses import LambdaResponse

    original = getattr(LambdaResponse, "create_function", None)
    if not callable(original):
        return False
    one_at_a_time = threading.Lock()

    def create_function(self: Any) -> Any:
        request, name = request_digest(self.json_body), str(self.json_body.get("FunctionName", ""))
        with one_at_a_time:
            made = self.backend.__dict__.setdefault("tap_functions_made", {})
            earlier = made.get(name)
            if earlier is not None and earlier[0] == request and _current_function(self.backend, name) is earlier[1]:
                log_repeat("CreateFunction", name)
                return earlier[2]
            answer = original(self)
            made[name] = (request, _current_function(self.backend, name), answer)
            return answer

    LambdaResponse.create_function = create_function
    return True


def answer_repeated_conditional_puts() -> bool:
    """A conditional PutItem that fails its condition only on the very item it writes is answered as a success.

    Terraform's S3 backend takes its DynamoDB lock with a PutItem conditioned on the lock's absence. On a loaded
    machine that PutItem came again after moto had served it (seen once in a full run of the suite): the
    repeat failed its condition on the item the first one wrote, and Terraform took its own lock for another
    run's and waited out its five-minute lock timeout. When the item stored under the key is attribute for
    attribute the one being put (a lock's item carries its run's UUID and time), the put is the one that
    wrote it: answered as it was the first time, with a line in the emulator's log. Any other put that fails
    its condition is refused, as DynamoDB refuses it. False (and nothing patched) if moto's DynamoDB backend
    has no such method any more.
    """
    from moto.dynamodb.exceptions import ConditionalCheckFailed
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType

    original = getattr(DynamoDBBackend, "put_item", None)
    if not callable(original):
        return False

    def put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, table_name, item_attrs, *args, **kwargs)
        except ConditionalCheckFailed:
            table = self.get_table(table_name)
            range_attr = table.range_key_attr
            stored = table.get_item(DynamoType(item_attrs[table.hash_key_attr]),
                                    DynamoType(item_attrs[range_attr]) if range_attr else None)
            if stored is None or stored.to_json()["Attributes"] != item_attrs:
                raise
            log_repeat("PutItem", f"{table_name} {item_attrs[table.hash_key_attr]}")
            return stored

    DynamoDBBackend.put_item = put_item
    return True


def _current_function(backend: Any, name: str) -> Any:
    """The function called ``name`` in moto's Lambda backend, None if there is none."""
    try:
        return backend._lambdas.get_function_by_name_forbid_qualifier(name)
    except Exception:  # noqa: BLE001 - moto's "unknown function" (and a name with a qualifier): none
        return None


def main(argv: list[str] | None = None) -> None:
    speed_up_moto()
    list_moto_modules_once()
    keep_unnamed_queue_policy()
    one_mapping_per_source_and_function()
    answer_repeated_function_creates()
    answer_repeated_conditional_puts()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
