"""The environments as data: one TOML file read into the typed, validated settings of :mod:`.settings`.

The file has five parts (``docs/configuration-reference.md`` lists every key, its default and its range; it is generated
from the dataclasses by :mod:`.environments_schema`)::

    project = "tap"           # the prefix of every AWS name
    preview_from = "dev"      # ENVIRONMENT_SUFFIX=<suffix> adds a preview environment on this one's settings
    [state]                   # the shared home of the S3-backed stacks' state (the bootstrap stack makes it)
    [ci]                      # optional: the identities GitHub Actions assumes (the stack tap-pipeline-ci)
    [defaults]                # any environment key: every environment's value unless it sets its own
    [environments.<name>]     # one table per environment, in the order the stacks are made

An environment is the library's defaults, then ``[defaults]``, then its own table, then the environment
variables of :data:`VARIABLES`. Every problem is reported at once, each naming the file and the key it was
read from (``environments.toml: environments.dev.log_retention_days=10 is invalid: ...``), or the environment
variable. Structure and types are checked for the whole file; the values of an environment when it is built,
so that synthesizing ``local`` alone needs no account for the others.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from . import naming
from .ci_settings import CI_ENVIRONMENT, CiIdentitiesSettings, CiStackSettings
from .settings import (
    BOOTSTRAP_STATE_KEY,
    DEFAULT_PROJECT,
    REGION_PATTERN,
    STAGES,
    SUFFIX_ALLOWED,
    SUFFIX_PATTERN,
    AutoscalingSettings,
    BackendSettings,
    EnvironmentSettings,
    FunctionSettings,
    MonitoringSettings,
    ReleaseSettings,
    ReviewSettings,
    SettingsError,
    StateBootstrapSettings,
    TableSettings,
    _require,
    collected_problems,
    environment_state_key,
    problem_setting,
    relabelled_problems,
    stage_function,
    state_bucket_name,
    state_key_alias,
    state_lock_table_name,
)

ENVIRONMENTS_FILE_VARIABLE = "TAP_ENVIRONMENTS_FILE"
ACCOUNT_ID_VARIABLE = "TAP_AWS_ACCOUNT_ID"
ALARM_EMAIL_VARIABLE = "TAP_ALARM_EMAIL"
ALARM_HTTPS_ENDPOINT_VARIABLE = "TAP_ALARM_HTTPS_ENDPOINT"
PROJECT_VARIABLE = "TAP_PROJECT"
SUFFIX_VARIABLE = "ENVIRONMENT_SUFFIX"
STACKS_VARIABLE = "TAP_STACKS"
BOOTSTRAP_STATE_VARIABLE = "TAP_BOOTSTRAP_STATE"
LOCAL_STATE_DIR_VARIABLE = "TAP_LOCAL_STATE_DIR"
STATE_VARIABLES = {"bucket": "TAP_STATE_BUCKET", "lock_table": "TAP_STATE_LOCK_TABLE", "region": "TAP_STATE_REGION"}
PREVIEW = "preview"
DERIVED = ""  # the origin of a value derived from others: its problems repeat theirs
# AWS's documentation example account and an address of the reserved example.com domain, for synths that are
# read and never deployed (tests, benchmarks, cost).
EXAMPLE_ACCOUNT_ID = "111122223333"
EXAMPLE_ALARM_EMAIL = "alarms@example.com"

#: Every environment variable the app reads, with what it does: the one place they are documented
#: (docs/configuration-reference.md renders this table; main.py and the README point there).
VARIABLES: Mapping[str, str] = {
    STACKS_VARIABLE: "comma list of the stacks to synthesize: any declared environment, `preview`, or `ci` (the "
                     "CI identities, from `[ci]`); default all (`ci` when `[ci]` is there). The state bootstrap "
                     "stack comes with any stack whose state is in S3",
    SUFFIX_VARIABLE: "adds a preview environment on the settings of `preview_from`, named with this suffix",
    ACCOUNT_ID_VARIABLE: "the account of every environment whose table sets no `account_id`, and of `[state]` "
                         "when it sets none; an `account_id` in the file wins, so that a pinned account stays "
                         "pinned",
    ALARM_EMAIL_VARIABLE: "overrides `monitoring.alarm_email` of every environment whose "
                          "`monitoring.require_subscriber` is true (empty: unset)",
    ALARM_HTTPS_ENDPOINT_VARIABLE: "overrides `monitoring.alarm_https_endpoint` of the same environments",
    PROJECT_VARIABLE: "overrides `project`",
    STATE_VARIABLES["bucket"]: "overrides `state.bucket`",
    STATE_VARIABLES["lock_table"]: "overrides `state.lock_table`",
    STATE_VARIABLES["region"]: "overrides `state.region`",
    BOOTSTRAP_STATE_VARIABLE: "`local` only for the bootstrap stack's first deploy, before its bucket exists; "
                              "`s3` (default) afterwards",
    LOCAL_STATE_DIR_VARIABLE: "where stacks with `backend.kind = \"local\"` keep their state (default `.state/`)",
    ENVIRONMENTS_FILE_VARIABLE: "the environments file main.py reads (default `environments.toml` beside it)",
}

class Sentence(str):
    """A hint that replaces the whole problem: for a value that is missing, what to set, leading with the
    environment and the variable a user sets (rather than a key of the file they never wrote)."""


def with_hint(problem: str, hint: str) -> str:
    """``problem`` followed by ``hint`` (how to fix it), or the hint alone when it is a :class:`Sentence`."""
    return str(hint) if isinstance(hint, Sentence) else problem + hint


def with_account_for_reading(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with the example account and alarm subscriber when it names none: for a synth that is only
    read, never deployed."""
    defaults = {ACCOUNT_ID_VARIABLE: EXAMPLE_ACCOUNT_ID}
    if not env.get(ALARM_HTTPS_ENDPOINT_VARIABLE):
        defaults[ALARM_EMAIL_VARIABLE] = EXAMPLE_ALARM_EMAIL
    return {**defaults, **env}


