"""Runs each stage against a local endpoint that accepts connections and never answers; prints JSON.

A separate interpreter, because the handler tests keep moto active for the whole package and moto would
answer the calls. Usage: ``python -m tests.handlers.deadline_probe BUDGET_S``.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from typing import Any

from tests.handlers.helpers import NOW_MS, enriched, normalized, sqs_event, sqs_record

#: Short limits through the one place that sets them: worst case 1 x (0.1 + 1.0) s = 1.1 s, close to what a
#: silent endpoint costs (the 1 s read timeout), so a second call would show in the duration.
SHORT_LIMITS = {"TAP_AWS_CONNECT_TIMEOUT_S": "0.1", "TAP_AWS_READ_TIMEOUT_S": "1", "TAP_AWS_MAX_ATTEMPTS": "1"}


class SilentServer:
    """A TCP server that accepts every connection, reads what it is sent, and never replies."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            self.connections.append(conn)


class ClockContext:
    """A Lambda context whose remaining time runs down with the real clock."""

    function_name = "tap-probe"
    function_version = "$LATEST"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:tap-probe"
    aws_request_id = "probe"
    log_group_name = "/aws/lambda/tap-probe"
    log_stream_name = "probe"

    def __init__(self, budget_s: float) -> None:
        self.deadline = time.monotonic() + budget_s

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def events() -> dict[str, dict[str, Any]]:
    """Per stage: valid records and records that break the contract, in one batch."""
    valid = {"id": "ok", "timestamp": NOW_MS, "data": {"n": 1}}
    return {
        "validator": sqs_event(
            *(sqs_record({**valid, "id": f"ok{n}"}, message_id=f"v{n}") for n in range(3)),
            sqs_record("not json", message_id="v-bad1"),
            sqs_record({"data": {}}, message_id="v-bad2"),
        ),
        "enricher": sqs_event(
            *(sqs_record(normalized(f"ok{n}", NOW_MS, {"n": 1}), message_id=f"e{n}") for n in range(3)),
            sqs_record("{}", message_id="e-bad"),
        ),
        "processor": sqs_event(
            *(sqs_record(enriched(f"ok{n}", NOW_MS, {"n": 1}), message_id=f"p{n}") for n in range(3)),
        ),
    }


def main(budget_s: float) -> None:
    """Run every stage once against the silent server; print each response, duration and connections."""
    import importlib

    server = SilentServer()
    os.environ.update(SHORT_LIMITS)
    os.environ["AWS_ENDPOINT_URL"] = f"http://127.0.0.1:{server.port}"
    os.environ["OUTPUT_QUEUE_URL"] = f"http://127.0.0.1:{server.port}/123456789012/out"
    os.environ["REJECTS_QUEUE_URL"] = f"http://127.0.0.1:{server.port}/123456789012/rejects"
    os.environ["TABLE_NAME"] = "tap-probe"
    from handlers.shared import clients

    results = {}
    for stage, event in events().items():
        app = importlib.import_module(f"handlers.{stage}.app")
        clients.reset()
        for service in ("sqs", "dynamodb"):
            clients.get(service)  # built outside the timed call, as a warm container holds them
        before = len(server.connections)
        start = time.monotonic()
        response = app.handler(event, ClockContext(budget_s))
        results[stage] = {
            "response": response,
            "elapsed_s": time.monotonic() - start,
            "connections": len(server.connections) - before,
        }
    print("PROBE-RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main(float(sys.argv[1]))
