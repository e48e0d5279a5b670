"""A go-plugin gRPC proxy in front of a shared terraform-provider-aws that hands each Terraform run only the
schemas of the AWS types that run can touch.

Every ``plan``, ``show`` and ``validate`` first asks the provider for its whole schema (``GetSchema``): about
1,500 resource and 600 data-source types, which the provider encodes (about 0.4 CPU s) and Terraform decodes
(about 1.1 CPU s) before doing anything else; that is nearly all of the 1.5-1.7 CPU s such a run costs on a
shared provider (Terraform with its builtin provider alone takes 0.04 s). The proxy asks the provider once, keeps
the answer, and gives each run the entries of the types named in its ``wanted`` file, which
tests/support/shared_provider.py writes before each run (the runs of one proxy come one at a time). Every other
call passes through byte for byte, to and from the real provider, which does all the work.

A type left out cannot go unnoticed: Terraform refuses a configuration or a state that names a type its
provider's schema lacks ("The provider hashicorp/aws does not support resource type ...").

``python -m tests.support.schema_proxy PROVIDER_BINARY WANTED_FILE`` starts the provider with ``-debug`` and
prints, as the provider does, the ``TF_REATTACH_PROVIDERS`` line that attaches to the proxy.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc

from tests.support.debug_provider import NoAttachLine, attach_config
from tests.support.schema_trim import pruned_schema, read_wanted
from tools.child_process import die_with_parent

GET_SCHEMA = "/tfplugin5.Provider/GetSchema"
#: The methods go-plugin streams; every other one (the whole provider protocol) is unary.
STREAM_STREAM = frozenset({"/plugin.GRPCBroker/StartStream"})
UNARY_STREAM = frozenset({"/plugin.GRPCStdio/StreamStdio"})
#: The schema answer is about 5 MB, above gRPC's default 4 MB limit (Terraform's own is 256 MB).
UNLIMITED = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]


class SchemaProxy(grpc.GenericRpcHandler):
    """Every call passed to ``upstream``; GetSchema answered from one upstream answer, pruned for the run."""

    def __init__(self, upstream: grpc.Channel, wanted_file: Path) -> None:
        self.upstream = upstream
        self.wanted_file = wanted_file
        self._full: bytes | None = None
        self._pruned: dict[frozenset[str] | None, bytes] = {}
        self._lock = threading.Lock()

    def schema(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        wanted = read_wanted(self.wanted_file)
        with self._lock:
            if self._full is None:
                self._full = self.upstream.unary_unary(GET_SCHEMA)(request)
            if wanted not in self._pruned:
                self._pruned[wanted] = pruned_schema(self._full, wanted)
            return self._pruned[wanted]

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        if method == GET_SCHEMA:
            return grpc.unary_unary_rpc_method_handler(self.schema)
        if method in STREAM_STREAM:
            streams = self.upstream.stream_stream(method)
            return grpc.stream_stream_rpc_method_handler(
                lambda requests, context: _ending_with(context, streams(requests)))
        if method in UNARY_STREAM:
            stream = self.upstream.unary_stream(method)
            return grpc.unary_stream_rpc_method_handler(
                lambda request, context: _ending_with(context, stream(request)))
        call = self.upstream.unary_unary(method)

        def forward(request: bytes, context: grpc.ServicerContext) -> bytes:
            try:
                return call(request)
            except grpc.RpcError as error:  # the provider's own status, passed on (abort raises)
                context.abort(error.code(), error.details() or "")
        return grpc.unary_unary_rpc_method_handler(forward)


def _ending_with(context: grpc.ServicerContext, upstream: Any) -> Any:
    """``upstream``'s stream, cancelled when Terraform's end of it goes (each run opens go-plugin's broker and
    stdio streams, which the provider would otherwise keep open, each holding one of the server's threads)."""
    context.add_callback(upstream.cancel)
    return upstream


def start_provider(binary: str) -> tuple[subprocess.Popen[str], dict]:
    """The provider started with -debug (ending with this process), and the reattach configuration it printed."""
    process = subprocess.Popen([binary, "-debug"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               preexec_fn=die_with_parent)
    try:
        return process, attach_config(process)
    except NoAttachLine as error:
        process.kill()
        raise SystemExit(f"{binary} -debug {error}") from None


def main(argv: list[str]) -> None:
    binary, wanted_file = argv
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    provider, attach = start_provider(binary)
    [(address, config)] = attach.items()
    upstream = grpc.insecure_channel(f"unix:{config['Addr']['String']}", options=UNLIMITED)
    socket = Path(tempfile.mkdtemp(prefix="tap-schema-proxy-")) / "plugin.sock"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), options=UNLIMITED,
                         handlers=[SchemaProxy(upstream, Path(wanted_file))])
    server.add_insecure_port(f"unix:{socket}")
    server.start()
    ours = {address: {**config, "Pid": os.getpid(), "Addr": {"Network": "unix", "String": str(socket)}}}
    print(f"TF_REATTACH_PROVIDERS='{json.dumps(ours)}'", flush=True)
    stopped.wait()
    server.stop(grace=None)
    provider.terminate()
    try:
        provider.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.kill()
    socket.unlink(missing_ok=True)
    socket.parent.rmdir()


if __name__ == "__main__":
    main(sys.argv[1:])
