"""Cold start: a handler module imports no AWS SDK and no Powertools package its first call does not use;
the clients' botocore session is made on first use; the contract's copy of DynamoDB's decimal context."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Clamped, Inexact, Overflow, Rounded, Underflow
from pathlib import Path

import pytest
from boto3.dynamodb.types import DYNAMODB_CONTEXT as BOTO3_DYNAMODB_CONTEXT

from handlers.shared import clients, contract

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Loaded on the first call instead (botocore) or never (boto3 brings s3transfer; Powertools' batch
#: package brings asyncio and its processors, for one TypedDict used in annotations).
DEFERRED_MODULES = (
    "boto3", "s3transfer", "botocore.session", "botocore.client", "aws_lambda_powertools.utilities.batch",
)


@pytest.mark.parametrize("stage", ["validator", "enricher", "processor"])
def test_importing_a_handler_loads_no_aws_sdk(stage: str) -> None:
    script = (
        "import importlib, json, sys\n"
        f"importlib.import_module('handlers.{stage}.app')\n"
        f"print(json.dumps([name for name in {DEFERRED_MODULES!r} if name in sys.modules]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, env=env,
                            capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [], f"handlers.{stage}.app must leave these to its first call"


def test_the_contracts_decimal_context_is_boto3s() -> None:
    ours, theirs = contract.DYNAMODB_CONTEXT, BOTO3_DYNAMODB_CONTEXT
    expected = (38, -128, 126, ROUND_HALF_EVEN, {Clamped, Overflow, Inexact, Rounded, Underflow})

    assert (ours.prec, ours.Emin, ours.Emax, ours.rounding, {t for t, on in ours.traps.items() if on}) == expected
    assert (theirs.prec, theirs.Emin, theirs.Emax, theirs.rounding,
            {t for t, on in theirs.traps.items() if on}) == expected, "boto3 changed: update the contract's copy"


def test_the_session_is_made_on_first_use_kept_and_forgotten_by_reset() -> None:
    clients.reset()
    assert clients._session is None, "no session before a client is asked for"

    clients.sqs()
    session = clients.session()
    assert session is not None and clients.session() is session, "made by the first client, then kept"

    clients.reset()
    assert clients._session is None, "reset must forget the session so the environment is read again"
