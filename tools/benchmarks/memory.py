"""Measure each handler's memory and duration on a full batch, to right-size the functions' memory.

Each stage runs in its own child process (so one stage's imports and caches do not flatter the next) with
its real botocore clients, whose HTTP sends are answered by a canned reply (a ``before-send`` hook), so
serialization and parsing are measured and no emulator adds its own memory. Batches (``--batch``):

- ``typical``: realistic records, nested ``data`` objects of about 1 to 4 KB;
- the worst batches the contract admits, 10 records each at the size limit (261,632 bytes of compact
  JSON) and within the 10,000-value bound: ``numbers`` (10,000 numbers of 24 digits), ``strings``
  (10,000 strings), ``nested`` (chains of arrays 31 levels deep, DynamoDB's deepest, as many as the
  400 KB item limit admits: about 208 KB of JSON, since each array costs DynamoDB more than its 2 bytes).

Reported per stage and batch, over several warm runs after one cold run:

- duration per batch: the cold run (it creates the AWS clients) and the median of the warm runs;
- tracemalloc peak: Python allocations during one warm run (median);
- RSS after imports: the process after importing the handler (interpreter, boto3, Powertools, our code),
  before moto is imported; close to what a Lambda sandbox holds after its init phase;
- RSS growth in handler: the largest rise of the resident set (VmHWM, reset before each run) over the RSS
  just before that run;
- est. Lambda peak = RSS after imports + RSS growth in handler: what Lambda would report as
  "Max Memory Used", give or take the runtime's bootstrap (a few MB);
- process peak: VmHWM of the whole child, building the batches included (an upper bound).

Each function gets at least 1.5 x the largest estimated peak over all batches, and at least Lambda's
minimum of 128 MB (Lambda's "MB" are MiB).

Usage::

    python -m tools bench-memory [--stages validator enricher processor] [--batch typical numbers ...]
                                 [--batch-size 10] [--runs 5] [--format markdown|json]
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script in the child process
    sys.path.insert(0, str(ROOT))

from handlers.shared.names import DEFAULT_METRICS_NAMESPACE  # noqa: E402
from modules.settings import STAGES  # noqa: E402
from tools.benchmarks import register, summary  # noqa: E402

LAMBDA_MIN_MEMORY_MB = 128
HEADROOM_FACTOR = 1.5
BATCHES = ("typical", "numbers", "strings", "nested")
WORST_CASE_BATCHES = BATCHES[1:]
#: The contract's limits the worst-case batches are built to (a record's compact JSON, values in data).
RECORD_LIMIT_BYTES = 261_632
DATA_VALUE_LIMIT = 10_000
#: Containers nest 31 levels inside the stored item's top-level ``data`` attribute (DynamoDB allows 32).
DEEPEST_CONTAINER_LEVEL = 31
REGION = "us-east-1"
TABLE_NAME = "tap-measure"
RESULT_PREFIX = "MEASURE-RESULT "

CHILD_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "ENVIRONMENT": "measure",
    "PIPELINE_VERSION": "0.0.0-measure",
    "POWERTOOLS_SERVICE_NAME": "tap-measure",
    "POWERTOOLS_METRICS_NAMESPACE": DEFAULT_METRICS_NAMESPACE,
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "TABLE_NAME": TABLE_NAME,
}
# The canned replies stand in for AWS; no endpoint from the caller's environment may be used.
CHILD_ENV_REMOVED = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE")


# ---------------------------------------------------------------- parent: run the children, print a table


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``bench-memory`` on the operator CLI (``python -m tools``)."""
    return register(subparsers, "bench-memory",
                    "the handlers' peak memory and duration per batch",
                    __doc__, configure, run)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (also the child processes' entry)."""
    parser = argparse.ArgumentParser(description=summary(__doc__))
    configure(parser)
    return run(parser, parser.parse_args(argv))


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--batch", nargs="+", choices=BATCHES, default=list(BATCHES), dest="batches")
    parser.add_argument("--batch-size", type=int, default=10, help="records per invocation (default 10)")
    parser.add_argument(
        "--runs", type=int, default=5, help="warm runs per stage; medians over these (default 5)"
    )
    parser.add_argument(
        "--runtime-allowance-mib",
        type=float,
        default=0.0,
        help="MiB added to the estimate for what Lambda counts beyond this process's RSS (its bootstrap, "
        "page cache); set it from a deployed function's 'Max Memory Used' minus this tool's estimate",
    )
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")
    parser.add_argument("--child", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--child-batch", choices=BATCHES, default="typical", help=argparse.SUPPRESS)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.batch_size < 1 or args.runs < 1:
        parser.error("--batch-size and --runs must be at least 1")

    if args.child:
        result = measure_stage(args.child, args.batch_size, args.runs, args.child_batch)
        print(RESULT_PREFIX + json.dumps(result), flush=True)
        return 0

    results = [
        run_child(stage, args.batch_size, args.runs, batch) for stage in args.stages for batch in args.batches
    ]
    for result in results:
        result["runtime_allowance_mib"] = args.runtime_allowance_mib
        result["est_lambda_peak_mib"] += args.runtime_allowance_mib
    if args.format == "json":
        print(json.dumps({"results": results, "needed_memory_mb": configured_memory(results)}, indent=2))
    else:
        print(render_markdown(results, args.batch_size, args.runs, _settings_or_none()))
    return 0


def configured_memory(results: list[dict[str, Any]]) -> dict[str, int]:
    """Per stage, the memory its function gets from this run: the rule applied to its largest peak."""
    peaks: dict[str, float] = {}
    for result in results:
        peaks[result["stage"]] = max(peaks.get(result["stage"], 0.0), result["est_lambda_peak_mib"])
    return {stage: recommended_memory_mb(peak) for stage, peak in peaks.items()}


def _settings_or_none() -> dict[str, int] | None:
    from modules.settings import SettingsError

    try:
        return settings_memory_mb()
    except (ImportError, SettingsError) as exc:  # the settings moved, or the environments file has no valid prod
        print(f"note: could not read the configured memory from the settings ({exc})", file=sys.stderr)
        return None


def settings_memory_mb() -> dict[str, int]:
    """The memory each function gets in the ``prod`` environment of the environments file."""
    from main import environments_file
    from modules.environments_file import with_account_for_reading

    env = with_account_for_reading(os.environ)
    prod = environments_file(env).environment("prod", env)
    return {name: function.memory_mb for name, function in prod.functions.items()}


def run_child(stage: str, batch_size: int, runs: int, batch: str = "typical") -> dict[str, Any]:
    """Measure one stage in a fresh interpreter; its logs are discarded, its result returned."""
    env = {k: v for k, v in os.environ.items() if k not in CHILD_ENV_REMOVED}
    env.update(CHILD_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    command = [sys.executable, str(Path(__file__).resolve()), "--child", stage]
    command += ["--batch-size", str(batch_size), "--runs", str(runs), "--child-batch", batch]
    completed = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise SystemExit(
        f"measuring {stage} on the {batch} batch failed (exit {completed.returncode}):\n{completed.stderr[-4000:]}"
    )


def recommended_memory_mb(peak_mib: float) -> int:
    """Smallest setting that is at least 1.5 x the peak, and at least Lambda's minimum."""
    return max(LAMBDA_MIN_MEMORY_MB, math.ceil(HEADROOM_FACTOR * peak_mib))


COLUMNS = (
    ("stage", "stage", "{}"),
    ("batch", "batch", "{}"),
    ("records KB", "record_kb_max", "{:.1f}"),
    ("cold ms", "cold_ms", "{:.0f}"),
    ("warm ms (median)", "warm_ms_median", "{:.1f}"),
    ("RSS at init MiB", "rss_init_mib", "{:.1f}"),
    ("tracemalloc peak MiB", "tracemalloc_peak_mib_max", "{:.1f}"),
    ("RSS growth MiB", "rss_growth_mib", "{:.1f}"),
    ("est. Lambda peak MiB", "est_lambda_peak_mib", "{:.1f}"),
    ("process peak MiB", "process_peak_mib", "{:.1f}"),
)


def render_markdown(
    results: list[dict[str, Any]], batch_size: int, runs: int, settings: dict[str, int] | None = None
) -> str:
    """The results as a Markdown table, the memory per function, and the notes needed to read them."""
    lines = [
        "| " + " | ".join(title for title, _, _ in COLUMNS) + " |",
        "|" + " --- |" * len(COLUMNS),
    ]
    for result in results:
        lines.append("| " + " | ".join(fmt.format(result[key]) for _, key, fmt in COLUMNS) + " |")
    needed = configured_memory(results)
    peaks: dict[str, float] = {}
    for result in results:
        peaks[result["stage"]] = max(peaks.get(result["stage"], 0.0), result["est_lambda_peak_mib"])
    lines += ["", "| stage | largest est. peak MiB | needs MB (1.5 x, min 128) | configured MB (prod) |"]
    lines.append("| --- | --- | --- | --- |")
    for stage, need in needed.items():
        have = "?" if settings is None else str(settings.get(stage, "?"))
        lines.append(f"| {stage} | {peaks[stage]:.1f} | {need} | {have} |")
    bare = min(r["rss_start_mib"] for r in results)
    allowance = results[0].get("runtime_allowance_mib", 0.0)
    lines += [
        "",
        f"Batches of {batch_size} records (records KB: the largest body); warm figures are medians of {runs} "
        "runs after one cold run; real botocore clients answered by canned replies; "
        f"Python {sys.version.split()[0]}, boto3 {_version('boto3')}, "
        f"aws-lambda-powertools {_version('aws_lambda_powertools')}.",
        f"RSS at init: interpreter ({bare:.1f} MiB bare), boto3, Powertools, handler code and the stage's "
        "client. est. Lambda peak = RSS at init + the larger of tracemalloc peak and RSS growth during an "
        f"invocation + {allowance:g} MiB runtime allowance (--runtime-allowance-mib). "
        "Each function needs max(128, ceil(1.5 x its largest est. peak)); Lambda's MB are MiB.",
    ]
    return "\n".join(lines)


def _version(distribution: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


# ---------------------------------------------------------------- child: measure one stage


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def rss_mib() -> float:
    """Current resident set size."""
    return _status_kib("VmRSS") / 1024


def peak_rss_mib() -> float:
    """Highest resident set size since the last reset_peak_rss()."""
    return _status_kib("VmHWM") / 1024


_process_peak_mib = 0.0


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where the kernel does not allow it.

    The peak seen so far is kept first, since the reset also lowers what getrusage reports.
    """
    global _process_peak_mib
    _process_peak_mib = max(_process_peak_mib, peak_rss_mib())
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


class MeasureContext:
    """A Lambda context with plenty of time left."""

    function_name = "tap-measure"
    function_version = "$LATEST"
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:tap-measure"
    memory_limit_in_mb = 128
    log_group_name = "/aws/lambda/tap-measure"
    log_stream_name = "measure"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 60_000


def realistic_data(seed: int, target_bytes: int) -> dict[str, Any]:
    """A nested ``data`` object of about ``target_bytes`` of compact JSON, deterministic for a seed."""
    lines: list[dict[str, Any]] = []
    data: dict[str, Any] = {
        "customer": {
            "id": f"C{seed:08d}",
            "name": f"Customer {seed}",
            "address": {"street": f"{seed % 300} Harbour Road", "city": "Lisbon", "country": "PT"},
            "tags": ["priority", "b2b"] if seed % 2 else ["retail"],
            "score": round(0.1 + (seed % 97) / 10, 2),
        },
        "lines": lines,
        "totals": {"currency": "EUR", "gross": 0, "net": 0},
        "source": {"system": "pos", "version": "4.2.1", "received_at": 1_790_000_000_000 + seed},
        "note": None,
    }
    n = 0
    while len(json.dumps(data, separators=(",", ":"))) < target_bytes - 120:
        qty = (seed * 7 + n) % 13 + 1
        price = ((seed + n) % 997) + (n % 100) / 100
        lines.append(
            {
                "sku": f"SKU-{seed:05d}-{n:03d}",
                "qty": qty,
                "unit_price": price,
                "attributes": {
                    "colour": ("red", "green", "blue")[n % 3],
                    "fragile": n % 2 == 0,
                    "dims": [n, 2, 3],
                },
            }
        )
        n += 1
    data["totals"]["gross"] = round(sum(line["qty"] * line["unit_price"] for line in lines), 2)
    data["totals"]["net"] = round(data["totals"]["gross"] / 1.23, 2)
    return data


def sqs_event(bodies: list[str], run: int) -> dict[str, Any]:
    """A Lambda SQS event with one record per body."""
    now = str(int(time.time() * 1000))
    return {
        "Records": [
            {
                "messageId": f"{run:04d}-{index:04d}-{uuid.uuid4()}",
                "receiptHandle": "AQEB-measure",
                "body": body,
                "attributes": {"SentTimestamp": now, "ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:tap-measure",
                "awsRegion": REGION,
            }
            for index, body in enumerate(bodies)
        ]
    }


def _fill(make: Any, limit_bytes: int, max_items: int) -> list[Any]:
    """The longest list of ``make(i)`` items whose compact JSON stays within ``limit_bytes``."""
    items: list[Any] = []
    size = 2  # the brackets
    while len(items) < max_items:
        item = make(len(items))
        grown = size + len(json.dumps(item, separators=(",", ":"))) + (1 if items else 0)
        if grown > limit_bytes:
            break
        items.append(item)
        size = grown
    return items


def worst_case_data(kind: str, record_id: str, timestamp: int) -> dict[str, Any]:
    """``data`` that makes ``{"id","timestamp","data"}`` as large as the contract allows, for one kind."""
    envelope = len(json.dumps({"id": record_id, "timestamp": timestamp, "data": {"v": []}}, separators=(",", ":")))
    room = RECORD_LIMIT_BYTES - envelope + 2  # the list's own brackets are counted by _fill
    if kind == "numbers":
        # 24 significant digits with a fraction: the Decimal and DynamoDB forms both keep every digit.
        values = [
            f"{10**11 + (i * 7919) % (9 * 10**11)}.{(i * 104729) % 10**12:012d}" for i in range(DATA_VALUE_LIMIT)
        ]
        text = "[" + ",".join(values) + "]"
        while len(text) > room:
            values.pop()
            text = "[" + ",".join(values) + "]"
        from handlers.shared import codec  # numbers as exact Decimals, as the handlers parse them

        return {"v": codec.loads(text)}
    if kind == "strings":
        width = room // DATA_VALUE_LIMIT - 3  # quotes and comma
        return {"v": [f"{i:06d}".ljust(width, "s") for i in range(DATA_VALUE_LIMIT)]}
    if kind == "nested":
        def chain(i: int) -> Any:
            value: Any = i
            for _ in range(DEEPEST_CONTAINER_LEVEL - 2):  # data is level 1 and "v" level 2
                value = [value]
            return value

        chains = _fill(chain, room, DATA_VALUE_LIMIT)
        # Each array costs DynamoDB more than its 2 JSON bytes, so the 400 KB item limit binds before the
        # body size does: keep the most chains the contract still accepts.
        from handlers.shared import codec, contract

        def estimate(count: int) -> int:
            return contract.check_data(codec.loads(json.dumps({"v": chains[:count]})))

        budget = contract.MAX_ITEM_BYTES - contract.ENRICHMENT_RESERVE_BYTES - 100  # id, timestamp, names
        count = (budget - estimate(0)) // (estimate(1) - estimate(0))
        while estimate(count) > budget:  # later chains end in longer numbers
            count -= 10
        return codec.loads(json.dumps({"v": chains[:count]}))
    raise ValueError(f"unknown batch {kind!r}: use one of {', '.join(WORST_CASE_BATCHES)}")


def stage_bodies(stage: str, batch_size: int, batch: str = "typical") -> list[str]:
    """What the stage receives: raw producer bodies, normalized records, or enriched records."""
    from handlers.shared import codec, contract

    now = int(time.time() * 1000)
    if batch == "typical":
        targets = [1_000, 2_000, 3_000, 4_000]
        datas = [realistic_data(i, targets[i % 4]) for i in range(batch_size)]
    else:
        datas = [worst_case_data(batch, f"order-{i:06d}", now - i) for i in range(batch_size)]
    texts = [json.dumps(data) if batch == "typical" else codec.dumps(data) for data in datas]
    records = [contract.Record(f"order-{i:06d}", now - i, codec.loads(text)) for i, text in enumerate(texts)]
    if stage == "validator":
        # Half carry a timestamp, half rely on SentTimestamp, as producers do.
        return [
            codec.dumps(
                {"id": r.id, "data": r.data}
                if i % 2
                else {"id": r.id, "timestamp": r.timestamp, "data": r.data}
            )
            for i, r in enumerate(records)
        ]
    normalized = [contract.parse_record(r.to_json()) for r in records]
    if stage == "enricher":
        return [r.to_json() for r in normalized]
    from handlers.enricher.app import Settings, enrich

    settings = Settings("unused", CHILD_ENV["PIPELINE_VERSION"], CHILD_ENV["ENVIRONMENT"])
    return [enrich(r, settings, "2026-11-26T12:00:00.000Z").to_json() for r in normalized]


class CannedBody:
    """The raw stream botocore reads a canned reply from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def canned_reply(request: Any, **_: Any) -> Any:
    """Answer a request as AWS would when every entry succeeds (botocore ``before-send`` hook)."""
    from botocore.awsrequest import AWSResponse

    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else target
    if target.endswith("SendMessageBatch"):
        sent = json.loads(request.body)["Entries"]
        reply: dict[str, Any] = {
            "Successful": [
                {
                    "Id": entry["Id"],
                    "MessageId": str(uuid.uuid4()),
                    "MD5OfMessageBody": hashlib.md5(entry["MessageBody"].encode()).hexdigest(),  # noqa: S324
                }
                for entry in sent
            ],
            "Failed": [],
        }
    elif target.endswith("BatchWriteItem") or target.endswith("PutItem"):
        reply = {"UnprocessedItems": {}} if target.endswith("BatchWriteItem") else {}
    else:
        raise RuntimeError(f"no canned reply for {target or request.url}")
    body = json.dumps(reply).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": str(uuid.uuid4())}
    return AWSResponse(request.url, 200, headers, CannedBody(body))


STAGE_SERVICES = {"validator": ("sqs",), "enricher": ("sqs",), "processor": ("dynamodb",)}


def measure_stage(stage: str, batch_size: int, runs: int, batch: str = "typical") -> dict[str, Any]:
    """Measure ``stage`` on ``batch``: its init footprint, then one cold and ``runs`` warm invocations
    (timed, RSS), then ``runs`` invocations under tracemalloc."""
    import importlib

    os.environ["OUTPUT_QUEUE_URL"] = f"https://sqs.{REGION}.amazonaws.com/123456789012/tap-measure-out"
    os.environ["REJECTS_QUEUE_URL"] = f"https://sqs.{REGION}.amazonaws.com/123456789012/tap-measure-rejects"
    can_reset_peak = reset_peak_rss()
    rss_start = rss_mib()
    app = importlib.import_module(f"handlers.{stage}.app")
    from handlers.shared import clients

    # What a sandbox holds once warm: our imports and the stage's clients (service models loaded).
    for service in STAGE_SERVICES[stage]:
        clients.get(service).meta.events.register("before-send", canned_reply)
    gc.collect()
    rss_init = rss_mib()

    bodies = stage_bodies(stage, batch_size, batch)
    record_kb = [len(body.encode()) / 1000 for body in bodies]
    gc.collect()

    def invoke(run: int) -> tuple[float, float]:
        event = sqs_event(bodies, run)
        gc.collect()
        before = rss_mib()
        reset_peak_rss()
        start = time.perf_counter()
        response = app.handler(event, MeasureContext())
        elapsed_ms = (time.perf_counter() - start) * 1000
        if response["batchItemFailures"]:
            raise RuntimeError(f"{stage} reported failures while measuring the {batch} batch: {response}")
        return elapsed_ms, peak_rss_mib() - before

    cold_ms, cold_growth = invoke(0)
    warm = [invoke(run) for run in range(1, runs + 1)]
    reset_peak_rss()  # records the process peak before tracemalloc's own overhead comes in
    process_peak = _process_peak_mib

    traced_peaks = []
    for run in range(runs + 1, 2 * runs + 1):
        event = sqs_event(bodies, run)
        gc.collect()
        tracemalloc.start()
        app.handler(event, MeasureContext())
        traced_peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
        tracemalloc.stop()

    rss_growth = max([cold_growth] + [growth for _, growth in warm])
    working_set = max(max(traced_peaks), rss_growth)
    estimate = rss_init + working_set
    return {
        "stage": stage,
        "batch": batch,
        "batch_size": batch_size,
        "runs": runs,
        "record_kb_min": min(record_kb),
        "record_kb_max": max(record_kb),
        "cold_ms": cold_ms,
        "warm_ms_median": statistics.median(ms for ms, _ in warm),
        "rss_start_mib": rss_start,
        "rss_init_mib": rss_init,
        "tracemalloc_peak_mib_max": max(traced_peaks),
        "tracemalloc_peak_mib_median": statistics.median(traced_peaks),
        "rss_growth_mib": rss_growth,
        "est_lambda_peak_mib": estimate,
        "process_peak_mib": process_peak,
        "peak_rss_reset_supported": can_reset_peak,
        "recommended_memory_mb": recommended_memory_mb(estimate),
    }


if __name__ == "__main__":
    sys.exit(main())
