"""Each function's ``handler``, as the synthesized stack names it, imports from that function's own archive."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import PIPELINE_ENVIRONMENTS
from tools.policy.stack_json import StackJson

# Run in a fresh interpreter whose path holds the unpacked archive and the installed packages (the
# stand-in for the Lambda runtime and the Powertools layer), not this project.
_IMPORT_HANDLER = (
    "import importlib, sys; module, _, name = sys.argv[1].rpartition('.'); "
    "handler = getattr(importlib.import_module(module), name); "
    "assert callable(handler), sys.argv[1]; "
    "assert importlib.import_module(module).__file__.startswith(sys.argv[2]), 'imported from outside the archive'"
)


def test_every_function_handler_imports_from_its_own_archive(
        pipeline_stacks: dict[str, StackJson], tmp_path: Path) -> None:
    checked: set[tuple[str, str]] = set()
    for env in PIPELINE_ENVIRONMENTS:
        stack = pipeline_stacks[env]
        functions = stack.resources("aws_lambda_function")
        assert len(functions) == 3, env
        for function in functions:
            archive = stack.directory / function.body["filename"]
            data = archive.read_bytes()
            digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
            assert function.body["source_code_hash"] == digest, f"{env}: the hash must be the archive's"
            if (digest, function.body["handler"]) in checked:
                continue  # the same bytes and handler in another environment: same outcome
            checked.add((digest, function.body["handler"]))
            unpacked = tmp_path / f"{env}-{function.name}"
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(unpacked)
            environment = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            result = subprocess.run(
                [sys.executable, "-c", _IMPORT_HANDLER, function.body["handler"], str(unpacked)],
                cwd=unpacked, env=environment, capture_output=True, text=True, check=False,
            )
            assert result.returncode == 0, f"{env} {function.body['function_name']}: {result.stderr[-2000:]}"
    assert len(checked) == 3, "one archive and handler per stage, the same in every environment"
