"""The local event-source runner: Lambda's SQS event source mapping, for code the emulator cannot run.

For each stage (a function fed by a queue) it receives up to the mapping's batch size, waiting at most
the mapping's batching window for a full batch; builds the SQS event Lambda would build; calls the
function's handler in this process with the function's environment and a context that honours its
timeout; deletes the records that succeeded; and leaves the failures in flight, so that they come back
after the visibility timeout and, after the queue's ``maxReceiveCount`` receives, the emulator's redrive
moves them to the dead-letter queue.  As on Lambda, an exception, a timeout or an invalid response fails
the whole batch, and without ``ReportBatchItemFailures`` any error does.

Differences from Lambda, all deliberate:

* One process runs every stage, one invocation at a time.  The handlers read their settings from
  ``os.environ``, which is process-wide, so the runner swaps each function's variables in around its
  invocation.  It is also the only way to use moto's server safely: moto has no lock around a queue, and
  a DeleteMessage racing a SendMessage on the same queue can lose the sent message.
* ``retry_visibility``: a failed record becomes visible again after the queue's visibility timeout (6 x
  the function timeout + the batching window: minutes).  Locally the runner can shorten that by calling
  ChangeMessageVisibility on the failed records; ``None`` keeps the queue's timeout.
* A function's output (its Powertools logs and metrics) goes to ``<log_dir>/<function>.log``, standing in
  for its CloudWatch log group, so the terminal shows only the runner's progress.
"""

from __future__ import annotations

import base64
import importlib
import io
import os
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TextIO

from tools.local.emulator import EMULATOR_ENV, client
from tools.local.inspect_queues import depth
from tools.local.topology import Function, Stage, Topology

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: ReceiveMessage returns at most 10 messages; DeleteMessageBatch and friends take at most 10 entries.
SQS_MAX_BATCH = 10
#: Default ``retry_visibility``: failed records come back after this many seconds (moto counts whole ones).
DEFAULT_RETRY_VISIBILITY = 1


class LocalContext:
    """The Lambda context object: names, memory, request id, and the time left before the timeout."""

    def __init__(self, function: Function, invoked_arn: str) -> None:
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = function.memory_size
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self.identity = None
        self.client_context = None
        self.timeout_ms = function.timeout * 1000
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the function's timeout (0 once past it), as Lambda reports them."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class Producer(Protocol):
    """Something that sends messages to a queue in steps (see :class:`Runner.run`)."""

    queue_url: str

    def has_more(self) -> bool: ...

    def send_some(self) -> int: ...


@dataclass
class StageStats:
    """What one stage did: invocations, records in and out, and each failed record's receive count."""

    function: str
    queue: str
    invocations: int = 0
    received: int = 0
    succeeded: int = 0
    failed: int = 0
    #: Invocations that failed whole: an exception, a timeout or an invalid response.
    errors: int = 0
    busy_seconds: float = 0.0
    #: messageId -> ApproximateReceiveCount at its latest failure (records that ever failed only).
    failures: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


class FunctionLogs(io.TextIOBase):
    """Stands in for ``sys.stdout`` while the runner lives: what a function writes goes to its log file.

    Loggers keep the stream they were created with (Powertools' Logger binds ``sys.stdout`` on import), so
    swapping ``sys.stdout`` around each call would miss them; a stream that routes by the function being
    invoked catches both them and ``print``.
    """

    def __init__(self, passthrough: TextIO, log_dir: Path) -> None:
        super().__init__()
        self.passthrough = passthrough
        self.log_dir = log_dir
        self.current: TextIO | None = None
        self._files: dict[str, TextIO] = {}

    def write(self, text: str) -> int:
        return (self.current or self.passthrough).write(text)

    def flush(self) -> None:
        (self.current or self.passthrough).flush()

    def writable(self) -> bool:
        return True

    @contextmanager
    def routed_to(self, function_name: str) -> Iterator[TextIO]:
        log = self._files.get(function_name)
        if log is None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = self._files[function_name] = (self.log_dir / f"{function_name}.log").open(
                "a", encoding="utf-8"
            )
        self.current = log
        try:
            yield log
        finally:
            log.flush()
            self.current = None

    def close_files(self) -> None:
        for log in self._files.values():
            log.close()
        self._files.clear()


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set ``variables`` in ``os.environ`` for the block, then put back exactly what was there."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_handler(handler: str) -> Callable[[dict[str, Any], Any], Any]:
    """The callable a Lambda handler string names: ``handlers.validator.app.handler``."""
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise ValueError(f"handler {handler!r} is not 'module.function'")
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))  # the function's code root, as in its deployment package
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


