"""The line a Terraform provider started with ``-debug`` prints to be attached to, read from its output.

https://developer.hashicorp.com/terraform/plugin/debugging#running-terraform-with-a-provider-in-debug-mode
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections import deque

#: The line in which the provider says how to attach to it (one per shell; any will do).
ATTACH_LINE = re.compile(r"TF_REATTACH_PROVIDERS='(\{.*\})'")
START_TIMEOUT_S = 120


class NoAttachLine(RuntimeError):
    """The process printed no attach line; the message says within how long, its exit code and its last lines."""


def _exit_code(process: subprocess.Popen[str], output_ended: threading.Event) -> int | None:
    """The exit code of a process whose output ended (it closes its output as it exits); None while it runs."""
    if output_ended.is_set():
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    return process.poll()


def attach_config(process: subprocess.Popen[str], timeout_s: float = START_TIMEOUT_S) -> dict:
    """The reattach configuration ``process`` prints. A thread reads its output until it ends, since a full pipe
    would block it."""
    printed: deque[str] = deque(maxlen=50)
    found: list[str] = []
    ready, ended = threading.Event(), threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            printed.append(line.rstrip())
            match = ATTACH_LINE.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ended.set()
        ready.set()

    threading.Thread(target=read, name=f"output-of-{process.pid}", daemon=True).start()
    if not ready.wait(timeout_s) or not found:
        shown, code = "\n".join(printed), _exit_code(process, ended)
        raise NoAttachLine(f"printed no TF_REATTACH_PROVIDERS within {timeout_s:g} s (exit code {code}):\n{shown}")
    return json.loads(found[0])
