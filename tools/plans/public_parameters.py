"""Answers for AWS's public SSM parameters in offline plans, from an in-process moto server.

A stack reads the Powertools layer ARN from AWS's public parameter
``/aws/service/powertools/python/...`` at plan time (modules/powertools_layer.py), and data sources are
read even with ``-refresh=false``.  An offline plan has no AWS, so this serves each public parameter a
stack reads with a stand-in layer ARN: the plan is real in everything else, and names the stand-in
(``offline-stand-in``) where AWS would give the published layer.  moto refuses ``PutParameter`` under
``/aws`` (as AWS does), so the parameters are written into its backend directly.

Starting the server (importing moto) takes over a second; ``plan --offline`` calls :func:`start_early`
before the synthesis, so that it is ready when the first plan needs it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

PUBLIC_PREFIX = "/aws/service/"
# moto's account for any credentials that are not its own test keys (the offline override's stubs).
MOTO_ACCOUNT = "123456789012"

_lock = threading.Lock()
_server: Any = None


def public_parameter_names(stack_dir: Path) -> list[str]:
    """The public SSM parameters the synthesized stack in ``stack_dir`` reads."""
    document = json.loads((stack_dir / "cdk.tf.json").read_text())
    names = [body.get("name", "") for body in document.get("data", {}).get("aws_ssm_parameter", {}).values()]
    return sorted(name for name in names if isinstance(name, str) and name.startswith(PUBLIC_PREFIX))


def stand_in_value(name: str, region: str) -> str:
    """A layer ARN of the right shape that says it is not AWS's answer."""
    tail = name.removeprefix(PUBLIC_PREFIX).replace("/", "-").replace(".", "-")
    return f"arn:aws:lambda:{region}:{MOTO_ACCOUNT}:layer:offline-stand-in-{tail}:1"


def _started_server() -> Any:
    """The process-wide moto server, started on first use; call with ``_lock`` held."""
    global _server
    if _server is None:
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        # One access-log line per request on stderr would land in the plan command's output.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        _server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        _server.start()
        atexit.register(_server.stop)
    return _server


def start_early() -> threading.Thread:
    """Start the server on a thread of its own (a daemon: it never holds up the exit); :func:`serve` waits
    for it. An error here is left for :func:`serve` to meet again, where the plan reports it.

    The thread keeps the normal scheduling policy: under SCHED_IDLE it would hold the interpreter's lock
    while the busy processors left it no time, and stall every other thread of the plan (a test of three
    plans side by side saw one start late)."""
    def start() -> None:
        # An error is not lost: serve() starts the server again, and raises where the plan reports it.
        with _lock, contextlib.suppress(Exception):
            _started_server()

    thread = threading.Thread(target=start, name="public-parameters", daemon=True)
    thread.start()
    return thread


def serve(names: list[str], region: str = "us-east-1") -> str:
    """The endpoint of a process-wide moto server that answers ``names``; started on first use."""
    from moto.ssm.models import Parameter, ssm_backends

    with _lock:
        server = _started_server()
        parameters = ssm_backends[MOTO_ACCOUNT][region]._parameters
        for name in names:
            if not parameters.get(name):
                parameters[name].append(Parameter(
                    account_id=MOTO_ACCOUNT, name=name, value=stand_in_value(name, region), parameter_type="String",
                    description="offline stand-in", allowed_pattern=None, keyid=None,
                    last_modified_date=_now(), version=1, data_type="text",
                ))
        host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def _now() -> Any:
    import datetime

    return datetime.datetime.now(datetime.UTC)