def sqs_event_record(message: Mapping[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One ReceiveMessage message as a record of Lambda's SQS event (camelCase keys, base64 binaries)."""
    attributes = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        attribute: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value["DataType"],
        }
        if "StringValue" in value:
            attribute["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        attributes[name] = attribute
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": attributes,
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_ids(response: Any, message_ids: list[str]) -> set[str] | None:
    """The records a ReportBatchItemFailures response names; None if Lambda would fail the whole batch.

    Lambda reads None, ``{}`` and an empty list as "all succeeded", and an identifier that is missing, empty
    or not in the batch as an invalid response.
    """
    if response is None:
        return set()
    if not isinstance(response, Mapping):
        return None
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    found = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not identifier or identifier not in message_ids:
            return None
        found.add(identifier)
    return found


class StagePoller:
    """One event source mapping: a batch being gathered from the source queue, then one invocation."""

    def __init__(self, runner: Runner, stage: Stage) -> None:
        self.runner = runner
        self.stage = stage
        self.stats = StageStats(stage.function.name, stage.source.name)
        self.batch: list[dict[str, Any]] = []
        self.batch_started = 0.0
        self.last_receive_short = True
        self._handler: Callable[[dict[str, Any], Any], Any] | None = None

    def runs_dry(self, sent: int) -> bool:
        """Whether the source queue, ``sent`` messages so far, needs more before this stage's next receive: its
        last receive came back short, or fewer than a batch of them are still to be received. Feeding before the
        queue is empty spares an empty receive of every stage per chunk (a third of all receives with 20-message
        chunks: docs/performance.md); redeliveries count as received, so a retry only makes it feed earlier."""
        return self.last_receive_short or sent - self.stats.received - len(self.batch) < self.stage.batch_size

    @property
    def handler(self) -> Callable[[dict[str, Any], Any], Any]:
        if self._handler is None:
            self._handler = load_handler(self.stage.function.handler)
        return self._handler

    def poll(self) -> bool:
        """Receive what is there without waiting; invoke when the batch is full or its window is over.

        Returns True if it received or invoked anything.
        """
        wanted = self.stage.batch_size - len(self.batch)
        received = 0
        while wanted > 0:
            asked = min(SQS_MAX_BATCH, wanted)
            messages = self.runner.sqs.receive_message(
                QueueUrl=self.stage.source.url,
                MaxNumberOfMessages=asked,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            self.last_receive_short = len(messages) < asked
            if messages and not self.batch:
                self.batch_started = time.monotonic()
            self.batch += messages
            received += len(messages)
            wanted -= len(messages)
            if self.last_receive_short:
                break
        if self.batch and (
            len(self.batch) >= self.stage.batch_size
            or time.monotonic() - self.batch_started >= self.stage.batching_window
        ):
            self.invoke()
            return True
        return received > 0

    def invoke(self) -> None:
        """Call the handler with the gathered batch, then settle every record of it."""
        batch, self.batch = self.batch, []
        started = time.monotonic()
        failed, error = self._call(batch)
        stats = self.stats
        stats.busy_seconds += time.monotonic() - started
        stats.invocations += 1
        stats.received += len(batch)
        stats.failed += len(failed)
        stats.succeeded += len(batch) - len(failed)
        if error is not None:
            stats.errors += 1
            stats.last_error = error.strip().splitlines()[-1]
        for message in batch:
            if message["MessageId"] in failed:
                stats.failures[message["MessageId"]] = int(message["Attributes"]["ApproximateReceiveCount"])
        self.runner.settle(
            self.stage,
            [m for m in batch if m["MessageId"] not in failed],
            [m for m in batch if m["MessageId"] in failed],
        )

    def _call(self, batch: list[dict[str, Any]]) -> tuple[set[str], str | None]:
        """Invoke the handler: the ids of the records that failed, and why the whole batch did (if it did)."""
        stage = self.stage
        ids = [m["MessageId"] for m in batch]
        event = {"Records": [sqs_event_record(m, stage.source.arn, self.runner.region) for m in batch]}
        context = LocalContext(stage.function, stage.invoked_arn)
        started = time.monotonic()
        with self.runner.invocation_of(stage.function, context):
            try:
                response = self.handler(event, context)
            except Exception:  # noqa: BLE001 - an uncaught error fails the batch, as on Lambda; logged
                error = traceback.format_exc(limit=5)
                print(f"[ERROR] {error}", flush=True)  # into the function's log
                return set(ids), error
        elapsed = time.monotonic() - started
        if elapsed > stage.function.timeout:
            # Lambda would have stopped it; here it ran to the end, but its batch fails all the same.
            return set(ids), f"Task timed out after {elapsed:.2f} seconds (timeout {stage.function.timeout}s)"
        if not stage.report_batch_item_failures:
            return set(), None
        failed = failed_ids(response, ids)
        if failed is None:
            return set(ids), f"invalid batchItemFailures response: {response!r}"[:500]
        return failed, None


class Runner:
    """Delivers every stage's queue to its handler until the pipeline is drained."""

    def __init__(
        self,
        topology: Topology,
        endpoint: str,
        *,
        log_dir: Path | None = None,
        retry_visibility: int | None = DEFAULT_RETRY_VISIBILITY,
        sqs: Any = None,
    ) -> None:
        self.topology = topology
        self.region = topology.region
        self.endpoint = endpoint
        self.retry_visibility = retry_visibility
        # What Lambda's runtime and the handler's SDK need: set for the process, before any handler makes
        # its (module-cached) clients, because botocore reads AWS_ENDPOINT_URL when a client is made.
        self.process_env = {
            **EMULATOR_ENV,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": endpoint,
        }
        self._saved_env = {name: os.environ.get(name) for name in self.process_env}
        os.environ.update(self.process_env)
        self.sqs = sqs or client("sqs", endpoint, self.region)
        self.logs: FunctionLogs | None = None
        if log_dir is not None:
            self.logs = FunctionLogs(sys.stdout, log_dir)
            self._stdout = sys.stdout
            sys.stdout = self.logs  # before the handlers are imported: their loggers keep this stream
        self.pollers = [StagePoller(self, stage) for stage in topology.stages]

    def close(self) -> None:
        """Put back ``sys.stdout`` and the environment as they were; close the log files."""
        if self.logs is not None:
            sys.stdout = self._stdout
            self.logs.close_files()
            self.logs = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load_handlers(self) -> None:
        """Import every stage's handler now, so that a broken handler string fails before any delivery."""
        for poller in self.pollers:
            with self._logging_to(poller.stage.function):
                _ = poller.handler

    def stats(self) -> list[StageStats]:
        return [poller.stats for poller in self.pollers]

    @contextmanager
    def invocation_of(self, function: Function, context: LocalContext) -> Iterator[None]:
        """The function's environment variables, Lambda's reserved ones, and its log as stdout/stderr."""
        variables = {
            **function.environment,
            "AWS_LAMBDA_FUNCTION_NAME": function.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": context.function_version,
            "AWS_LAMBDA_LOG_GROUP_NAME": context.log_group_name,
            "AWS_LAMBDA_LOG_STREAM_NAME": context.log_stream_name,
            "_HANDLER": function.handler,
        }
        with environment(variables), self._logging_to(function):
            yield

    @contextmanager
    def _logging_to(self, function: Function) -> Iterator[None]:
        if self.logs is None:
            yield
            return
        with self.logs.routed_to(function.name) as log, redirect_stderr(log), redirect_stdout(self.logs):
            yield

    def settle(self, stage: Stage, succeeded: list[dict[str, Any]], failed: list[dict[str, Any]]) -> None:
        """Delete what succeeded; make the failures visible again after ``retry_visibility`` (if set)."""
        for chunk in _chunks(succeeded):
            self.sqs.delete_message_batch(
                QueueUrl=stage.source.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        if self.retry_visibility is None:
            return
        for chunk in _chunks(failed):
            self.sqs.change_message_visibility_batch(
                QueueUrl=stage.source.url,
                Entries=[
                    {
                        "Id": str(i),
                        "ReceiptHandle": m["ReceiptHandle"],
                        "VisibilityTimeout": self.retry_visibility,
                    }
                    for i, m in enumerate(chunk)
                ],
            )

    def backlog(self) -> dict[str, int]:
        """Messages still in each stage's source queue: visible, in flight or delayed."""
        return {stage.source.name: depth(self.sqs, stage.source) for stage in self.topology.stages}

    def run(
        self,
        *,
        producer: Producer | None = None,
        timeout: float = 600.0,
        idle_sleep: float = 0.2,
        on_progress: Callable[[Runner], None] | None = None,
        progress_every: float = 1.0,
    ) -> None:
        """Deliver until every stage's queue is empty (and ``producer`` has sent everything).

        ``producer`` sends to a stage's queue whenever fewer than a batch are left there to receive (or the
        stage found it short): moto's SQS slows down with the number of messages a queue holds, so feeding as
        the pipeline drains keeps it fast, and feeding just before it is empty spares the empty receives.
        TimeoutError if the queues are not drained within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        last_progress = 0.0
        feeder = None
        if producer is not None:
            feeder = next((p for p in self.pollers if p.stage.source.url == producer.queue_url), None)
            if feeder is None:
                raise ValueError(f"no stage reads {producer.queue_url}")
        while True:
            if producer is not None and feeder is not None and producer.has_more() and feeder.runs_dry(producer.sent):
                producer.send_some()
                feeder.last_receive_short = False
            worked = False
            for poller in self.pollers:
                worked = poller.poll() or worked
            now = time.monotonic()
            if on_progress is not None and now - last_progress >= progress_every:
                last_progress = now
                on_progress(self)
            if worked or (producer is not None and producer.has_more()):
                if now > deadline:
                    raise TimeoutError(f"the pipeline was still busy after {timeout:.0f}s")
                continue
            if any(p.batch for p in self.pollers):
                time.sleep(min(idle_sleep, 0.05))  # a partial batch waits for its batching window
                continue
            if not any(self.backlog().values()):
                break
            if now > deadline:
                raise TimeoutError(f"queues not drained after {timeout:.0f}s: {self.backlog()}")
            time.sleep(idle_sleep)  # only failed records in flight: wait for them to become visible
        if on_progress is not None:
            on_progress(self)


def _chunks(messages: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(messages), SQS_MAX_BATCH):
        yield messages[start : start + SQS_MAX_BATCH]
