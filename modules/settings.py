"""Typed, validated settings for every environment of the pipeline.

Everything that differs between environments lives here, as frozen dataclasses.
Each dataclass validates itself in ``__post_init__`` so that a bad value stops
the program before synthesis, with a message naming the setting, the value and
what is allowed.  Defaults are the secure, cheap choice; environments override
only what they must.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from enum import StrEnum

from . import naming

# The handlers hold the namespace (their fallback when the variable is missing); the stack sets the same one.

STAGES = ("validator", "enricher", "processor")
ENVIRONMENT_NAMES = ("local", "dev", "staging", "prod")
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
REQUIRED_TAGS = ("Project", "Environment", "CostCenter", "Owner", "ManagedBy")
SUFFIX_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,19}$")
ACCOUNT_ID_VARIABLE = "TAP_AWS_ACCOUNT_ID"
# Who hears about alarms in staging and prod: an e-mail address, or an HTTPS endpoint (AWS Chatbot's included).
ALARM_EMAIL_VARIABLE = "TAP_ALARM_EMAIL"
ALARM_HTTPS_ENDPOINT_VARIABLE = "TAP_ALARM_HTTPS_ENDPOINT"
# Environments whose alarms must reach someone: synthesis fails when they have no subscriber.
SUBSCRIBED_ENVIRONMENTS = ("staging", "prod")
# The account moto's server answers as: the `local` environment's account.
EMULATOR_ACCOUNT_ID = "123456789012"
# AWS's documentation example account, for synths that are read and never deployed (tests, benchmarks, cost).
EXAMPLE_ACCOUNT_ID = "111122223333"
PROJECT_VARIABLE = "TAP_PROJECT"
DEFAULT_PROJECT = "tap"
# Short enough that the longest name (an IAM role, at most 64 characters) fits with a 20-character suffix.
PROJECT_PATTERN = re.compile(r"^[a-z][a-z0-9]{1,9}$")
# `local` (first deploy of the bootstrap stack, before its bucket exists) or `s3` (its own bucket).
BOOTSTRAP_STATE_VARIABLE = "TAP_BOOTSTRAP_STATE"
# An address of the reserved example.com domain, for the same synths.
EXAMPLE_ALARM_EMAIL = "alarms@example.com"


def with_account_for_reading(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the example account and alarm subscriber when it names none: for a synth that is only
    read, never deployed."""
    defaults = {ACCOUNT_ID_VARIABLE: EXAMPLE_ACCOUNT_ID}
    if not env.get(ALARM_HTTPS_ENDPOINT_VARIABLE):
        defaults[ALARM_EMAIL_VARIABLE] = EXAMPLE_ALARM_EMAIL
    return {**defaults, **env}


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


def visibility_timeout_s(function_timeout_s: int, batching_window_s: int) -> int:
    """A consumed queue's visibility timeout: six times its function's timeout plus the batching window.

    AWS's guidance for Lambda event sources on SQS; with less, SQS may redeliver a batch the function
    is still working on, and AWS refuses a mapping whose function timeout exceeds the queue's visibility
    timeout (hashicorp/terraform-provider-aws#18099).
    https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
    """
    return 6 * function_timeout_s + batching_window_s


class BillingMode(StrEnum):
    PAY_PER_REQUEST = "PAY_PER_REQUEST"
    PROVISIONED = "PROVISIONED"