# The settings of an environment that do not come from its table: its name and suffix are the table's
# name, the project is the file's; of the backend only the kind is per environment, its location is [state].
_NOT_IN_ENVIRONMENT = frozenset({"name", "suffix", "project"})
_BACKEND_KEYS = frozenset({"kind"})
_STATE_LOCATION_KEYS = ("bucket", "lock_table", "region", "account_id", "kms_key_alias")
STR_MAP = "table of strings"
_TOP_LEVEL: dict[str, Any] = {"project": str, "preview_from": str, "state": dict, CI_ENVIRONMENT: dict,
                              "defaults": dict, "environments": dict}
#: Names that are stacks of their own: no environment (nor preview) may take them.
RESERVED_NAMES = {CI_ENVIRONMENT: "the CI identities' stack", "state": "the state bootstrap stack",
                  "bootstrap": "the state bootstrap stack"}
# What [ci] does not set: the file's project and the stacks' Project tag scope the roles.
_NOT_IN_CI = frozenset({"project", "project_tag"})


# ------------------------------------------------------------------------------------------------ the file's shape
def table_shape(cls: type) -> dict[str, Any]:
    """The keys a TOML table may hold for dataclass ``cls``: a key's value type, or the shape of its sub-table."""
    hints = typing.get_type_hints(cls)
    shape: dict[str, Any] = {}
    for f in fields(cls):
        hint = hints[f.name]
        if cls is FunctionSettings and f.name == "name":
            continue
        if cls is EnvironmentSettings:
            if f.name in _NOT_IN_ENVIRONMENT:
                continue
            if f.name == "functions":
                shape[f.name] = {stage: table_shape(FunctionSettings) for stage in STAGES}
                continue
            if f.name == "backend":
                shape[f.name] = {k: v for k, v in table_shape(BackendSettings).items() if k in _BACKEND_KEYS}
                continue
        if cls is CiIdentitiesSettings and f.name in _NOT_IN_CI:
            continue
        if typing.get_origin(hint) is Mapping or hint is Mapping:
            shape[f.name] = STR_MAP
        elif is_dataclass(hint):
            shape[f.name] = table_shape(hint)
        else:
            shape[f.name] = hint
    return shape


