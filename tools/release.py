"""``python -m tools release``: move each function's alias ``live`` to the version the last apply published.

  python -m tools release --env prod            release every changed function, follow until done
  python -m tools release --env prod --dry-run  show what would be released, and the AppSpec of each

For every stage whose published version differs from the one its alias ``live`` points at, the command asks
AWS CodeDeploy for a deployment whose AppSpec names the alias, the current and the target version; CodeDeploy
shifts the traffic by the environment's ``release.deployment_config`` and rolls back by itself when one of the
stage's alarms fires (its errors, its throttles, new records in its dead-letter queue). The command follows
each deployment with its progress (the share of traffic on the new version) until it succeeds, fails or rolls
back. Stages whose alias Terraform owns (``release.codedeploy`` off, or the stage's ``codedeploy_release``
off) are left alone: the apply has pointed them already.

On the emulator (`local`), which implements CodeDeploy's API but shifts no traffic, the deployment is created
all the same (so its AppSpec can be read back) and the command then points the alias at the target version
itself, and says so. Exit codes: 0 released (or nothing to release), 1 a release failed or rolled back (the
alarm that fired is named), 2 the release cannot start, 3 still in progress when --timeout-minutes ran out
(CodeDeploy goes on: follow it in the console or run the command again).

Credentials are the AWS SDK's usual ones; the CI deploy role has what it needs (lambda:ListVersionsByFunction
and GetAlias, codedeploy:CreateDeployment, GetDeployment, GetDeploymentConfig, GetDeploymentGroup and
RegisterApplicationRevision, cloudwatch:DescribeAlarms).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

# Not from modules.function: that imports the provider bindings (over 10 s), which no operator command should pay.
from modules.naming import ALIAS_NAME

#: CodeDeploy's terminal deployment states:
#: https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_DeploymentInfo.html
SUCCEEDED = "Succeeded"
FAILED_STATES = ("Failed", "Stopped")
TERMINAL_STATES = (SUCCEEDED, *FAILED_STATES)
POLL_SECONDS = 15
#: Beyond the traffic shift itself: CodeDeploy waits for provisioned concurrency to warm the new version.
TIMEOUT_MARGIN_MINUTES = 20
EXIT_RELEASED, EXIT_ROLLED_BACK, EXIT_CANNOT_START, EXIT_TIMED_OUT = 0, 1, 2, 3


class ReleaseError(RuntimeError):
    """The release cannot start: the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class StageRelease:
    """One stage of one environment, as the release sees it: its function, the deployment group that releases
    it (None: Terraform owns its alias) and the alarms that roll it back."""

    stage: str
    function: str
    application: str | None
    group: str | None
    alarms: tuple[str, ...]


@dataclass(frozen=True)
class ReleasePlan:
    """What the release of one environment acts on."""

    environment: str
    deployment_config: str
    timeout_minutes: int
    emulator: bool
    stages: tuple[StageRelease, ...]


def plan_of(settings: Any) -> ReleasePlan:
    """The release plan of ``settings`` (:class:`modules.settings.EnvironmentSettings`): names as the pipeline
    construct makes them (:mod:`modules.naming`)."""
    from modules import naming
    from modules.settings import STAGES

    application = settings.resource_name(naming.RELEASES)
    stages = []
    for stage in STAGES:
        function = settings.resource_name(stage)
        dlq = f"{settings.resource_name(naming.SOURCE_QUEUES[stage])}{naming.DLQ_TAIL}"
        released = settings.released_by_codedeploy(stage)
        stages.append(StageRelease(
            stage=stage, function=function, application=application if released else None,
            group=function if released else None,
            alarms=(f"{function}-errors", f"{function}-throttles", f"{dlq}-arrivals")))
    shift = settings.release.shift
    return ReleasePlan(
        environment=settings.suffix, deployment_config=settings.release.deployment_config,
        timeout_minutes=(shift.minutes if shift else 0) + TIMEOUT_MARGIN_MINUTES,
        emulator=settings.emulator, stages=tuple(stages))


def appspec(function: str, current: str, target: str) -> str:
    """The AppSpec of a Lambda deployment moving ``function``'s alias ``live`` from ``current`` to ``target``
    (https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-resources.html)."""
    return json.dumps({
        "version": 0.0,
        "Resources": [{function: {"Type": "AWS::Lambda::Function", "Properties": {
            "Name": function, "Alias": ALIAS_NAME, "CurrentVersion": current, "TargetVersion": target}}}],
    }, indent=2)