@dataclass(frozen=True)
class FunctionSettings:
    """One stage's Lambda function and the event source mapping that feeds it.

    These field defaults are the only defaults; ``_STAGE_OVERRIDES`` and the
    environments below change only what differs from them.
    ``reserved_concurrency=None`` leaves the function on the account's unreserved
    pool (a new account, whose limit is 10, cannot reserve anything);
    ``provisioned_concurrency=0`` means no warm instances.
    """

    name: str
    # Lambda's minimum; stages that measure more get more (_STAGE_OVERRIDES, tools/benchmarks/memory.py).
    memory_mb: int = 128
    timeout_s: int = 30
    reserved_concurrency: int | None = 10
    provisioned_concurrency: int = 0
    batch_size: int = 10
    batching_window_s: int = 0
    max_concurrency: int = 5
    max_receive_count: int = 5

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        prefix = f"functions.{self.name}"
        _require(self.name in STAGES, f"{prefix}.name", self.name, f"one of {', '.join(STAGES)}")
        _require_range(f"{prefix}.memory_mb", self.memory_mb, 128, 10240)
        _require_range(f"{prefix}.timeout_s", self.timeout_s, 1, 900)
        _require_range(f"{prefix}.batch_size", self.batch_size, 1, 10000)
        _require_range(f"{prefix}.batching_window_s", self.batching_window_s, 0, 300)
        _require(
            self.batch_size <= 10 or self.batching_window_s >= 1,
            f"{prefix}.batch_size", self.batch_size,
            "at most 10 without a batching window (SQS needs batching_window_s >= 1 for larger batches)",
        )
        # SQS event sources accept a maximum concurrency of 2..1000.
        _require_range(f"{prefix}.max_concurrency", self.max_concurrency, 2, 1000)
        _require_range(f"{prefix}.max_receive_count", self.max_receive_count, 1, 1000)
        if self.reserved_concurrency is not None:
            _require(
                self.reserved_concurrency >= self.max_concurrency,
                f"{prefix}.reserved_concurrency", self.reserved_concurrency,
                f">= max_concurrency ({self.max_concurrency}), or the event source is throttled "
                "and messages go to the DLQ; raise it or lower max_concurrency",
            )
        _require(self.provisioned_concurrency >= 0, f"{prefix}.provisioned_concurrency",
                 self.provisioned_concurrency, ">= 0 (0 turns it off)")
        if self.provisioned_concurrency and self.reserved_concurrency is not None:
            _require(
                self.provisioned_concurrency <= self.reserved_concurrency,
                f"{prefix}.provisioned_concurrency", self.provisioned_concurrency,
                f"<= reserved_concurrency ({self.reserved_concurrency})",
            )

    @property
    def visibility_timeout_s(self) -> int:
        """The visibility timeout of the queue that feeds this function."""
        return visibility_timeout_s(self.timeout_s, self.batching_window_s)


@dataclass(frozen=True)
class AutoscalingSettings:
    """Application autoscaling bounds of one capacity dimension of the table."""

    min_capacity: int = 5
    max_capacity: int = 100
    target_utilization: float = 70.0

    def validate(self, prefix: str) -> None:
        _require(self.min_capacity >= 1, f"{prefix}.min_capacity", self.min_capacity, ">= 1")
        _require(
            self.min_capacity <= self.max_capacity, f"{prefix}.min_capacity", self.min_capacity,
            f"<= max_capacity ({self.max_capacity})",
        )
        _require_range(f"{prefix}.target_utilization", self.target_utilization, 10, 90)


@dataclass(frozen=True)
class TableSettings:
    """The records table: on-demand by default, provisioned with autoscaling on request."""

    billing_mode: BillingMode | str = BillingMode.PAY_PER_REQUEST
    read_autoscaling: AutoscalingSettings = field(default_factory=AutoscalingSettings)
    write_autoscaling: AutoscalingSettings = field(default_factory=AutoscalingSettings)
    deletion_protection: bool = True
    point_in_time_recovery: bool = True

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        allowed = ", ".join(mode.value for mode in BillingMode)
        valid = self.billing_mode in {mode.value for mode in BillingMode}
        _require(valid, "table.billing_mode", self.billing_mode, allowed)
        if valid:
            object.__setattr__(self, "billing_mode", BillingMode(self.billing_mode))
        self.read_autoscaling.validate("table.read_autoscaling")
        self.write_autoscaling.validate("table.write_autoscaling")


