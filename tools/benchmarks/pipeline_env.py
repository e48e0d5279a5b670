"""The emulator side of the handler benchmarks: moto's server with the queues and the table the stages
write to, and the environment a child process needs to run a stage's handler against them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.benchmarks.memory import CHILD_ENV, CHILD_ENV_REMOVED, TABLE_NAME
from tools.local.emulator import Emulator, client
from tools.records_table import create_records_table

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESULT_PREFIX = "BENCH-RESULT "


class BenchmarkError(RuntimeError):
    """A child process failed or its result could not be read."""


@dataclass(frozen=True)
class Pipeline:
    """A running emulator holding the stages' output queue, rejects queue and records table."""

    endpoint: str
    output_queue_url: str
    rejects_queue_url: str
    table_name: str = TABLE_NAME

    def child_env(self, root: Path = PROJECT_ROOT) -> dict[str, str]:
        """What a child running a handler from the checkout at ``root`` needs: the stages' settings,
        dummy credentials, and every AWS call sent to this emulator."""
        env = {k: v for k, v in os.environ.items() if k not in CHILD_ENV_REMOVED}
        env.update(CHILD_ENV)
        env.update(
            AWS_ENDPOINT_URL=self.endpoint,
            OUTPUT_QUEUE_URL=self.output_queue_url,
            REJECTS_QUEUE_URL=self.rejects_queue_url,
            TABLE_NAME=self.table_name,
            PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH", "")])),
        )
        return env


@contextmanager
def running_pipeline() -> Iterator[Pipeline]:
    """Start the emulator, create what the stages write to, and stop it afterwards."""
    emulator = Emulator.start()
    try:
        sqs = client("sqs", emulator.endpoint)
        output = sqs.create_queue(QueueName="bench-output")["QueueUrl"]
        rejects = sqs.create_queue(QueueName="bench-rejects")["QueueUrl"]
        create_records_table(client("dynamodb", emulator.endpoint), TABLE_NAME)
        yield Pipeline(emulator.endpoint, output, rejects)
    finally:
        emulator.stop()


def run_child(command: Sequence[str], env: dict[str, str], cwd: Path = PROJECT_ROOT) -> dict[str, Any]:
    """Run a child to completion; its result line (``RESULT_PREFIX`` + JSON), or BenchmarkError with its
    stderr. Its other output (the handlers' logs and metrics) is discarded."""
    completed = subprocess.run(list(command), env=env, cwd=cwd, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise BenchmarkError(
        f"{Path(command[1]).name if len(command) > 1 else command[0]} exited {completed.returncode} without "
        f"a result:\n{completed.stderr[-4000:]}"
    )


def emit(result: dict[str, Any]) -> None:
    """Print a child's result where ``run_child`` finds it."""
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