def latest_version(lambda_client: Any, function: str) -> str:
    """The highest published version of ``function`` (what the last apply published)."""
    numbers = [int(v["Version"]) for page in lambda_client.get_paginator("list_versions_by_function").paginate(
        FunctionName=function) for v in page["Versions"] if v["Version"].isdigit()]
    if not numbers:
        raise ReleaseError(f"{function} has no published version: apply the environment first")
    return str(max(numbers))


@dataclass
class Outcome:
    """What happened to one stage: ``state`` is unchanged, terraform, released, pointed (emulator), failed,
    rolled-back or in-progress."""

    stage: str
    function: str
    state: str
    current: str | None = None
    target: str | None = None
    deployment_id: str | None = None
    appspec: str | None = None
    detail: str = ""
    fired: tuple[str, ...] = ()

    def as_record(self) -> dict[str, Any]:
        record = {k: v for k, v in self.__dict__.items() if v not in (None, "", ())}
        if "appspec" in record:
            record["appspec"] = json.loads(record["appspec"])
        return record


@dataclass
class Clients:
    lambda_: Any
    codedeploy: Any
    cloudwatch: Any


@dataclass
class Release:
    """One run of the release command over a plan."""

    plan: ReleasePlan
    clients: Clients
    out: TextIO = sys.stdout
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    poll_seconds: float = POLL_SECONDS
    outcomes: list[Outcome] = field(default_factory=list)

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # ------------------------------------------------------------------------------------------ what to release
    def survey(self) -> list[Outcome]:
        """Each stage's versions: the alias's, the latest published, and what the release will do about them."""
        outcomes = []
        for stage in self.plan.stages:
            alias = self.clients.lambda_.get_alias(FunctionName=stage.function, Name=ALIAS_NAME)
            current, target = alias["FunctionVersion"], latest_version(self.clients.lambda_, stage.function)
            weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
            outcome = Outcome(stage.stage, stage.function, "unchanged", current, target)
            if weights and stage.group is not None:
                raise ReleaseError(
                    f"{stage.function}'s alias {ALIAS_NAME} already routes traffic to two versions ({current} and "
                    f"{', '.join(f'{v} at {w:.0%}' for v, w in weights.items())}): a release is in progress; let "
                    "it finish (CodeDeploy console) and run the command again")
            if current == target:
                outcome.detail = f"{ALIAS_NAME} is at version {current}, the latest: nothing to release"
            elif stage.group is None:
                outcome.state = "terraform"
                outcome.detail = (f"{ALIAS_NAME} is at version {current}, {target} is published; Terraform owns "
                                  f"this alias in {self.plan.environment} (release.codedeploy off): an apply "
                                  "points it")
            else:
                outcome.state = "pending"
                outcome.appspec = appspec(stage.function, current, target)
            outcomes.append(outcome)
        return outcomes

    # ------------------------------------------------------------------------------------------------- the run
    def run(self, *, dry_run: bool = False, timeout_minutes: float | None = None) -> int:
        self.outcomes = self.survey()
        stages = {s.stage: s for s in self.plan.stages}
        pending = [o for o in self.outcomes if o.state == "pending"]
        for outcome in self.outcomes:
            if outcome.state != "pending":
                self.say(f"{outcome.stage}: {outcome.detail}")
                continue
            self.say(f"{outcome.stage}: {ALIAS_NAME} {outcome.current} -> {outcome.target} "
                     f"({self.plan.deployment_config}); AppSpec:")
            self.say("\n".join(f"  {line}" for line in (outcome.appspec or "").splitlines()))
        if not pending:
            self.say(f"release {self.plan.environment}: nothing to release")
            return EXIT_RELEASED
        if dry_run:
            self.say(f"dry run: {len(pending)} deployment(s) would be created; nothing changed")
            return EXIT_RELEASED
        for outcome in pending:
            self._create(stages[outcome.stage], outcome)
        if self.plan.emulator:
            for outcome in pending:
                self._point_directly(outcome)
            return self._summary()
        self._follow(pending, stages, timeout_minutes or self.plan.timeout_minutes)
        return self._summary()

    def _create(self, stage: StageRelease, outcome: Outcome) -> None:
        content = outcome.appspec or ""
        try:
            response = self.clients.codedeploy.create_deployment(
                applicationName=stage.application, deploymentGroupName=stage.group,
                revision={"revisionType": "AppSpecContent", "appSpecContent": {
                    "content": content, "sha256": hashlib.sha256(content.encode()).hexdigest()}},
                description=f"{stage.function}: {ALIAS_NAME} {outcome.current} -> {outcome.target} "
                            "(python -m tools release)")
        except self.clients.codedeploy.exceptions.DeploymentGroupDoesNotExistException as error:
            raise ReleaseError(f"no CodeDeploy deployment group {stage.group} in application {stage.application}: "
                               f"apply {self.plan.environment} with release.codedeploy on first") from error
        except self.clients.codedeploy.exceptions.ApplicationDoesNotExistException as error:
            raise ReleaseError(f"no CodeDeploy application {stage.application}: apply {self.plan.environment} "
                               "with release.codedeploy on first") from error
        outcome.deployment_id = response["deploymentId"]
        outcome.state = "in-progress"
        self.say(f"{outcome.stage}: deployment {outcome.deployment_id} created")

    def _point_directly(self, outcome: Outcome) -> None:
        self.clients.lambda_.update_alias(FunctionName=outcome.function, Name=ALIAS_NAME,
                                          FunctionVersion=outcome.target)
        outcome.state = "pointed"
        outcome.detail = (f"the emulator shifts no traffic: {ALIAS_NAME} pointed at version {outcome.target} "
                          f"directly (deployment {outcome.deployment_id} recorded, not run)")
        self.say(f"{outcome.stage}: {outcome.detail}")

    def _follow(self, pending: Sequence[Outcome], stages: Mapping[str, StageRelease], timeout_minutes: float) -> None:
        deadline = self.clock() + timeout_minutes * 60
        last: dict[str, str] = {}
        while True:
            for outcome in pending:
                if outcome.state != "in-progress":
                    continue
                info = self.clients.codedeploy.get_deployment(deploymentId=outcome.deployment_id)["deploymentInfo"]
                progress = f"{info['status']}{self._traffic(outcome)}"
                if last.get(outcome.stage) != progress:
                    self.say(f"{outcome.stage}: {progress}")
                    last[outcome.stage] = progress
                if info["status"] == SUCCEEDED:
                    outcome.state = "released"
                    outcome.detail = f"{ALIAS_NAME} is at version {outcome.target}"
                elif info["status"] in FAILED_STATES:
                    self._failed(outcome, stages[outcome.stage], info)
            if all(o.state != "in-progress" for o in pending):
                return
            if self.clock() >= deadline:
                for outcome in pending:
                    if outcome.state == "in-progress":
                        outcome.detail = (f"still in progress after {timeout_minutes:g} minutes: CodeDeploy goes "
                                          f"on; follow deployment {outcome.deployment_id} in its console")
                return
            self.sleep(self.poll_seconds)

    def _traffic(self, outcome: Outcome) -> str:
        """``: 10% on version 4`` while the alias routes by weight, else nothing."""
        alias = self.clients.lambda_.get_alias(FunctionName=outcome.function, Name=ALIAS_NAME)
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        if outcome.target in weights:
            return f": {weights[outcome.target]:.0%} of traffic on version {outcome.target}"
        return f": live on version {alias['FunctionVersion']}"

    def _failed(self, outcome: Outcome, stage: StageRelease, info: Mapping[str, Any]) -> None:
        error = info.get("errorInformation") or {}
        rollback = info.get("rollbackInfo") or {}
        outcome.fired = self._alarms_in_alarm(stage)
        alias = self.clients.lambda_.get_alias(FunctionName=outcome.function, Name=ALIAS_NAME)
        outcome.state = "rolled-back" if outcome.fired or rollback or info["status"] == "Stopped" else "failed"
        parts = [f"{info['status'].lower()}"]
        if outcome.fired:
            parts.append(f"alarm {', '.join(outcome.fired)} fired")
        if error:
            parts.append(f"{error.get('code', '')}: {error.get('message', '')}".strip(": "))
        if rollback.get("rollbackMessage"):
            parts.append(rollback["rollbackMessage"])
        parts.append(f"{ALIAS_NAME} is on version {alias['FunctionVersion']}")
        outcome.detail = "; ".join(parts)

    def _alarms_in_alarm(self, stage: StageRelease) -> tuple[str, ...]:
        """The stage's alarms in ALARM now: those of its deployment group, and those the pipeline gives it."""
        names = list(stage.alarms)
        try:
            group = self.clients.codedeploy.get_deployment_group(
                applicationName=stage.application, deploymentGroupName=stage.group)["deploymentGroupInfo"]
            names += [a["name"] for a in (group.get("alarmConfiguration") or {}).get("alarms", [])
                      if a["name"] not in names]
        except self.clients.codedeploy.exceptions.ClientError:
            pass  # the pipeline's own alarm names still say which fired
        found = self.clients.cloudwatch.describe_alarms(AlarmNames=names[:100])
        return tuple(a["AlarmName"] for a in found.get("MetricAlarms", []) + found.get("CompositeAlarms", [])
                     if a.get("StateValue") == "ALARM")

    def _summary(self) -> int:
        for outcome in self.outcomes:
            if outcome.state in ("released", "failed", "rolled-back", "in-progress"):
                self.say(f"{outcome.stage}: {outcome.state}: {outcome.detail}")
        states = {o.state for o in self.outcomes}
        if states & {"failed", "rolled-back"}:
            self.say(f"release {self.plan.environment}: FAILED")
            return EXIT_ROLLED_BACK
        if "in-progress" in states:
            self.say(f"release {self.plan.environment}: still in progress")
            return EXIT_TIMED_OUT
        self.say(f"release {self.plan.environment}: done")
        return EXIT_RELEASED

    def record(self) -> dict[str, Any]:
        """The run as data (``--record``): each stage's outcome, the AppSpec sent, and how it was applied."""
        return {"environment": self.plan.environment, "deployment_config": self.plan.deployment_config,
                "traffic": "pointed directly (emulator)" if self.plan.emulator else "shifted by CodeDeploy",
                "stages": [o.as_record() for o in self.outcomes]}