@dataclass(frozen=True)
class MonitoringSettings:
    """Alarm thresholds and who hears about them: an e-mail address, an HTTPS endpoint, both or (dev) none.

    ``alarm_https_endpoint`` takes any HTTPS subscriber, AWS Chatbot's
    (https://global.sns-api.chatbot.amazonaws.com) included.
    """

    alarm_email: str | None = None
    alarm_https_endpoint: str | None = None
    oldest_message_age_threshold_s: int = 900
    alarm_period_s: int = 60
    duration_alarm_fraction: float = 0.8

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        if self.alarm_email is not None:
            _require(bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", self.alarm_email)), "monitoring.alarm_email",
                     self.alarm_email, "an e-mail address such as oncall@example.com")
        if self.alarm_https_endpoint is not None:
            _require(bool(re.fullmatch(r"https://[^\s/]+(/\S*)?", self.alarm_https_endpoint)),
                     "monitoring.alarm_https_endpoint", self.alarm_https_endpoint,
                     "an https:// URL (SNS delivers alarms to HTTPS endpoints only over TLS here)")
        _require_range("monitoring.oldest_message_age_threshold_s", self.oldest_message_age_threshold_s, 60,
                       1209600)
        _require(self.alarm_period_s in (10, 30) or (self.alarm_period_s % 60 == 0 and self.alarm_period_s > 0),
                 "monitoring.alarm_period_s", self.alarm_period_s, "10, 30 or a multiple of 60")
        _require_range("monitoring.duration_alarm_fraction", self.duration_alarm_fraction, 0.1, 1.0)


def state_bucket_name(project: str, account_id: str, region: str) -> str:
    """S3 bucket names are global across all AWS customers: the account id and region make this one unique."""
    return f"{project}-pipeline-tfstate-{account_id}-{region}"


