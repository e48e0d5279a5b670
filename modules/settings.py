"""Typed, validated settings of one pipeline environment: the library's defaults, as frozen dataclasses.

Each dataclass validates itself in ``__post_init__`` so that a bad value stops
the program before synthesis, with a message naming the setting, the value and
what is allowed (every problem at once, not the first).  Defaults are the
secure, cheap choice; an environment changes only what it must.  The shipped
environments are data (``environments.toml``, read by :mod:`.environments_file`);
each field's ``doc`` and ``allowed`` metadata is what ``docs/configuration-reference.md`` says about it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from typing import Any

from . import naming
from .rules import Rule, at_least, in_range, matches, one_of, required_tag
from .terraform_values import is_expression, plus, times

STAGES = ("validator", "enricher", "processor")
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
REQUIRED_TAGS = ("Project", "Environment", "CostCenter", "Owner", "ManagedBy")
SUFFIX_REGEX = r"[a-z0-9][a-z0-9-]{0,19}"
SUFFIX_PATTERN = re.compile(f"^{SUFFIX_REGEX}$")
SUFFIX_ALLOWED = "1-20 of lowercase letters, digits and hyphens, starting with a letter or digit"
DEFAULT_PROJECT = "tap"
# Short enough that the longest name (an IAM role, at most 64 characters) fits with a 20-character suffix.
PROJECT_REGEX = r"[a-z][a-z0-9]{1,9}"
PROJECT_PATTERN = re.compile(f"^{PROJECT_REGEX}$")
REGION_REGEX = r"[a-z]{2}(-[a-z]+)+-\d"
REGION_PATTERN = re.compile(REGION_REGEX)


class SettingsError(ValueError):
    """Settings that cannot be deployed: one line per invalid value, each saying how to fix it."""

    def __init__(self, *problems: str) -> None:
        self.problems = tuple(dict.fromkeys(problems))
        super().__init__("\n".join(self.problems))


# The problems found so far by the outermost validation in progress (None when none is).
_problems: ContextVar[list[str] | None] = ContextVar("settings_problems", default=None)


@contextmanager
def collected_problems() -> Iterator[None]:
    """Validate everything inside, then raise one SettingsError listing every problem found.

    Nested blocks (a dataclass built while its parent is validated) add to the
    outermost block's list, so one run reports every invalid value, not the first.
    """
    outer = _problems.get()
    problems: list[str] = [] if outer is None else outer
    token = _problems.set(problems)
    try:
        yield
    except SettingsError as error:
        if outer is not None:
            raise  # the outermost block adds it to the others
        problems.extend(error.problems)
    finally:
        _problems.reset(token)
    if outer is None and problems:
        raise SettingsError(*problems)


@contextmanager
def relabelled_problems(relabel: Callable[[str], str | None]) -> Iterator[None]:
    """Validate everything inside as a block of its own, then hand each problem, passed through ``relabel``,
    to the enclosing block (or raise them, when there is none).

    For readers of settings from elsewhere (a file, environment variables): ``relabel`` turns the setting a
    dataclass names (``backend.region``) into where its value came from (``TAP_STATE_REGION``), or drops a
    problem (None) that only repeats another one.
    """
    outer = _problems.get()
    token = _problems.set(None)
    completed = False
    relabelled: tuple[str, ...] = ()
    try:
        with collected_problems():
            yield
            completed = True
    except SettingsError as error:
        relabelled = tuple(p for p in map(relabel, error.problems) if p is not None)
    finally:
        _problems.reset(token)
    if not relabelled:
        return
    if outer is None or not completed:
        raise SettingsError(*relabelled)  # an enclosing block adds them to its own
    outer.extend(relabelled)


def problem_setting(problem: str) -> tuple[str, str]:
    """``("backend.region", "'moon' is invalid: ...")`` from ``"backend.region='moon' is invalid: ..."``."""
    setting, rest = problem.split("=", 1)
    return setting, rest


def _require(condition: bool, setting: str, value: object, allowed: str) -> None:
    if condition:
        return
    problem = f"{setting}={value!r} is invalid: allowed {allowed}"
    problems = _problems.get()
    if problems is None:
        raise SettingsError(problem)
    problems.append(problem)


def _require_range(setting: str, value: int | float, low: int | float, high: int | float) -> None:
    _require(low <= value <= high, setting, value, f"{low}..{high}")


def _check_rules(rules: tuple[Rule, ...], values: Mapping[str, Any], prefix: str = "") -> None:
    """Each rule of a table (:mod:`.rules`) on ``values``, reported as ``<prefix><label>``; a rule over a
    Terraform expression is the generated module's validation block's to check."""
    for rule in rules:
        verdict = rule.verdict(values)
        if verdict is not None:
            _require(verdict.holds, f"{prefix}{rule.label or rule.field}", verdict.value, verdict.allowed)


def _setting(default: Any = MISSING, *, doc: str, allowed: str = "", factory: Callable[[], Any] | None = None
             ) -> Any:
    """A field with what ``docs/configuration-reference.md`` says about it: what it is (``doc``) and its range
    (``allowed``)."""
    metadata = {"doc": doc, "allowed": allowed}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def visibility_timeout_s(function_timeout_s: int, batching_window_s: int) -> int:
    """A consumed queue's visibility timeout: six times its function's timeout plus the batching window.

    AWS's guidance for Lambda event sources on SQS; with less, SQS may redeliver a batch the function
    is still working on, and AWS refuses a mapping whose function timeout exceeds the queue's visibility
    timeout (hashicorp/terraform-provider-aws#18099).
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    Either may be a Terraform expression (the module's variables): the result is then one too.
    """
    return plus(times(6, function_timeout_s), batching_window_s)


class BillingMode(StrEnum):
    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


# The rules that read two settings, side by side with their Terraform condition in the tables below.
def _batch_fits_its_window(values: Mapping[str, Any]) -> bool:
    return values["batch_size"] <= 10 or values["batching_window_s"] >= 1


def _reserved_covers_max_concurrency(values: Mapping[str, Any]) -> bool:
    return values["reserved_concurrency"] is None or values["reserved_concurrency"] >= values["max_concurrency"]


def _provisioned_within_reserved(values: Mapping[str, Any]) -> bool:
    provisioned, reserved = values["provisioned_concurrency"], values["reserved_concurrency"]
    return not (provisioned and reserved is not None) or provisioned <= reserved


def _minimum_within_maximum(values: Mapping[str, Any]) -> bool:
    return values["min_capacity"] <= values["max_capacity"]


def _twelve_digits(values: Mapping[str, Any]) -> bool:
    return isinstance(values["account_id"], str) and re.fullmatch(r"\d{12}", values["account_id"]) is not None


def _someone_hears_the_alarms(values: Mapping[str, Any]) -> bool:
    return not values["require_subscriber"] or bool(values["alarm_email"] or values["alarm_https_endpoint"])


#: The rules of one stage's function (its settings are the generated module's ``<stage>_<setting>`` variables).
FUNCTION_RULES: tuple[Rule, ...] = (
    in_range("memory_mb", 128, 10240),
    in_range("timeout_s", 1, 900),
    in_range("batch_size", 1, 10000),
    in_range("batching_window_s", 0, 300),
    Rule("batch_size", _batch_fits_its_window, "{batch_size} <= 10 || {batching_window_s} >= 1",
         "at most 10 without a batching window (SQS needs batching_window_s >= 1 for larger batches)",
         reads=("batching_window_s",)),
    # SQS event sources accept a maximum concurrency of 2..1000.
    in_range("max_concurrency", 2, 1000),
    in_range("max_receive_count", 1, 1000),
    Rule("reserved_concurrency", _reserved_covers_max_concurrency,
         "{reserved_concurrency} == null ? true : {reserved_concurrency} >= {max_concurrency}",
         ">= max_concurrency ({max_concurrency}), or the event source is throttled and messages go to the DLQ; "
         "raise it or lower max_concurrency", reads=("max_concurrency",)),
    at_least("provisioned_concurrency", 0, ">= 0 (0 turns it off)"),
    Rule("provisioned_concurrency", _provisioned_within_reserved,
         "({provisioned_concurrency} == 0 || {reserved_concurrency} == null) ? true : "
         "{provisioned_concurrency} <= {reserved_concurrency}",
         "<= reserved_concurrency ({reserved_concurrency})", reads=("reserved_concurrency",)),
)


@dataclass(frozen=True)
class FunctionSettings:
    """One stage's Lambda function and the event source mapping that feeds it.

    These field defaults and ``STAGE_DEFAULTS`` are the library's defaults;
    environments change only what differs from them.
    ``reserved_concurrency=None`` leaves the function on the account's unreserved
    pool (a new account, whose limit is 10, cannot reserve anything);
    ``provisioned_concurrency=0`` means no warm instances.
    """

    name: str = _setting(doc="the stage: validator, enricher or processor")
    # Lambda's minimum; stages that measure more get more (STAGE_DEFAULTS, tools/benchmarks/memory.py).
    memory_mb: int = _setting(128, doc="memory of the function, MB (Lambda's CPU share grows with it)",
                              allowed="128..10240")
    timeout_s: int = _setting(30, doc="the function's timeout, s; its queue's visibility timeout is 6 x this + "
                                      "batching_window_s", allowed="1..900")
    reserved_concurrency: int | None = _setting(
        10, doc="executions reserved for the function; `false` (None) leaves it on the account's unreserved "
                "pool, the only choice on a new account whose limit is 10",
        allowed=">= max_concurrency, or false")
    provisioned_concurrency: int = _setting(0, doc="warm instances on the alias `live` (0: none)",
                                            allowed=">= 0, <= reserved_concurrency")
    batch_size: int = _setting(10, doc="records per invocation", allowed="1..10000 (above 10 only with "
                                                                          "batching_window_s >= 1)")
    batching_window_s: int = _setting(0, doc="how long SQS gathers a batch before invoking, s", allowed="0..300")
    max_concurrency: int = _setting(5, doc="the event source's maximum concurrent invocations",
                                    allowed="2..1000")
    max_receive_count: int = _setting(5, doc="receives before a record moves to the dead-letter queue",
                                      allowed="1..1000")
    codedeploy_release: bool = _setting(True, doc="with the environment's `release.codedeploy` on, CodeDeploy "
                                                  "shifts this stage's traffic to a new version (false: Terraform "
                                                  "points the alias at it at once)")

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        prefix = f"functions.{self.name}"
        _require(self.name in STAGES, f"{prefix}.name", self.name, f"one of {', '.join(STAGES)}")
        _check_rules(FUNCTION_RULES, {f.name: getattr(self, f.name) for f in fields(self)}, f"{prefix}.")

    @property
    def visibility_timeout_s(self) -> int:
        """The visibility timeout of the queue that feeds this function."""
        return visibility_timeout_s(self.timeout_s, self.batching_window_s)


# What each stage needs beyond FunctionSettings' defaults: the processor retries throttled writes
# with backoff inside its invocation, so it gets more time; and more memory: every function gets at least
# 1.5 x the largest peak tools/benchmarks/memory.py measured over the typical batch and the contract's worst
# batches (docs/performance.md, "Memory, by measurement": validator 62.2, enricher 62.1, processor 106.6 MiB). The
# processor gets 256 MB rather than the 160 the rule needs: Lambda's CPU share grows with memory, and its
# deepest worst-case batch is CPU-bound.
STAGE_DEFAULTS: Mapping[str, Mapping[str, object]] = {
    "processor": {"timeout_s": 60, "memory_mb": 256},
}


def stage_function(stage: str, **changes: object) -> FunctionSettings:
    """The library's settings of one stage's function (FunctionSettings' defaults and ``STAGE_DEFAULTS``),
    with ``changes``."""
    return FunctionSettings(name=stage, **{**STAGE_DEFAULTS.get(stage, {}), **changes})  # type: ignore[arg-type]


def default_functions() -> dict[str, FunctionSettings]:
    """Every stage's function with the library's settings."""
    return {stage: stage_function(stage) for stage in STAGES}


#: The rules of one capacity dimension's autoscaling bounds.
AUTOSCALING_RULES: tuple[Rule, ...] = (
    at_least("min_capacity", 1),
    Rule("min_capacity", _minimum_within_maximum, "{min_capacity} <= {max_capacity}",
         "<= max_capacity ({max_capacity})", reads=("max_capacity",)),
    in_range("target_utilization", 10, 90),
)


@dataclass(frozen=True)
class AutoscalingSettings:
    """Application autoscaling bounds of one capacity dimension of the table."""

    min_capacity: int = _setting(5, doc="lowest provisioned capacity units", allowed=">= 1, <= max_capacity")
    max_capacity: int = _setting(100, doc="highest provisioned capacity units", allowed=">= min_capacity")
    target_utilization: float = _setting(70.0, doc="utilization the scaling policy keeps, %", allowed="10..90")

    def validate(self, prefix: str) -> None:
        _check_rules(AUTOSCALING_RULES, {f.name: getattr(self, f.name) for f in fields(self)}, f"{prefix}.")


TABLE_RULES: tuple[Rule, ...] = (
    one_of("billing_mode", [mode.value for mode in BillingMode], ", ".join(mode.value for mode in BillingMode)),
)


@dataclass(frozen=True)
class TableSettings:
    """The records table: on-demand by default, provisioned with autoscaling on request."""

    billing_mode: BillingMode | str = _setting(
        BillingMode.PAY_PER_REQUEST, doc="on-demand, or provisioned capacity with read and write autoscaling",
        allowed="PAY_PER_REQUEST or PROVISIONED")
    read_autoscaling: AutoscalingSettings = _setting(
        doc="read capacity bounds (PROVISIONED only)", factory=AutoscalingSettings)
    write_autoscaling: AutoscalingSettings = _setting(
        doc="write capacity bounds (PROVISIONED only)", factory=AutoscalingSettings)
    deletion_protection: bool = _setting(True, doc="DynamoDB refuses to delete the table")
    point_in_time_recovery: bool = _setting(True, doc="continuous backups (35 days)")

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        _check_rules(TABLE_RULES, {"billing_mode": self.billing_mode}, "table.")
        if self.billing_mode in {mode.value for mode in BillingMode}:
            object.__setattr__(self, "billing_mode", BillingMode(self.billing_mode))
        self.read_autoscaling.validate("table.read_autoscaling")
        self.write_autoscaling.validate("table.write_autoscaling")


MONITORING_RULES: tuple[Rule, ...] = (
    matches("alarm_email", r"[^@\s]+@[^@\s]+\.[^@\s]+", "an e-mail address such as oncall@example.com",
            optional=True),
    matches("alarm_https_endpoint", r"https://[^\s/]+(/\S*)?",
            "an https:// URL (SNS delivers alarms to HTTPS endpoints only over TLS here)", optional=True),
)


@dataclass(frozen=True)
class MonitoringSettings:
    """Alarm thresholds and who hears about them: an e-mail address, an HTTPS endpoint, both or (when no
    subscriber is required) none.

    ``alarm_https_endpoint`` takes any HTTPS subscriber, AWS Chatbot's
    (https://global.sns-api.chatbot.amazonaws.com) included.
    """

    alarm_email: str | None = _setting(None, doc="e-mail address subscribed to the alarm topic (it must confirm)",
                                       allowed="an e-mail address")
    alarm_https_endpoint: str | None = _setting(None, doc="HTTPS endpoint subscribed to the alarm topic",
                                                allowed="an https:// URL")
    require_subscriber: bool = _setting(True, doc="synthesis stops unless alarm_email or alarm_https_endpoint is set")
    oldest_message_age_threshold_s: int = _setting(
        900, doc="a queue alarms when its oldest message is older, s", allowed="60..1209600")
    alarm_period_s: int = _setting(60, doc="the period every alarm evaluates, s", allowed="10, 30 or a multiple of 60")
    duration_alarm_fraction: float = _setting(
        0.8, doc="a function alarms when its p99 duration passes this fraction of its timeout", allowed="0.1..1.0")

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        _check_rules(MONITORING_RULES, {"alarm_email": self.alarm_email,
                                        "alarm_https_endpoint": self.alarm_https_endpoint}, "monitoring.")
        _require_range("monitoring.oldest_message_age_threshold_s", self.oldest_message_age_threshold_s, 60,
                       1209600)
        _require(self.alarm_period_s in (10, 30) or (self.alarm_period_s % 60 == 0 and self.alarm_period_s > 0),
                 "monitoring.alarm_period_s", self.alarm_period_s, "10, 30 or a multiple of 60")
        _require_range("monitoring.duration_alarm_fraction", self.duration_alarm_fraction, 0.1, 1.0)


@dataclass(frozen=True)
class TrafficShift:
    """How one CodeDeploy deployment configuration moves an alias's traffic: ``percent`` of it first (canary) or
    every step (linear), ``interval_minutes`` apart."""

    kind: str  # "canary" or "linear"
    percent: int
    interval_minutes: int

    @property
    def minutes(self) -> int:
        """How long the shift takes at most when no alarm stops it."""
        steps = 1 if self.kind == "canary" else math.ceil(100 / self.percent)
        return steps * self.interval_minutes


#: AWS's predefined deployment configurations for Lambda, by name, with the shift each makes:
#: https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html#deployment-configuration-lambda
PREDEFINED_LAMBDA_CONFIGS: Mapping[str, TrafficShift | None] = {
    "CodeDeployDefault.LambdaAllAtOnce": None,
    **{f"CodeDeployDefault.LambdaCanary10Percent{m}Minutes": TrafficShift("canary", 10, m) for m in (5, 10, 15, 30)},
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": TrafficShift("linear", 10, 1),
    **{f"CodeDeployDefault.LambdaLinear10PercentEvery{m}Minutes": TrafficShift("linear", 10, m) for m in (2, 3, 10)},
}
CUSTOM_TRAFFIC_KINDS = ("canary", "linear")


@dataclass(frozen=True)
class ReleaseSettings:
    """How new handler code reaches the alias ``live``: at once by Terraform (the default), or gradually by AWS
    CodeDeploy, which rolls back by itself when the stage's alarms fire (``python -m tools release``).

    Off by default: with it on, an apply only publishes a version and the release command moves traffic, so a
    library user who never runs it would never see new code live.
    """

    codedeploy: bool = _setting(
        False, doc="CodeDeploy owns the alias `live` of every stage whose `codedeploy_release` is on: an apply "
                   "publishes the new version, `python -m tools release` shifts traffic to it and CodeDeploy "
                   "rolls it back when the stage's error, throttle or dead-letter alarm fires")
    deployment_config: str = _setting(
        "CodeDeployDefault.LambdaCanary10Percent5Minutes",
        doc="how CodeDeploy shifts the traffic: one of AWS's predefined Lambda configurations, or `canary` / "
            "`linear` for the environment's own, made of traffic_percent and interval_minutes",
        allowed=", ".join(PREDEFINED_LAMBDA_CONFIGS) + ", canary or linear")
    traffic_percent: int = _setting(
        10, doc="with `canary`: the share of traffic the new version gets first; with `linear`: the share added "
                "at every step, %", allowed="1..99")
    interval_minutes: int = _setting(
        5, doc="with `canary`: the wait before the rest of the traffic moves; with `linear`: the wait between "
               "steps, minutes", allowed="1..2880")

    def __post_init__(self) -> None:
        with collected_problems():
            _require(self.deployment_config in PREDEFINED_LAMBDA_CONFIGS or
                     self.deployment_config in CUSTOM_TRAFFIC_KINDS, "release.deployment_config",
                     self.deployment_config, "one of AWS's predefined Lambda configurations ("
                     + ", ".join(PREDEFINED_LAMBDA_CONFIGS) + "), or canary or linear (your own shift: "
                     "traffic_percent and interval_minutes)")
            _require_range("release.traffic_percent", self.traffic_percent, 1, 99)
            _require_range("release.interval_minutes", self.interval_minutes, 1, 2880)

    @property
    def custom(self) -> bool:
        """The environment's own deployment configuration, rather than one of AWS's."""
        return self.deployment_config in CUSTOM_TRAFFIC_KINDS

    @property
    def shift(self) -> TrafficShift | None:
        """The traffic shift of the deployment configuration (None: all at once)."""
        if self.custom:
            return TrafficShift(self.deployment_config, self.traffic_percent, self.interval_minutes)
        return PREDEFINED_LAMBDA_CONFIGS.get(self.deployment_config)


@dataclass(frozen=True)
class ReviewSettings:
    """How the plan review (``make plan``, tools/plans) judges a change of the environment: a plan whose monthly
    bill would exceed the ceiling blocks until a person acknowledges it (``--ack cost``); without a ceiling a
    rise is only a warning."""

    monthly_cost_ceiling_usd: float | None = _setting(
        None, doc="the monthly bill (the cost model of tools/cost at the volume of tools/cost/budgets.json) above "
                  "which a plan blocks the review until acknowledged (`--ack cost`); `false`: no ceiling",
        allowed="> 0, or false")

    def __post_init__(self) -> None:
        ceiling = self.monthly_cost_ceiling_usd
        _require(ceiling is None or (math.isfinite(ceiling) and ceiling > 0), "review.monthly_cost_ceiling_usd",
                 ceiling, "a number of USD > 0, or false (no ceiling)")


def state_bucket_name(project: str, account_id: str, region: str) -> str:
    """S3 bucket names are global across all AWS customers: the account id and region make this one unique."""
    return f"{project}-pipeline-tfstate-{account_id}-{region}"


# Each partition's regions, as the AWS SDKs' partition metadata describes them (botocore's data/partitions.json,
# `regionRegex`): https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html
_PARTITION_REGIONS = (
    ("aws-cn", re.compile(r"cn-\w+-\d+")),
    ("aws-us-gov", re.compile(r"us-gov-\w+-\d+")),
    ("aws-iso", re.compile(r"us-iso-\w+-\d+")),
    ("aws-iso-b", re.compile(r"us-isob-\w+-\d+")),
    ("aws-iso-e", re.compile(r"eu-isoe-\w+-\d+")),
    ("aws-iso-f", re.compile(r"us-isof-\w+-\d+")),
    ("aws-eusc", re.compile(r"eusc-de-\w+-\d+")),
)


def partition_of(region: str) -> str:
    """The partition of ``region`` (``aws-cn`` for cn-north-1), ``aws`` for the commercial regions and any other.

    For ARNs Terraform needs before any data source can answer (the backend block): elsewhere the stacks read
    the provider's ``aws_partition``.
    """
    return next((name for name, regions in _PARTITION_REGIONS if regions.fullmatch(region)), "aws")


#: The bootstrap stack's own state object in the state bucket.
BOOTSTRAP_STATE_KEY = "state/tap-pipeline-state.tfstate"


def environment_state_key(suffix: str) -> str:
    """The state object of environment ``suffix``'s stack, ``tap-pipeline-<suffix>``, in the state bucket."""
    return f"{suffix}/tap-pipeline-{suffix}.tfstate"


def state_lock_table_name(project: str) -> str:
    return f"{project}-pipeline-terraform-locks"


def state_key_alias(project: str) -> str:
    return f"{project}-pipeline-tfstate"


@dataclass(frozen=True)
class BackendSettings:
    """Where Terraform keeps a stack's state: S3 with DynamoDB locking, or local disk.

    The S3 state is encrypted with the bootstrap stack's own KMS key (``kms_key_alias`` in
    ``account_id``), named by its alias ARN so that the backend needs no key id.
    """

    kind: str = _setting("local", doc="`s3`: the shared state bucket (see [state]); `local`: local disk",
                         allowed="s3 or local")
    bucket: str = _setting("", doc="the state bucket", allowed="an S3 bucket name")
    lock_table: str = _setting("tap-pipeline-terraform-locks", doc="the DynamoDB lock table",
                               allowed="a DynamoDB table name")
    region: str = _setting("us-east-1", doc="the region of the bucket, the lock table and the key",
                           allowed="an AWS region")
    account_id: str = _setting("", doc="the account that holds the state", allowed="12 digits")
    kms_key_alias: str = _setting("tap-pipeline-tfstate", doc="alias of the state's KMS key, without alias/",
                                  allowed="a KMS alias name")

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        _require(self.kind in ("s3", "local"), "backend.kind", self.kind, "'s3' or 'local'")
        if self.kind != "s3":
            return
        _require(bool(re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", self.bucket)), "backend.bucket",
                 self.bucket, "an S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)")
        _require(bool(re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", self.lock_table)), "backend.lock_table",
                 self.lock_table, "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)")
        _require(bool(REGION_PATTERN.fullmatch(self.region)), "backend.region", self.region,
                 "an AWS region such as us-east-1")
        _require(bool(re.fullmatch(r"\d{12}", self.account_id)), "backend.account_id", self.account_id,
                 "the 12-digit id of the AWS account that holds the state")
        _require(bool(re.fullmatch(r"[a-zA-Z0-9/_-]{1,250}", self.kms_key_alias)), "backend.kms_key_alias",
                 self.kms_key_alias, "a KMS alias name without the alias/ prefix")

    @property
    def kms_key_arn(self) -> str:
        """The alias ARN of the state key, which the S3 backend accepts as ``kms_key_id``, in the partition of
        the state's region (a backend block cannot read the ``aws_partition`` data source)."""
        return f"arn:{partition_of(self.region)}:kms:{self.region}:{self.account_id}:alias/{self.kms_key_alias}"


#: The rules of an environment's own settings, in the order they are reported.
ENVIRONMENT_RULES: tuple[Rule, ...] = (
    matches("project", PROJECT_REGEX,
            "2-10 lowercase letters or digits, starting with a letter (it prefixes every resource name)"),
    matches("suffix", SUFFIX_REGEX, SUFFIX_ALLOWED),
    matches("region", REGION_REGEX, "an AWS region such as us-east-1"),
    Rule("account_id", _twelve_digits, 'can(regex("^[0-9]{12}$", {account_id}))',
         "the 12-digit id of the AWS account {suffix} deploys to",
         reads=("suffix",)),
    one_of("log_retention_days", LOG_RETENTION_DAYS, f"one of CloudWatch's values {LOG_RETENTION_DAYS}"),
)
SUBSCRIBER_RULES: tuple[Rule, ...] = (
    Rule("alarm_email", _someone_hears_the_alarms,
         "{require_subscriber} ? ({alarm_email} != null || {alarm_https_endpoint} != null) : true",
         "an alarm subscriber for {name}, whose alarms must reach someone: alarm_email (an e-mail address) or "
         "alarm_https_endpoint (an HTTPS endpoint, e.g. AWS Chatbot's), or turn require_subscriber off",
         reads=("require_subscriber", "alarm_https_endpoint", "name"), label="monitoring.alarm_email"),
)
TAG_RULES: tuple[Rule, ...] = tuple(required_tag(tag) for tag in REQUIRED_TAGS)


@dataclass(frozen=True)
class EnvironmentSettings:
    """Everything one deployed environment needs; validated as a whole on creation.

    ``name`` is the environment whose settings these are and ``suffix`` names its resources and its stack:
    the same, but for a preview (dev's settings under the suffix ``pr42``).
    """

    name: str = _setting(doc="the environment (the table's name in the environments file)")
    suffix: str = _setting(doc="ends every resource name and the stack's (`tap-pipeline-<suffix>`)",
                           allowed=SUFFIX_ALLOWED)
    region: str = _setting(doc="the AWS region the environment deploys to", allowed="an AWS region")
    tags: Mapping[str, str] = _setting(
        doc=f"default tags of every resource; {', '.join(REQUIRED_TAGS)} are required (Environment defaults to "
            "the environment's name)", allowed="non-empty strings")
    functions: Mapping[str, FunctionSettings] = _setting(doc="each stage's function", factory=default_functions)
    table: TableSettings = _setting(doc="the records table", factory=TableSettings)
    monitoring: MonitoringSettings = _setting(doc="alarms and who hears them", factory=MonitoringSettings)
    review: ReviewSettings = _setting(doc="how the plan review judges the environment's changes",
                                      factory=ReviewSettings)
    release: ReleaseSettings = _setting(doc="how new handler code reaches the alias `live`: at once, or gradually "
                                            "through CodeDeploy", factory=ReleaseSettings)
    backend: BackendSettings = _setting(doc="where the stack keeps its Terraform state", factory=BackendSettings)
    log_retention_days: int = _setting(
        30, doc="how long the functions' log groups keep logs, days",
        allowed="one of CloudWatch's values " + ", ".join(map(str, LOG_RETENTION_DAYS)))
    python_runtime: str = _setting("python3.13", doc="the functions' runtime", allowed="python3.12 or python3.13")
    architecture: str = _setting("arm64", doc="the functions' architecture", allowed="arm64 or x86_64")
    # The AWS-published Powertools layer, at the version Pipfile.lock locks (modules/powertools_layer.py).
    powertools_layer: bool = _setting(True, doc="the functions use AWS's Powertools layer (the version the "
                                                "handlers are tested with)")
    queue_retention_s: int = _setting(4 * 24 * 3600, doc="how long the stage queues keep a record, s",
                                      allowed="60..1209600")
    dlq_retention_s: int = _setting(14 * 24 * 3600, doc="how long the dead-letter and rejects queues keep a "
                                                        "record, s", allowed="60..1209600, > queue_retention_s")
    pipeline_version: str = _setting("1.0.0", doc="the version the enricher stamps on every record")
    log_level: str = _setting("INFO", doc="the functions' log level", allowed="DEBUG, INFO, WARNING or ERROR")
    # True for `local`: the stack is deployed on the emulator, and modules/emulator_compat.py adapts it.
    emulator: bool = _setting(False, doc="deployed on the local emulator (moto): no provisioned concurrency, "
                                         "on-demand table, no layer, local state")
    # The AWS account the environment deploys to: key policies name it, and the provider refuses any other.
    account_id: str = _setting("", doc="the AWS account the environment deploys to (the provider refuses "
                                       "every other)", allowed="12 digits")
    # Prefixes every AWS name: IAM names are account-wide, and projects may share an account.
    project: str = _setting(DEFAULT_PROJECT, doc="the prefix of every AWS name",
                            allowed="2-10 lowercase letters or digits, starting with a letter")
    # lifecycle.prevent_destroy on the resources that hold data (table, DLQs, rejects queue).
    prevent_destroy: bool = _setting(False, doc="Terraform refuses any plan that deletes the table, a "
                                                "dead-letter queue or the rejects queue")
    # One customer-managed KMS key per environment always encrypts the alarm topic; with this on, it also
    # encrypts the table, every queue, the log groups and the functions' environment variables.
    customer_managed_encryption: bool = _setting(False, doc="the environment's KMS key also encrypts the table, "
                                                            "the queues, the log groups and the functions' "
                                                            "environment")
    # How long a scheduled key deletion waits (KMS allows 7..30 days); the key is cancellable meanwhile.
    kms_deletion_window_days: int = _setting(30, doc="how long a scheduled deletion of the key can be "
                                                     "cancelled, days", allowed="7..30")

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _values(self) -> dict[str, Any]:
        """What the environment's rules read, by the names their tables use."""
        monitoring = self.monitoring
        return {"project": self.project, "suffix": self.suffix, "region": self.region, "account_id": self.account_id,
                "log_retention_days": self.log_retention_days, "name": self.name, "tags": self.tags,
                "require_subscriber": monitoring.require_subscriber, "alarm_email": monitoring.alarm_email,
                "alarm_https_endpoint": monitoring.alarm_https_endpoint}

    def _validate(self) -> None:
        values = self._values()
        _check_rules(ENVIRONMENT_RULES, values)
        _require(self.architecture in ("arm64", "x86_64"), "architecture", self.architecture, "arm64 or x86_64")
        _require(self.python_runtime in ("python3.12", "python3.13"), "python_runtime", self.python_runtime,
                 "python3.12 or python3.13")
        _require(self.log_level in ("DEBUG", "INFO", "WARNING", "ERROR"), "log_level", self.log_level,
                 "DEBUG, INFO, WARNING or ERROR")
        _require_range("queue_retention_s", self.queue_retention_s, 60, 1209600)
        _require_range("kms_deletion_window_days", self.kms_deletion_window_days, 7, 30)
        _check_rules(SUBSCRIBER_RULES, values)
        _require_range("dlq_retention_s", self.dlq_retention_s, 60, 1209600)
        _require(self.dlq_retention_s > self.queue_retention_s, "dlq_retention_s", self.dlq_retention_s,
                 f"> queue_retention_s ({self.queue_retention_s}), or a redriven message expires in the DLQ "
                 "before anyone sees it")
        _check_rules(TAG_RULES, values)
        _require(set(self.functions) == set(STAGES), "functions", sorted(self.functions),
                 f"exactly the stages {', '.join(STAGES)}")
        for stage, function in self.functions.items():
            _require(function.name == stage, f"functions.{stage}.name", function.name, stage)
            if not is_expression(function.visibility_timeout_s):
                _require(function.visibility_timeout_s <= 43200, f"functions.{stage}.timeout_s", function.timeout_s,
                         "small enough that 6 x timeout + batching window fits SQS's 43200 s visibility limit")
        if self.emulator:
            for stage, function in self.functions.items():
                _require(function.provisioned_concurrency == 0, f"functions.{stage}.provisioned_concurrency",
                         function.provisioned_concurrency, "0 on the emulator, which does not implement it")
            _require(self.table.billing_mode is BillingMode.PAY_PER_REQUEST, "table.billing_mode",
                     str(self.table.billing_mode), "PAY_PER_REQUEST on the emulator (no autoscaling there)")
            _require(not self.powertools_layer, "powertools_layer", self.powertools_layer,
                     "False on the emulator, which rejects layers it does not hold")
            _require(self.backend.kind == "local", "backend.kind", self.backend.kind, "'local' on the emulator")

    @property
    def stack_name(self) -> str:
        return f"tap-pipeline-{self.suffix}"

    def released_by_codedeploy(self, stage: str) -> bool:
        """Whether CodeDeploy, not Terraform, moves ``stage``'s alias ``live`` to a new version."""
        return bool(self.release.codedeploy and self.functions[stage].codedeploy_release)

    @property
    def codedeploy_stages(self) -> tuple[str, ...]:
        """The stages whose alias CodeDeploy owns, in pipeline order."""
        return tuple(stage for stage in STAGES if self.released_by_codedeploy(stage))

    def resource_name(self, thing: str) -> str:
        """``<project>-<thing>-<suffix>``, e.g. ``tap-validator-prod``."""
        return naming.resource_name(self.project, thing, self.suffix)


@dataclass(frozen=True)
class StateBootstrapSettings:
    """The state home every S3-backed environment shares, and where the bootstrap stack keeps its own state."""

    backend: BackendSettings
    tags: Mapping[str, str]
    # `local` until the bucket exists (the first `make bootstrap`), then `s3`: its own bucket.
    own_state: str = "s3"

    def __post_init__(self) -> None:
        _require(self.own_state in ("local", "s3"), "own_state", self.own_state,
                 "'s3' (the default: the bootstrap stack's state is in its bucket) or 'local' (only for "
                 "the first `make bootstrap`, before the bucket exists)")