def environment_shape() -> dict[str, Any]:
    return table_shape(EnvironmentSettings)


def ci_shape() -> dict[str, Any]:
    return table_shape(CiIdentitiesSettings)


def state_shape() -> dict[str, Any]:
    location = {k: v for k, v in table_shape(BackendSettings).items() if k in _STATE_LOCATION_KEYS}
    return {**location, "tags": STR_MAP}


def type_name(hint: Any) -> str:
    """How docs/configuration-reference.md names a key's TOML type."""
    if hint is STR_MAP:
        return STR_MAP
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint):
        return f"{type_name(args[0])} or false"
    if isinstance(hint, types.UnionType):  # BillingMode | str
        return "string"
    if typing.get_origin(hint) is tuple:
        return "array of strings"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}[hint]


def _converted(value: object, hint: Any) -> tuple[bool, object]:
    """(True, the value as the dataclass takes it) when ``value`` has the TOML type ``hint`` asks for."""
    if typing.get_origin(hint) is tuple:  # tuple[str, ...]
        valid = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return valid, tuple(value) if valid else value  # type: ignore[arg-type]
    union = typing.get_args(hint)  # () unless a union or a tuple: the dataclasses hold no other generic setting
    if type(None) in union:
        if value is False:
            return True, None  # `false` turns an optional setting off
        return _converted(value, next(a for a in union if a is not type(None)))
    if union:  # BillingMode | str
        return isinstance(value, str), value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        valid = isinstance(value, int | float) and not isinstance(value, bool)
        return valid, float(value) if valid else value  # type: ignore[arg-type]
    return isinstance(value, str), value