@dataclass(frozen=True)
class BackendSettings:
    """Where Terraform keeps the pipeline stacks' state: S3 with DynamoDB locking, or local disk.

    The S3 state is encrypted with the bootstrap stack's own KMS key (``kms_key_alias`` in
    ``account_id``), named by its alias ARN so that the backend needs no key id.
    """

    kind: str = "local"
    bucket: str = ""
    lock_table: str = "tap-pipeline-terraform-locks"
    region: str = "us-east-1"
    account_id: str = ""
    kms_key_alias: str = "tap-pipeline-tfstate"

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
        _require(bool(re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", self.region)), "backend.region", self.region,
                 "an AWS region such as us-east-1")
        _require(bool(re.fullmatch(r"[a-zA-Z0-9/_-]{1,250}", self.kms_key_alias)), "backend.kms_key_alias",
                 self.kms_key_alias, "a KMS alias name without the alias/ prefix")

    @property
    def kms_key_arn(self) -> str:
        """The alias ARN of the state key, which the S3 backend accepts as ``kms_key_id``."""
        return f"arn:aws:kms:{self.region}:{self.account_id}:alias/{self.kms_key_alias}"


@dataclass(frozen=True)
class EnvironmentSettings:
    """Everything one deployed environment needs; validated as a whole on creation."""

    name: str
    suffix: str
    region: str
    tags: Mapping[str, str]
    functions: Mapping[str, FunctionSettings]
    table: TableSettings = field(default_factory=TableSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    backend: BackendSettings = field(default_factory=BackendSettings)
    log_retention_days: int = 30
    python_runtime: str = "python3.13"
    architecture: str = "arm64"
    # The AWS-published Powertools layer, at the version Pipfile.lock locks (modules/powertools_layer.py).
    powertools_layer: bool = True
    queue_retention_s: int = 4 * 24 * 3600
    dlq_retention_s: int = 14 * 24 * 3600
    pipeline_version: str = "1.0.0"
    log_level: str = "INFO"
    # True for `local`: the stack is deployed on the emulator, and modules/emulator_compat.py adapts it.
    emulator: bool = False
    # The AWS account the environment deploys to: key policies name it, and the provider refuses any other.
    account_id: str = ""
    # Prefixes every AWS name: IAM names are account-wide, and projects may share an account.
    project: str = DEFAULT_PROJECT
    # lifecycle.prevent_destroy on the resources that hold data (table, DLQs, rejects queue).
    prevent_destroy: bool = False
    # One customer-managed KMS key per environment always encrypts the alarm topic; with this on, it also
    # encrypts the table, every queue, the log groups and the functions' environment variables.
    customer_managed_encryption: bool = False
    # How long a scheduled key deletion waits (KMS allows 7..30 days); the key is cancellable meanwhile.
    kms_deletion_window_days: int = 30

    def __post_init__(self) -> None:
        with collected_problems():
            self._validate()

    def _validate(self) -> None:
        _require(bool(PROJECT_PATTERN.match(self.project)), PROJECT_VARIABLE, self.project,
                 "2-10 lowercase letters or digits, starting with a letter (it prefixes every resource name)")
        _require(self.name in ENVIRONMENT_NAMES, "environment", self.name, f"one of {', '.join(ENVIRONMENT_NAMES)}")
        _require(bool(SUFFIX_PATTERN.match(self.suffix)), "ENVIRONMENT_SUFFIX", self.suffix,
                 "1-20 of lowercase letters, digits and hyphens, starting with a letter or digit")
        _require(bool(re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", self.region)), "region", self.region,
                 "an AWS region such as us-east-1")
        _require(bool(re.fullmatch(r"\d{12}", self.account_id)), "account_id", self.account_id,
                 f"the 12-digit id of the AWS account {self.suffix} deploys to: set {ACCOUNT_ID_VARIABLE}, "
                 "or pin account_id for this environment in modules/settings.py")
        _require(self.log_retention_days in LOG_RETENTION_DAYS, "log_retention_days", self.log_retention_days,
                 f"one of CloudWatch's values {LOG_RETENTION_DAYS}")
        _require(self.architecture in ("arm64", "x86_64"), "architecture", self.architecture, "arm64 or x86_64")
        _require(self.python_runtime in ("python3.12", "python3.13"), "python_runtime", self.python_runtime,
                 "python3.12 or python3.13")
        _require(self.log_level in ("DEBUG", "INFO", "WARNING", "ERROR"), "log_level", self.log_level,
                 "DEBUG, INFO, WARNING or ERROR")
        _require_range("queue_retention_s", self.queue_retention_s, 60, 1209600)
        _require_range("kms_deletion_window_days", self.kms_deletion_window_days, 7, 30)
        if self.name in SUBSCRIBED_ENVIRONMENTS:
            monitoring = self.monitoring
            _require(bool(monitoring.alarm_email or monitoring.alarm_https_endpoint), "monitoring.alarm_email",
                     monitoring.alarm_email,
                     f"an alarm subscriber for {self.name}, whose alarms must reach someone: set "
                     f"{ALARM_EMAIL_VARIABLE} (an e-mail address) or {ALARM_HTTPS_ENDPOINT_VARIABLE} "
                     "(an HTTPS endpoint, e.g. AWS Chatbot's)")
        _require_range("dlq_retention_s", self.dlq_retention_s, 60, 1209600)
        _require(self.dlq_retention_s > self.queue_retention_s, "dlq_retention_s", self.dlq_retention_s,
                 f"> queue_retention_s ({self.queue_retention_s}), or a redriven message expires in the DLQ "
                 "before anyone sees it")
        for tag in REQUIRED_TAGS:
            value = self.tags.get(tag, "")
            _require(bool(str(value).strip()), f"tags.{tag}", value, "a non-empty string")
        _require(set(self.functions) == set(STAGES), "functions", sorted(self.functions),
                 f"exactly the stages {', '.join(STAGES)}")
        for stage, function in self.functions.items():
            _require(function.name == stage, f"functions.{stage}.name", function.name, stage)
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

    def resource_name(self, thing: str) -> str:
        """``<project>-<thing>-<suffix>``, e.g. ``tap-validator-prod``."""
        return naming.resource_name(self.project, thing, self.suffix)


# What each stage needs beyond FunctionSettings' defaults: the processor retries throttled writes
# with backoff inside its invocation, so it gets more time; and more memory: every function gets at least
# 1.5 x the largest peak tools/benchmarks/memory.py measured over the typical batch and the contract's worst
# batches (README, "Memory, by measurement": validator 62.2, enricher 62.1, processor 106.6 MiB). The
# processor gets 256 MB rather than the 160 the rule needs: Lambda's CPU share grows with memory, and its
# deepest worst-case batch is CPU-bound.
_STAGE_OVERRIDES: dict[str, dict[str, object]] = {
    "processor": {"timeout_s": 60, "memory_mb": 256},
}


def _functions(**overrides: Mapping[str, object]) -> dict[str, FunctionSettings]:
    return {
        stage: FunctionSettings(
            name=stage, **{**_STAGE_OVERRIDES.get(stage, {}), **dict(overrides.get(stage, {}))},
        )
        for stage in STAGES
    }


def _tags(environment: str, **extra: str) -> dict[str, str]:
    return {
        "Project": "tap-pipeline",
        "Environment": environment,
        "CostCenter": "data-platform",
        "Owner": "platform-team",
        "ManagedBy": "cdktf",
        **extra,
    }


def _project(env: Mapping[str, str]) -> str:
    return env.get(PROJECT_VARIABLE, DEFAULT_PROJECT).strip()


def _base(name: str, env: Mapping[str, str]) -> dict[str, object]:
    account_id = EMULATOR_ACCOUNT_ID if name == "local" else env.get(ACCOUNT_ID_VARIABLE, "").strip()
    base: dict[str, object] = {"name": name, "suffix": name, "region": "us-east-1", "tags": _tags(name),
                               "account_id": account_id, "project": _project(env)}
    if name != "local":
        base["backend"] = _s3_backend(_project(env), account_id, env)
    return base


def _s3_backend(project: str, account_id: str, env: Mapping[str, str]) -> BackendSettings:
    """The shared state bucket, lock table and key; TAP_STATE_* variables override the derived names."""
    region = env.get("TAP_STATE_REGION", "us-east-1")
    return BackendSettings(
        kind="s3",
        bucket=env.get("TAP_STATE_BUCKET", state_bucket_name(project, account_id, region)),
        lock_table=env.get("TAP_STATE_LOCK_TABLE", f"{project}-pipeline-terraform-locks"),
        region=region,
        account_id=account_id,
        kms_key_alias=f"{project}-pipeline-tfstate",
    )


def _monitoring_from_env(env: Mapping[str, str]) -> MonitoringSettings:
    """The alarm subscriber named in ``env`` (empty variables count as unset)."""
    return MonitoringSettings(
        alarm_email=env.get(ALARM_EMAIL_VARIABLE, "").strip() or None,
        alarm_https_endpoint=env.get(ALARM_HTTPS_ENDPOINT_VARIABLE, "").strip() or None,
    )


def _build(name: str, env: Mapping[str, str]) -> EnvironmentSettings:
    if name == "local":
        return EnvironmentSettings(
            **_base("local", env),
            functions=_functions(),
            table=TableSettings(deletion_protection=False),
            # No backend: BackendSettings' default is local disk, the only one the emulator accepts.
            log_retention_days=1,
            powertools_layer=False,
            emulator=True,
            log_level="WARNING",
        )
    if name == "dev":
        return EnvironmentSettings(
            **_base("dev", env),
            functions=_functions(),
            table=TableSettings(deletion_protection=False),
            log_retention_days=14,
        )
    if name == "staging":
        return EnvironmentSettings(**_base("staging", env), functions=_functions(), log_retention_days=30,
                                   prevent_destroy=True, monitoring=_monitoring_from_env(env))
    if name == "prod":
        return EnvironmentSettings(
            **_base("prod", env),
            # SQS bills each request and Lambda each invocation: a 10 s batching window fills batches at
            # moderate traffic (about 7 records an invocation at 10 M events a month, `make cost`) for at most
            # 10 s more latency per stage; under heavy traffic batches fill before the window ends.
            functions=_functions(
                validator={"reserved_concurrency": 50, "max_concurrency": 20, "batching_window_s": 10},
                enricher={"reserved_concurrency": 50, "max_concurrency": 20, "batching_window_s": 10},
                # The processor is the writer: two warm instances take its cold starts off the write path.
                processor={"reserved_concurrency": 50, "max_concurrency": 20, "provisioned_concurrency": 2,
                           "batching_window_s": 10},
            ),
            table=TableSettings(
                billing_mode=BillingMode.PROVISIONED,
                read_autoscaling=AutoscalingSettings(min_capacity=5, max_capacity=200),
                write_autoscaling=AutoscalingSettings(min_capacity=10, max_capacity=500),
            ),
            log_retention_days=90,
            prevent_destroy=True,
            monitoring=_monitoring_from_env(env),
            customer_managed_encryption=True,
        )
    raise SettingsError(f"environment={name!r} is invalid: allowed one of {', '.join(ENVIRONMENT_NAMES)}")


def load_environment(name: str, env: Mapping[str, str] | None = None) -> EnvironmentSettings:
    """Settings of one named environment, with the state backend overridable from ``env``."""
    env = os.environ if env is None else env
    with collected_problems():
        settings = _build(name, env)
    return settings


def preview_environment(suffix: str, env: Mapping[str, str] | None = None) -> EnvironmentSettings:
    """A preview environment: dev's settings under its own suffix (the draft's ENVIRONMENT_SUFFIX)."""
    with collected_problems():
        dev = load_environment("dev", env)
        _require(suffix not in ENVIRONMENT_NAMES, "ENVIRONMENT_SUFFIX", suffix,
                 f"a name other than {', '.join(ENVIRONMENT_NAMES)}, which are environments already")
        if suffix not in ENVIRONMENT_NAMES and SUFFIX_PATTERN.match(suffix):
            for other, shared in naming.clashes(dev.project, suffix, ENVIRONMENT_NAMES).items():
                # Every shared name is listed: at most three, one per stage or per queue of the same kind.
                _require(False, "ENVIRONMENT_SUFFIX", suffix,
                         f"a suffix whose resource names no environment uses, but it would name {', '.join(shared)}, "
                         f"which the {other} environment uses already; pick a suffix without '{other}' "
                         "as one of its hyphen-separated words")
        preview = replace(dev, suffix=suffix, tags={**dev.tags, "Environment": suffix})
    return preview


def selected_environments(env: Mapping[str, str] | None = None) -> list[EnvironmentSettings]:
    """Environments to synthesize: TAP_STACKS (comma list) or all, plus the ENVIRONMENT_SUFFIX preview."""
    env = os.environ if env is None else env
    requested = [n.strip() for n in env.get("TAP_STACKS", "").split(",") if n.strip()]
    names = requested or list(ENVIRONMENT_NAMES)
    suffix = env.get("ENVIRONMENT_SUFFIX", "").strip()
    with collected_problems():
        for name in names:
            _require(name in ENVIRONMENT_NAMES or name == "preview", "TAP_STACKS", name,
                     f"a comma list of {', '.join(ENVIRONMENT_NAMES)} or preview")
        _require(bool(suffix) or "preview" not in names, "ENVIRONMENT_SUFFIX", suffix,
                 "a non-empty suffix, since TAP_STACKS names 'preview'")
        selected = [load_environment(n, env) for n in names if n in ENVIRONMENT_NAMES]
        if suffix:
            selected.append(preview_environment(suffix, env))
    return selected


@dataclass(frozen=True)
class StateBootstrapSettings:
    """The state home every S3-backed environment shares, and where the bootstrap stack keeps its own state."""

    backend: BackendSettings
    tags: Mapping[str, str]
    # `local` until the bucket exists (the first `make bootstrap`), then `s3`: its own bucket.
    own_state: str = "s3"

    def __post_init__(self) -> None:
        _require(self.own_state in ("local", "s3"), BOOTSTRAP_STATE_VARIABLE, self.own_state,
                 "'s3' (the default: the bootstrap stack's state is in its bucket) or 'local' (only for "
                 "the first `make bootstrap`, before the bucket exists)")


def state_backend_settings(env: Mapping[str, str] | None = None) -> StateBootstrapSettings:
    """The state bucket, lock table and key every S3-backed environment shares, and the tags they carry."""
    env = os.environ if env is None else env
    with collected_problems():
        # The same derivation as every S3-backed environment's, without needing one environment's other settings.
        account_id = env.get(ACCOUNT_ID_VARIABLE, "").strip()
        _require(bool(re.fullmatch(r"\d{12}", account_id)), "account_id", account_id,
                 f"the 12-digit id of the AWS account that holds the state: set {ACCOUNT_ID_VARIABLE}")
        settings = StateBootstrapSettings(
            backend=_s3_backend(_project(env), account_id, env), tags=_tags("shared"),
            own_state=env.get(BOOTSTRAP_STATE_VARIABLE, "s3").strip(),
        )
    return settings
