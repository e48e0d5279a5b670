"""AWS credentials, checked before Terraform runs, so that a missing one is named with what to do.

Without credentials Terraform's S3 backend ends in ``No valid credential sources found ... no EC2 IMDS role
found``, which names neither the variables to set nor the stack. :func:`require_credentials` resolves them the
way the AWS CLI, boto3 and Terraform's AWS SDK do (environment variables, ``AWS_PROFILE`` and the shared
config and credentials files, IAM Identity Center (SSO), container and instance roles:
https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html) and raises
:class:`MissingCredentials` with the fix when they cannot be had.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

BOOTSTRAP_STACK = "tap-pipeline-state"
HOW_TO_GIVE = (
    "give them as AWS_PROFILE (a profile of ~/.aws/config; for an IAM Identity Center (SSO) profile run "
    "`aws sso login --profile <name>` first), or as AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with "
    "AWS_SESSION_TOKEN for temporary ones); in GitHub Actions, aws-actions/configure-aws-credentials assumes "
    "the roles of the tap-pipeline-ci stack (docs/deploying.md, 'CI identities')"
)
BOOTSTRAP_FIRST = (
    "On a new account `make bootstrap` comes first, as an administrator: it creates the state bucket, lock "
    "table and key the S3-backed stacks keep their state in."
)


class MissingCredentials(RuntimeError):
    """No usable AWS credentials: the message says which are missing and how to give them."""


def advice(stack: str, problem: str) -> str:
    """What is wrong with the credentials for ``stack``, how to give them, and (but for the bootstrap stack
    itself) that the bootstrap comes first on a new account."""
    text = f"{stack} needs AWS credentials, but {problem}: {HOW_TO_GIVE}."
    return text if stack == BOOTSTRAP_STACK else f"{text} {BOOTSTRAP_FIRST}"


def _problem(error: Exception) -> str:
    from botocore.exceptions import ProfileNotFound, SSOError, TokenRetrievalError

    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    if isinstance(error, ProfileNotFound):
        return f"AWS_PROFILE={profile!r} names no profile of ~/.aws/config (or of AWS_CONFIG_FILE)"
    if isinstance(error, SSOError | TokenRetrievalError):
        return (f"the IAM Identity Center (SSO) session of profile {profile!r} has expired or never started "
                f"(run `aws sso login --profile {profile}`)")
    return f"they could not be read ({error})"


def require_credentials(stack: str, session_factory: Callable[[], Any] | None = None) -> None:
    """Raise MissingCredentials unless the usual chain yields credentials that can be used now."""
    from botocore.exceptions import BotoCoreError
    from botocore.session import Session

    session = (session_factory or Session)()
    try:
        credentials = session.get_credentials()
        if credentials is not None:
            # Resolves deferred credentials (SSO, assume-role, credential_process): an expired SSO session
            # fails here rather than in Terraform.
            credentials.get_frozen_credentials()
    except BotoCoreError as error:
        raise MissingCredentials(advice(stack, _problem(error))) from error
    if credentials is None:
        raise MissingCredentials(advice(stack, (
            "none were found (no AWS_PROFILE, no AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, no default "
            "profile, no container or instance role)")))