# --- The command ------------------------------------------------------------------------------------------------

def clients_for(region: str, endpoint: str | None) -> Clients:
    if endpoint:
        from tools.local.emulator import client

        return Clients(client("lambda", endpoint, region), client("codedeploy", endpoint, region),
                       client("cloudwatch", endpoint, region))
    import boto3

    return Clients(boto3.client("lambda", region_name=region), boto3.client("codedeploy", region_name=region),
                   boto3.client("cloudwatch", region_name=region))


def run(args: argparse.Namespace) -> int:
    """The ``release`` command."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from modules.settings import SettingsError
    from tools.environment import read_environment

    try:
        settings, endpoint = read_environment(args.env)
        release = Release(plan_of(settings), clients_for(settings.region, endpoint))
        code = release.run(dry_run=args.dry_run, timeout_minutes=args.timeout_minutes)
        if args.record:
            with open(args.record, "w") as record:
                json.dump(release.record(), record, indent=2)
        return code
    except (ReleaseError, SettingsError) as error:
        print(f"release: {error}", file=sys.stderr)
    except NoCredentialsError:
        print("release: no AWS credentials: set AWS_PROFILE (or sign in with `aws sso login`) for the "
              "environment's account; in CI the deploy role of the tap-pipeline-ci stack", file=sys.stderr)
    except (ClientError, BotoCoreError) as error:
        print(f"release: AWS refused: {error}", file=sys.stderr)
    return EXIT_CANNOT_START


def _minutes(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"--timeout-minutes {value} is invalid: give a number of minutes above 0")
    return number


def add_parser(commands: argparse._SubParsersAction) -> None:
    """Register ``release`` on the operator CLI (``python -m tools``)."""
    parser = commands.add_parser(
        "release", help="shift each changed function's alias to its new version through CodeDeploy; follow it",
        description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, metavar="ENV", help="local, dev, staging, prod or a preview suffix")
    parser.add_argument("--dry-run", action="store_true", help="show what would be released; create nothing")
    parser.add_argument("--timeout-minutes", type=_minutes, metavar="N",
                        help="stop following after N minutes (default: the deployment configuration's shift "
                             f"plus {TIMEOUT_MARGIN_MINUTES})")
    parser.add_argument("--record", metavar="FILE", help="write the run (each stage's outcome and AppSpec) as JSON")
    parser.set_defaults(handler=run)
