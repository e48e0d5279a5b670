"""The AWS-published Powertools for AWS Lambda (Python) layer, at the version Pipfile.lock locks.

AWS publishes each release's layer ARN in a public SSM parameter named after the version
(``/aws/service/powertools/python/<architecture>/<runtime>/<version>``, the name Powertools' own
CDK construct reads: https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer).  Reading the
version from the lock file at synthesis, and the ARN from that parameter at plan time, leaves no
second place where a layer version could drift from the code the tests ran.
"""

from __future__ import annotations

import json
from pathlib import Path

from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from constructs import Construct

PROJECT_ROOT = Path(__file__).resolve().parents[1]
LOCK_FILE = PROJECT_ROOT / "Pipfile.lock"
PACKAGE = "aws-lambda-powertools"


class LockFileError(ValueError):
    """Pipfile.lock does not say which Powertools version the code runs; the message says how to fix it."""


def locked_version(lock_file: Path = LOCK_FILE) -> str:
    """The exact Powertools version in ``lock_file``'s default packages, e.g. ``3.37.0``."""
    try:
        lock = json.loads(lock_file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise LockFileError(f"cannot read {lock_file}: {error}; run `pipenv lock` to write it") from error
    pinned = lock.get("default", {}).get(PACKAGE, {}).get("version", "")
    if not pinned.startswith("==") or not pinned[2:].strip():
        raise LockFileError(f"{lock_file} locks no exact {PACKAGE} version (found {pinned!r}): add "
                            f"{PACKAGE} to the [packages] of Pipfile and run `pipenv lock`")
    return pinned[2:].strip()


def parameter_name(version: str, runtime: str, architecture: str) -> str:
    """The public SSM parameter that holds the layer ARN of one Powertools release."""
    return f"/aws/service/powertools/python/{architecture}/{runtime}/{version}"


class PowertoolsLayer(Construct):
    """The layer ARN of the locked Powertools release for one runtime and architecture, read from SSM.

    The deployer needs ``ssm:GetParameter`` on that public parameter.
    """

    def __init__(self, scope: Construct, id_: str, *, runtime: str, architecture: str,
                 lock_file: Path = LOCK_FILE) -> None:
        super().__init__(scope, id_)
        self.version = locked_version(lock_file)
        self.parameter = DataAwsSsmParameter(
            self, "arn-parameter", name=parameter_name(self.version, runtime, architecture),
        )

    @property
    def arn(self) -> str:
        # insecure_value: the parameter is a plain String, and `value` would mark every function's
        # layers as sensitive in plans.
        return self.parameter.insecure_value
