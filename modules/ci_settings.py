"""Typed, validated settings of the CI identities (:mod:`.ci_identities`), read before any slow import.

``CiIdentitiesSettings`` is what the ``[ci]`` table of the environments file sets (each field's ``doc`` and
``allowed`` metadata is what ``docs/configuration-reference.md`` says about it); ``CiStackSettings`` adds what
the file's other tables decide: where the state is, which state objects and regions CI works on, the stack's tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .settings import REGION_PATTERN, BackendSettings, SettingsError, _setting

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
#: The environment name of the CI identities' stack, ``tap-pipeline-ci`` (``make plan ENV=ci``, TAP_STACKS=ci).
CI_ENVIRONMENT = "ci"
CI_STACK_NAME = f"tap-pipeline-{CI_ENVIRONMENT}"

# GitHub's rules for names: an owner (user or organization) is 1-39 letters, digits and single hyphens,
# neither first nor last; a repository 1-100 letters, digits, '.', '-' and '_'.
_OWNER = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}")
_REPOSITORY = re.compile(r"[A-Za-z0-9._-]{1,100}")
# A GitHub environment name as it appears in the sub claim: no ':' (the claim's separator) and no IAM
# wildcard, so that a listed subject matches exactly one environment.
_ENVIRONMENT = re.compile(r"[A-Za-z0-9._-]{1,255}")
_ROLE_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
_PROJECT = re.compile(r"[a-z][a-z0-9]{1,9}")
_OIDC_PROVIDER_ARN = re.compile(rf"arn:aws[a-z-]*:iam::\d{{12}}:oidc-provider/{re.escape(GITHUB_OIDC_HOST)}")


@dataclass(frozen=True)
class CiIdentitiesSettings:
    """Which repository CI runs in, the roles' names, and which GitHub environments may assume each role.

    ``repository`` is ``owner/name`` exactly as GitHub spells it (IAM compares the ``sub`` claim
    case-sensitively). ``oidc_provider_arn`` names the account's existing GitHub provider (an account holds
    one per URL); None creates it. ``project`` is the prefix of every AWS name the stacks make and
    ``project_tag`` their ``Project`` tag, which scope the deploy role.
    """

    repository: str = _setting(doc="the GitHub repository whose workflows assume the roles, `owner/name` as "
                                   "GitHub spells it (IAM compares the token's `sub` case-sensitively)",
                               allowed="owner/name")
    project: str = _setting("tap", doc="the stacks' name prefix, which scopes the deploy role")
    project_tag: str = _setting("tap-pipeline", doc="the stacks' Project tag, which scopes the deploy role's "
                                                    "key management")
    plan_role_name: str = _setting("tap-pipeline-ci-plan", doc="the IAM role of plans (`vars.AWS_PLAN_ROLE_ARN`)",
                                   allowed="an IAM role name outside `<project>-*-role`")
    deploy_role_name: str = _setting("tap-pipeline-ci-deploy",
                                     doc="the IAM role of applies (`vars.AWS_DEPLOY_ROLE_ARN`)",
                                     allowed="an IAM role name outside `<project>-*-role`, not the plan role's")
    plan_environments: tuple[str, ...] = _setting(
        ("plan-dev", "plan-staging", "plan-prod"),
        doc="the GitHub environments whose jobs may assume the plan role (the workflows' `plan-<env>`)",
        allowed="GitHub environment names, none of the deploy environments")
    deploy_environments: tuple[str, ...] = _setting(
        ("dev", "staging", "prod"),
        doc="the GitHub environments whose jobs may assume the deploy role (their required reviewers approve "
            "each apply)", allowed="GitHub environment names (no `:`, no wildcard)")
    #: Jobs of pull requests that name no environment may plan too (sub ``repo:<repository>:pull_request``).
    plan_pull_requests: bool = _setting(True, doc="pull requests' jobs that name no environment may assume the "
                                                  "plan role")
    max_session_s: int = _setting(3600, doc="how long a role's session lasts, s", allowed="3600..43200")
    oidc_provider_arn: str | None = _setting(
        None, doc="the account's existing GitHub OIDC provider (an account holds one per URL); none creates it",
        allowed=f"the ARN of the account's provider for {GITHUB_OIDC_HOST}")
    tags: Mapping[str, str] = _setting(doc="tags of the provider and the roles", factory=dict)

    def __post_init__(self) -> None:
        problems = list(self._problems())
        if problems:
            raise SettingsError(*problems)

    def _problems(self) -> Iterable[str]:
        owner, _, name = self.repository.partition("/")
        if not (_OWNER.fullmatch(owner) and _REPOSITORY.fullmatch(name) and name not in (".", "..")):
            yield (f"ci.repository={self.repository!r} is invalid: allowed owner/name as GitHub spells it, the "
                   "owner 1-39 letters, digits or single hyphens, the name 1-100 letters, digits, '.', '-', '_'")
        if not _PROJECT.fullmatch(self.project):
            yield (f"ci.project={self.project!r} is invalid: allowed the stacks' name prefix, 2-10 lowercase "
                   "letters or digits starting with a letter")
        if not self.project_tag.strip():
            yield f"ci.project_tag={self.project_tag!r} is invalid: allowed the stacks' Project tag, non-empty"
        for setting, name in (("plan_role_name", self.plan_role_name), ("deploy_role_name", self.deploy_role_name)):
            if not _ROLE_NAME.fullmatch(name):
                yield (f"ci.{setting}={name!r} is invalid: allowed an IAM role name, 1-64 letters, digits and "
                       "+=,.@_-")
            elif re.fullmatch(rf"{re.escape(self.project)}-.*-role", name):
                yield (f"ci.{setting}={name!r} is invalid: allowed a name outside {self.project}-*-role, the "
                       "function roles the deploy role manages (it could rewrite its own policy)")
        if self.plan_role_name == self.deploy_role_name:
            yield f"ci.deploy_role_name={self.deploy_role_name!r} is invalid: allowed a name other than the plan role's"
        for setting, names in (("plan_environments", self.plan_environments),
                               ("deploy_environments", self.deploy_environments)):
            bad = [n for n in names if not _ENVIRONMENT.fullmatch(n)]
            if bad or not names:
                yield (f"ci.{setting}={list(names)!r} is invalid: allowed one or more GitHub environment names of "
                       "1-255 letters, digits, '.', '-', '_' (no ':' and no wildcard)")
        shared = sorted(set(self.plan_environments) & set(self.deploy_environments))
        if shared:
            yield (f"ci.plan_environments={list(self.plan_environments)!r} is invalid: allowed environments "
                   f"apart from the deploy environments, but {shared} are both")
        if not 3600 <= self.max_session_s <= 43200:
            yield f"ci.max_session_s={self.max_session_s!r} is invalid: allowed 3600..43200 (IAM's bounds)"
        if self.oidc_provider_arn is not None and not _OIDC_PROVIDER_ARN.fullmatch(self.oidc_provider_arn):
            yield (f"ci.oidc_provider_arn={self.oidc_provider_arn!r} is invalid: allowed None (create the provider) "
                   f"or the ARN of the account's provider for {GITHUB_OIDC_HOST}")

    def subject(self, kind: str) -> str:
        """The ``sub`` claim of a job of this repository: ``pull_request`` or ``environment:<name>``."""
        return f"repo:{self.repository}:{kind}"

    @property
    def plan_subjects(self) -> tuple[str, ...]:
        pull_requests = (self.subject("pull_request"),) if self.plan_pull_requests else ()
        return (*pull_requests, *(self.subject(f"environment:{e}") for e in self.plan_environments))

    @property
    def deploy_subjects(self) -> tuple[str, ...]:
        return tuple(self.subject(f"environment:{e}") for e in self.deploy_environments)


@dataclass(frozen=True)
class CiStackSettings:
    """The CI identities' stack: its identities, the state home it keeps its own state in (and whose objects
    ``state_keys`` CI may use), the ``regions`` CI deploys to, and the stack's default ``tags``."""

    identities: CiIdentitiesSettings
    state: BackendSettings
    state_keys: tuple[str, ...]
    regions: tuple[str, ...]
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if self.state.kind != "s3":
            problems.append(f"ci.state={self.state.kind!r} is invalid: allowed the S3 state home of [state]")
        if not self.state_keys:
            problems.append("ci.deploy_environments=[] is invalid: allowed at least one environment with "
                            "backend.kind = \"s3\" for CI to plan and deploy")
        problems += [f"ci.regions={region!r} is invalid: allowed an AWS region such as us-east-1"
                     for region in self.regions if not REGION_PATTERN.fullmatch(region)]
        if problems:
            raise SettingsError(*problems)
