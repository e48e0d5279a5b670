"""The local AWS emulator: moto's server in a child process on 127.0.0.1 at a free port.

A subprocess rather than moto's ``ThreadedMotoServer``: it can be killed cleanly by pid, it can outlive
this process when the user keeps the environment (``up``/``--keep``), and its request log stays out of
ours.  When it must not outlive us, the kernel sends it SIGTERM if we die (``PR_SET_PDEATHSIG``), so
even a SIGKILL of the runner leaves no server behind.  It runs through :mod:`tools.local.emulator_server`,
which swaps two of moto's hot helpers for faster equivalents.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tools.child_process import die_with_parent

# Dummy credentials and region: the emulator accepts any, but botocore refuses to sign without some.
EMULATOR_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def client(service: str, endpoint: str, region: str = EMULATOR_ENV["AWS_DEFAULT_REGION"]) -> Any:
    """A boto3 client for ``service`` on the emulator, with its dummy credentials (none need be set)."""
    import boto3  # deferred: a second of import time that --help and the server start need not pay

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=EMULATOR_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=EMULATOR_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    """A running (or adopted) moto server, known by its endpoint and pid."""

    endpoint: str
    pid: int
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        log_path: Path | None = None,
        outlive_parent: bool = False,
        ready_timeout: float = 30.0,
    ) -> Emulator:
        """Start ``python -m moto.server`` and wait until it answers.

        ``outlive_parent`` keeps it running after this process ends (for ``--keep``); otherwise it dies
        with us.  Its request log goes to ``log_path`` (or nowhere: one line per request is a lot).
        """
        port = port or free_port(host)
        log: IO[bytes] | int
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log = log_path.open("ab")
        else:
            log = subprocess.DEVNULL
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "tools.local.emulator_server", "-H", host, "-p", str(port)],
                cwd=PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                # Own session: a Ctrl-C in the terminal must not kill the emulator before we destroy.
                start_new_session=True,
                preexec_fn=None if outlive_parent else die_with_parent,
                env={**os.environ, **EMULATOR_ENV},
            )
        finally:
            if not isinstance(log, int):
                log.close()
        emulator = cls(endpoint=f"http://{host}:{port}", pid=process.pid, process=process)
        try:
            emulator.wait_ready(ready_timeout)
        except BaseException:
            emulator.stop()
            raise
        return emulator

    def wait_ready(self, timeout: float) -> None:
        """Poll moto's own API until the server answers, or fail if it died or took too long."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the emulator exited (code {self.process.returncode}) before answering")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=2):
                    return
            except OSError as error:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"the emulator at {self.endpoint} did not answer in {timeout}s"
                    ) from error
                time.sleep(0.1)

    def alive(self) -> bool:
        """True while the server process exists (works for an adopted pid too)."""
        if self.process is not None:
            return self.process.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        # A zombie (exited, not yet reaped by whoever adopted it) still answers signal 0.
        try:
            return Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return True

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL if it lingers; reap it when it is our child.  Idempotent."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
            return
        # Adopted from a session file: not our child, so poll for its end instead of waiting.
        if not self.alive():
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)

    def client_env(self) -> dict[str, str]:
        """Environment for any AWS SDK or Terraform process that must talk to this emulator."""
        return client_env(self.endpoint)


def client_env(endpoint: str) -> dict[str, str]:
    """Environment for any AWS SDK or Terraform process that must talk to the emulator at ``endpoint``: every
    service's endpoint (``AWS_ENDPOINT_URL``, which the stacks' AWS provider reads too: the `local` stack carries
    no endpoint of its own, see modules/emulator_compat.py) and dummy credentials."""
    return {**EMULATOR_ENV, "AWS_ENDPOINT_URL": endpoint}
