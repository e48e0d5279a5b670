"""The AWS-published Powertools for AWS Lambda (Python) layer, at the version Pipfile.lock locks.

AWS publishes each release's layer ARN in a public SSM parameter named after the version
(``/aws/service/powertools/python/<architecture>/<runtime>/<version>``, the name Powertools' own
CDK construct reads: https://docs.powertools.aws.dev/lambda/python/latest/#lambda-layer).  Reading the
version from the lock file at synthesis, and the ARN from that parameter at plan time, leaves no
second place where a layer version could drift from the code the tests ran. An installed wheel has no lock
file: its metadata pins the same version as the extra ``lambda`` (pyproject.toml; a test holds the two equal).
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from pathlib import Path

from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from constructs import Construct

from .locations import PROJECT_ROOT

# None when the library runs from an installed wheel.
LOCK_FILE = PROJECT_ROOT / "Pipfile.lock" if PROJECT_ROOT is not None else None
PACKAGE = "aws-lambda-powertools"
DISTRIBUTION = "tap-pipeline"
LAMBDA_EXTRA = "lambda"


class LockFileError(ValueError):
    """Pipfile.lock does not say which Powertools version the code runs; the message says how to fix it."""


def locked_version(lock_file: Path | None = LOCK_FILE) -> str:
    """The exact Powertools version in ``lock_file``'s default packages, e.g. ``3.37.0``; with no lock file,
    the one the installed wheel pins (:func:`installed_pin`)."""
    if lock_file is None:
        return installed_pin()
    try:
        lock = json.loads(lock_file.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise LockFileError(f"cannot read {lock_file}: {error}; run `pipenv lock` to write it") from error
    pinned = lock.get("default", {}).get(PACKAGE, {}).get("version", "")
    if not pinned.startswith("==") or not pinned[2:].strip():
        raise LockFileError(f"{lock_file} locks no exact {PACKAGE} version (found {pinned!r}): add "
                            f"{PACKAGE} to the [packages] of Pipfile and run `pipenv lock`")
    return pinned[2:].strip()


def installed_pin(distribution: str = DISTRIBUTION) -> str:
    """The Powertools version the installed ``distribution`` pins in its extra ``lambda``."""
    try:
        requirements = importlib.metadata.requires(distribution) or []
    except importlib.metadata.PackageNotFoundError as error:
        raise LockFileError(f"{distribution} is not installed and there is no Pipfile.lock: install the wheel, "
                            "or run from the repository") from error
    pattern = rf"{re.escape(PACKAGE)}\s*==\s*([0-9][\w.]*)\s*;\s*extra\s*==\s*[\"']{LAMBDA_EXTRA}[\"']"
    for requirement in requirements:
        match = re.fullmatch(pattern, requirement.strip())
        if match:
            return match.group(1)
    raise LockFileError(f"{distribution}'s metadata pins no exact {PACKAGE} version in its extra "
                        f"{LAMBDA_EXTRA!r} (found {requirements}): rebuild the wheel from the repository")


def parameter_name(version: str, runtime: str, architecture: str) -> str:
    """The public SSM parameter that holds the layer ARN of one Powertools release."""
    return f"/aws/service/powertools/python/{architecture}/{runtime}/{version}"


class PowertoolsLayer(Construct):
    """The layer ARN of the locked Powertools release for one runtime and architecture, read from SSM.

    The deployer needs ``ssm:GetParameter`` on that public parameter.
    """

    def __init__(self, scope: Construct, id_: str, *, runtime: str, architecture: str,
                 lock_file: Path | None = LOCK_FILE) -> None:
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