# ------------------------------------------------------------------------------------------------ reading
@dataclass(frozen=True)
class _Value:
    value: object
    key: str  # where the file sets it, e.g. "environments.dev.log_retention_days"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class EnvironmentsFile:
    """A parsed environments file: build any declared environment, a preview, or the state home from it.

    ``env`` (default ``os.environ``) supplies the overrides of :data:`VARIABLES` at each build.
    """

    def __init__(self, path: Path, document: Mapping[str, Any]) -> None:
        self.path = path
        self.label = _display(path)
        self.document = document
        self.names: tuple[str, ...] = tuple(document["environments"])
        self.preview_from: str | None = document.get("preview_from")
        self._defaults = self._flatten(document.get("defaults", {}), "defaults")
        self._state = self._flatten(document.get("state", {}), "state")

    @classmethod
    def read(cls, path: Path | str) -> EnvironmentsFile:
        """Parse and check the file's structure and types; a SettingsError lists every problem found."""
        path = Path(path)
        label = _display(path)
        try:
            document = tomllib.loads(path.read_text())
        except OSError as error:
            raise SettingsError(f"{label}: cannot read the environments file: {error.strerror or error}") from error
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"{label}: not valid TOML: {error}") from error
        with collected_problems():
            _check_structure(document, label)
        return cls(path, document)

    # -------------------------------------------------------------------------------------------- building
    def environment(self, name: str, env: Mapping[str, str] | None = None) -> EnvironmentSettings:
        """The settings of the declared environment ``name``."""
        env = os.environ if env is None else env
        if name not in self.names:
            raise SettingsError(self._problem("environments", name, f"one of {', '.join(self.names)}"))
        values = {**self._defaults, **self._flatten(self.document["environments"][name], f"environments.{name}")}
        origins = {path: f"{self.label}: {v.key}" for path, v in values.items()}
        hints: dict[str, str] = {}
        plain = {path: v.value for path, v in values.items()}

        # Where a value that nothing sets can come from, said with the problem its absence makes.
        if not plain.get("account_id"):
            plain["account_id"] = env.get(ACCOUNT_ID_VARIABLE, "").strip()
            origins["account_id"] = ACCOUNT_ID_VARIABLE
            if not plain["account_id"]:
                origins["account_id"] = f"{self.label}: environments.{name}.account_id"
                hints["account_id"] = Sentence(
                    f"{name}: no AWS account: set {ACCOUNT_ID_VARIABLE} to the 12-digit id of the AWS account {name} "
                    f"deploys to (or account_id in [environments.{name}] of {self.label})")
        if plain.get("monitoring.require_subscriber", MonitoringSettings.require_subscriber):
            for key, variable in (("monitoring.alarm_email", ALARM_EMAIL_VARIABLE),
                                  ("monitoring.alarm_https_endpoint", ALARM_HTTPS_ENDPOINT_VARIABLE)):
                if env.get(variable, "").strip():
                    plain[key] = env[variable].strip()
                    origins[key] = variable
            if not plain.get("monitoring.alarm_email"):  # only a missing subscriber makes a problem of it
                hints["monitoring.alarm_email"] = Sentence(
                    f"{name}: no alarm subscriber, and {name}'s alarms must reach someone: set {ALARM_EMAIL_VARIABLE} "
                    f"(an e-mail address) or {ALARM_HTTPS_ENDPOINT_VARIABLE} (an HTTPS endpoint, e.g. AWS Chatbot's), "
                    f"or alarm_email or alarm_https_endpoint in [environments.{name}.monitoring] of {self.label} (or "
                    "turn require_subscriber off there)")
        project, origins["project"] = self._project(env)
        tags = {"Environment": name, **_prefixed(plain, "tags.")}
        backend_kind = plain.get("backend.kind", BackendSettings.kind)
        if backend_kind == "s3":
            backend, state_origins, state_hints = self._backend(env, project)
            origins.update({f"backend.{k}": v for k, v in state_origins.items()})
            hints.update({f"backend.{k}": v for k, v in state_hints.items()})
        else:
            backend = {"kind": backend_kind}

        def relabel(problem: str) -> str | None:
            setting, rest = problem_setting(problem)
            where = origins.get(setting, f"{self.label}: environments.{name}.{setting}")
            return None if where == DERIVED else with_hint(f"{where}={rest}", hints.get(setting, ""))

        with relabelled_problems(relabel):
            functions = {stage: stage_function(stage, **_prefixed(plain, f"functions.{stage}.")) for stage in STAGES}
            table = _prefixed(plain, "table.")
            settings = EnvironmentSettings(
                name=name,
                suffix=name,
                project=project,
                tags=tags,
                functions=functions,
                table=TableSettings(
                    read_autoscaling=AutoscalingSettings(**_prefixed(table, "read_autoscaling.")),
                    write_autoscaling=AutoscalingSettings(**_prefixed(table, "write_autoscaling.")),
                    **{k: v for k, v in table.items() if "." not in k},
                ),
                monitoring=MonitoringSettings(**_prefixed(plain, "monitoring.")),
                review=ReviewSettings(**_prefixed(plain, "review.")),
                release=ReleaseSettings(**_prefixed(plain, "release.")),
                backend=BackendSettings(**backend),
                **{k: v for k, v in plain.items() if "." not in k},
            )
        return settings

    def preview(self, suffix: str, env: Mapping[str, str] | None = None) -> EnvironmentSettings:
        """A preview: the settings of ``preview_from`` under its own suffix (the draft's ENVIRONMENT_SUFFIX)."""
        if self.preview_from is None:
            raise SettingsError(f"{SUFFIX_VARIABLE}={suffix!r} is invalid: allowed unset, since {self.label} "
                                "names no preview_from environment")
        with collected_problems():
            base = self.environment(self.preview_from, env)
            _require(suffix not in self.names, SUFFIX_VARIABLE, suffix,
                     f"a name other than {', '.join(self.names)}, which are environments already")
            _require(suffix not in RESERVED_NAMES, SUFFIX_VARIABLE, suffix,
                     f"a name other than {', '.join(RESERVED_NAMES)}, which name stacks of their own")
            if suffix not in self.names and SUFFIX_PATTERN.match(suffix):
                for other, shared in naming.shared_names(base.project, suffix, self.names).items():
                    # Every shared name is listed: at most three, one per stage or per queue of the same kind.
                    _require(not shared, SUFFIX_VARIABLE, suffix,
                             f"a suffix whose resource names no environment uses, but it would name "
                             f"{', '.join(shared)}, which the {other} environment uses already; pick a suffix "
                             f"without '{other}' as one of its hyphen-separated words")
            with relabelled_problems(lambda p: SUFFIX_VARIABLE + "=" + problem_setting(p)[1]):
                preview = replace(base, suffix=suffix, tags={**base.tags, "Environment": suffix})
        return preview

    def selected(self, env: Mapping[str, str] | None = None) -> list[EnvironmentSettings]:
        """The environments to synthesize: TAP_STACKS (a comma list) or all, plus the ENVIRONMENT_SUFFIX preview."""
        env = os.environ if env is None else env
        requested = [n.strip() for n in env.get(STACKS_VARIABLE, "").split(",") if n.strip()]
        names = requested or list(self.names)
        suffix = env.get(SUFFIX_VARIABLE, "").strip()
        with collected_problems():
            for name in names:
                _require(name in self.names or name in (PREVIEW, CI_ENVIRONMENT), STACKS_VARIABLE, name,
                         f"a comma list of {', '.join(self.names)} (the environments of {self.label}), {PREVIEW} "
                         f"or {CI_ENVIRONMENT}")
            _require(bool(suffix) or PREVIEW not in names, SUFFIX_VARIABLE, suffix,
                     f"a non-empty suffix, since {STACKS_VARIABLE} names '{PREVIEW}'")
            selected = [self.environment(n, env) for n in names if n in self.names]
            if suffix:
                selected.append(self.preview(suffix, env))
        return selected

    def state(self, env: Mapping[str, str] | None = None) -> StateBootstrapSettings:
        """The state home every S3-backed environment shares (``[state]``), and the bootstrap stack's tags."""
        env = os.environ if env is None else env
        project, _ = self._project(env)
        backend, origins, hints = self._backend(env, project)
        origins["own_state"] = BOOTSTRAP_STATE_VARIABLE
        tags = {**_prefixed(self._plain(self._defaults), "tags."), "Environment": "shared",
                **_prefixed(self._plain(self._state), "tags.")}

        def relabel(problem: str) -> str:
            setting, rest = problem_setting(problem)
            key = setting.removeprefix("backend.")
            # Alone, the state validates no project: a name derived from a bad one is named by its key.
            where = origins[key] or f"{self.label}: state.{key} (derived from the project)"
            return with_hint(f"{where}={rest}", hints.get(key, ""))

        with relabelled_problems(relabel):
            settings = StateBootstrapSettings(
                backend=BackendSettings(**backend), tags=tags,
                own_state=env.get(BOOTSTRAP_STATE_VARIABLE, "s3").strip(),
            )
        return settings

    def review(self, name: str) -> tuple[ReviewSettings, dict[str, str]]:
        """The plan review's settings of environment ``name`` (a preview's are ``preview_from``'s; the CI
        and state stacks have the defaults), and where each was set, without building the environment (which
        needs its account and alarm subscribers)."""
        base = name if name in self.names else None if name in RESERVED_NAMES else self.preview_from
        if base is None:
            return ReviewSettings(), {}
        values = {path: v for path, v in {**self._defaults, **self._flatten(self.document["environments"][base],
                                                                            f"environments.{base}")}.items()
                  if path.startswith("review.")}
        origins = {path: f"{self.label}: {v.key}" for path, v in values.items()}

        def relabel(problem: str) -> str:
            setting, rest = problem_setting(problem)
            return f"{origins.get(setting, f'{self.label}: environments.{base}.{setting}')}={rest}"

        with relabelled_problems(relabel):
            settings = ReviewSettings(**_prefixed(self._plain(values), "review."))
        return settings, {path.removeprefix("review."): origin for path, origin in origins.items()}

    def wants_ci(self, env: Mapping[str, str] | None = None) -> bool:
        """Whether to synthesize the CI identities' stack: TAP_STACKS names ``ci``, or names nothing and the file
        has a ``[ci]`` table (so that `make demo`, TAP_STACKS=local, and files without ``[ci]`` never need it)."""
        env = os.environ if env is None else env
        requested = [n.strip() for n in env.get(STACKS_VARIABLE, "").split(",") if n.strip()]
        return CI_ENVIRONMENT in requested if requested else CI_ENVIRONMENT in self.document

    def ci(self, env: Mapping[str, str] | None = None) -> CiStackSettings:
        """The CI identities' stack from ``[ci]``: roles for every environment whose state is in S3 (GitHub
        environments ``<name>`` for applies, ``plan-<name>`` for plans, unless ``[ci]`` lists others), in the
        account and state home of ``[state]``."""
        env = os.environ if env is None else env
        if CI_ENVIRONMENT not in self.document:
            raise SettingsError(self._problem(
                CI_ENVIRONMENT, None, "a [ci] table with at least repository = \"<owner>/<name>\" (the GitHub "
                f"repository whose workflows assume the CI roles; docs/configuration-reference.md), since "
                f"{STACKS_VARIABLE} names "
                f"{CI_ENVIRONMENT}"))
        state = self.state(env)
        values = self._flatten(self.document[CI_ENVIRONMENT], CI_ENVIRONMENT)
        origins = {path: f"{self.label}: {v.key}" for path, v in values.items()}
        plain = self._plain(values)
        declared = {name: {**self._defaults, **self._flatten(self.document["environments"][name],
                                                               f"environments.{name}")} for name in self.names}
        deployed = [name for name, table in declared.items()
                    if table.get("backend.kind", _Value(BackendSettings.kind, "")).value == "s3"]
        project, origins["project"] = self._project(env)
        project_tags = sorted({str(table["tags.Project"].value) for table in declared.values()
                               if "tags.Project" in table})
        origins["project_tag"] = f"{self.label}: defaults.tags.Project"

        def relabel(problem: str) -> str | None:
            setting, rest = problem_setting(problem)
            return f"{origins.get(setting.removeprefix(f'{CI_ENVIRONMENT}.'), f'{self.label}: {setting}')}={rest}"

        with collected_problems():
            _require(len(project_tags) <= 1, f"{self.label}: environments.<name>.tags.Project", project_tags,
                     "one Project tag for every environment: the deploy role manages the keys that carry it")
            for name in deployed:
                region, account = declared[name].get("region"), declared[name].get("account_id")
                if region is not None:
                    _require(bool(REGION_PATTERN.fullmatch(str(region.value))), f"{self.label}: {region.key}",
                             region.value, "an AWS region such as us-east-1")
                where, value = ((f"{self.label}: {account.key}", account.value) if account and account.value
                                else (ACCOUNT_ID_VARIABLE, env.get(ACCOUNT_ID_VARIABLE, "").strip()))
                _require(value == state.backend.account_id, where, value,
                         f"the state's account {state.backend.account_id} for {name}, since the CI roles are made "
                         "there and cannot deploy to another account")
            with relabelled_problems(relabel):
                identities = CiIdentitiesSettings(
                    project=project,
                    **({"project_tag": project_tags[0]} if len(project_tags) == 1 else {}),
                    **{"repository": "",  # required: its problem says what it takes
                       "plan_environments": tuple(f"plan-{name}" for name in deployed),
                       "deploy_environments": tuple(deployed),
                       **{k: v for k, v in plain.items() if not k.startswith("tags.")}},
                    tags=_prefixed(plain, "tags."),
                )
                settings = CiStackSettings(
                    identities=identities, state=state.backend,
                    state_keys=(*(environment_state_key(name) for name in deployed), BOOTSTRAP_STATE_KEY),
                    regions=tuple(sorted({str(declared[n]["region"].value) for n in deployed if "region" in
                                          declared[n] and REGION_PATTERN.fullmatch(str(declared[n]["region"].value))})),
                    tags={**state.tags, "Environment": CI_ENVIRONMENT, **_prefixed(plain, "tags.")},
                )
        return settings

    def project(self, env: Mapping[str, str] | None = None) -> str:
        """The prefix of every AWS name: TAP_PROJECT, or the file's ``project``."""
        return self._project(os.environ if env is None else env)[0]

    # -------------------------------------------------------------------------------------------- parts
    def _project(self, env: Mapping[str, str]) -> tuple[str, str]:
        """The project prefix, and where it came from."""
        if env.get(PROJECT_VARIABLE, "").strip():
            return env[PROJECT_VARIABLE].strip(), PROJECT_VARIABLE
        return self.document.get("project", DEFAULT_PROJECT), f"{self.label}: project"

    def _backend(self, env: Mapping[str, str], project: str) -> tuple[dict[str, object], dict[str, str],
                                                                       dict[str, str]]:
        """The shared S3 state location (``[state]`` under its variables), where each value came from, hints."""
        state = self._plain(self._state)
        origins = {key: f"{self.label}: state.{key}" for key in _STATE_LOCATION_KEYS}
        hints: dict[str, str] = {}
        for key, variable in STATE_VARIABLES.items():
            if env.get(variable, "").strip():
                state[key] = env[variable].strip()
                origins[key] = variable
        if not state.get("account_id"):
            state["account_id"] = env.get(ACCOUNT_ID_VARIABLE, "").strip()
            if state["account_id"]:
                origins["account_id"] = ACCOUNT_ID_VARIABLE
            else:
                hints["account_id"] = Sentence(
                    f"the Terraform state: no AWS account: set {ACCOUNT_ID_VARIABLE} to the 12-digit id of the AWS "
                    f"account that holds the state (or account_id in [state] of {self.label})")
        region = str(state.get("region", BackendSettings.region))
        # A derived name is valid whenever what it derives from is, which has problems of its own.
        for key in ("bucket", "lock_table", "kms_key_alias"):
            if not state.get(key):
                origins[key] = DERIVED
        backend: dict[str, object] = {
            "kind": "s3",
            "bucket": state.get("bucket") or state_bucket_name(project, str(state["account_id"]), region),
            "lock_table": state.get("lock_table") or state_lock_table_name(project),
            "region": region,
            "account_id": state["account_id"],
            "kms_key_alias": state.get("kms_key_alias") or state_key_alias(project),
        }
        return backend, origins, hints

    def _flatten(self, table: Mapping[str, Any], key: str) -> dict[str, _Value]:
        """``{"functions.processor.memory_mb": _Value(256, "defaults.functions.processor.memory_mb")}``,
        each value converted to what the dataclass takes (types were checked on reading)."""
        shape = {"state": state_shape, CI_ENVIRONMENT: ci_shape}.get(key, environment_shape)()
        flat: dict[str, _Value] = {}

        def walk(node: Mapping[str, Any], node_shape: Any, prefix: str) -> None:
            for name, value in node.items():
                sub = prefix + name
                if node_shape is STR_MAP:
                    flat[sub] = _Value(value, f"{key}.{sub}")
                elif isinstance(node_shape[name], dict) or node_shape[name] is STR_MAP:
                    walk(value, node_shape[name], f"{sub}.")
                else:
                    flat[sub] = _Value(_converted(value, node_shape[name])[1], f"{key}.{sub}")

        walk(table, shape, "")
        return flat

    @staticmethod
    def _plain(values: Mapping[str, _Value]) -> dict[str, object]:
        return {path: v.value for path, v in values.items()}

    def _problem(self, key: str, value: object, allowed: str) -> str:
        return f"{self.label}: {key}={value!r} is invalid: allowed {allowed}"


def _prefixed(values: Mapping[str, object], prefix: str) -> dict[str, Any]:
    """The entries under ``prefix``, with it removed."""
    return {k.removeprefix(prefix): v for k, v in values.items() if k.startswith(prefix)}


# ------------------------------------------------------------------------------------------------ structure check
def _check_structure(document: Mapping[str, Any], label: str) -> None:
    """Unknown keys, wrong types, bad environment names: every one of them, each with its key."""
    _check_table(document, _TOP_LEVEL, "", label)
    for section, shape in (("state", state_shape()), (CI_ENVIRONMENT, ci_shape()), ("defaults", environment_shape())):
        if isinstance(document.get(section), dict):
            _check_table(document[section], shape, f"{section}.", label)
    environments = document.get("environments", {})
    _require(isinstance(environments, dict) and bool(environments), f"{label}: environments", environments,
             "at least one [environments.<name>] table")
    if not isinstance(environments, dict):
        return
    project = document.get("project", DEFAULT_PROJECT)
    for index, (name, table) in enumerate(environments.items()):
        _require(bool(SUFFIX_PATTERN.match(name)), f"{label}: environments", name,
                 f"environment names of {SUFFIX_ALLOWED}")
        _require(name not in RESERVED_NAMES, f"{label}: environments", name,
                 f"a name other than {', '.join(RESERVED_NAMES)}, which name stacks of their own "
                 f"(tap-pipeline-{name} is {RESERVED_NAMES.get(name)})")
        # Each pair once: a name against those declared before it.
        for other, shared in naming.shared_names(project, name, tuple(environments)[:index]).items():
            _require(not shared, f"{label}: environments", name,
                     f"a name whose resource names no other environment uses, but it would name "
                     f"{', '.join(shared)}, which the {other} environment uses already")
        _require(isinstance(table, dict), f"{label}: environments.{name}", table, "a table of settings")
        if isinstance(table, dict):
            _check_table(table, environment_shape(), f"environments.{name}.", label)
    preview_from = document.get("preview_from")
    _require(not isinstance(preview_from, str) or preview_from in environments, f"{label}: preview_from",
             preview_from, f"one of the environments: {', '.join(environments)}")


def _check_table(table: Mapping[str, Any], shape: Any, prefix: str, label: str) -> None:
    for name, value in table.items():
        key = prefix + name
        if shape is STR_MAP:
            _require(isinstance(value, str), f"{label}: {key}", value, "a string")
            continue
        close = difflib.get_close_matches(name, shape)
        _require(name in shape, f"{label}: {key}", value,
                 f"one of the keys {', '.join(shape)}" + (f" (did you mean {close[0]}?)" if close else ""))
        if name not in shape:
            continue
        child = shape[name]
        if isinstance(child, dict) or child is STR_MAP or child is dict:
            _require(isinstance(value, dict), f"{label}: {key}", value, "a table")
            if isinstance(value, dict) and child is not dict:
                _check_table(value, child, f"{key}.", label)
            continue
        kind = type_name(child)
        _require(_converted(value, child)[0], f"{label}: {key}", value,
                 f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}")
