"""What becomes a variable of the Terraform module, and the validation blocks that come with it.

Each :class:`ModuleVariable` is one setting of :class:`modules.settings.EnvironmentSettings` that a consumer sets
per environment: its description, type and default come from the setting's field (its ``doc`` and ``allowed``
metadata, its default, :data:`modules.settings.STAGE_DEFAULTS`), and its validation blocks from the rule tables
that the settings check (:mod:`modules.rules`), so that the module rejects what the Python settings reject, with
the same words. Every other setting keeps the library's default in the module (:data:`FIXED`, in its README).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields
from typing import Any

from modules.rules import Rule
from modules.settings import (
    AUTOSCALING_RULES,
    ENVIRONMENT_RULES,
    FUNCTION_RULES,
    MONITORING_RULES,
    REQUIRED_TAGS,
    STAGE_DEFAULTS,
    STAGES,
    SUBSCRIBER_RULES,
    TABLE_RULES,
    TAG_RULES,
    AutoscalingSettings,
    EnvironmentSettings,
    FunctionSettings,
    MonitoringSettings,
    TableSettings,
)

#: The per-stage settings that are variables, ``<stage>_<setting>``.
FUNCTION_VARIABLES = ("memory_mb", "timeout_s", "reserved_concurrency", "provisioned_concurrency", "batch_size",
                      "batching_window_s", "max_concurrency")
#: The autoscaling bounds that are variables, ``table_<read|write>_<bound>``.
AUTOSCALING_VARIABLES = ("min_capacity", "max_capacity")
DIMENSIONS = ("read", "write")
#: The effective tags: the environment's name as ``Environment`` unless the consumer's tags say otherwise.
EFFECTIVE_TAGS = 'merge({ Environment = var.environment }, var.tags)'


@dataclass(frozen=True)
class ModuleVariable:
    """One variable: its name, HCL type, default (``MISSING``: required), description, and the setting it is
    (``path`` in :class:`modules.settings.EnvironmentSettings`, e.g. ``functions.validator.memory_mb``)."""

    name: str
    type: str
    default: Any
    description: str
    path: str
    nullable: bool = False

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def read(self, settings: EnvironmentSettings) -> Any:
        """This variable's value for ``settings``."""
        value = setting_at(settings, self.path)
        return dict(value) if isinstance(value, Mapping) else str(value) if hasattr(value, "value") else value


def setting_at(settings: Any, path: str) -> Any:
    """The setting at ``path`` (``functions.<stage>`` indexes the functions)."""
    value = settings
    for part in path.split("."):
        value = value[part] if isinstance(value, Mapping) else getattr(value, part)
    return value


def _field(owner: type, name: str) -> Any:
    return next(f for f in fields(owner) if f.name == name)


def _described(owner: type, name: str, lead: str = "", doc: str | None = None) -> str:
    field = _field(owner, name)
    text = doc or field.metadata["doc"]
    allowed = field.metadata.get("allowed", "")
    sentence = f"{lead}{text[0].upper()}{text[1:]}" if not lead else f"{lead}{text}"
    return f"{sentence}." + (f" Allowed: {allowed}." if allowed else "")


def _default(owner: type, name: str, stage: str | None = None) -> Any:
    if stage is not None and name in STAGE_DEFAULTS.get(stage, {}):
        return STAGE_DEFAULTS[stage][name]
    field = _field(owner, name)
    if field.default is not MISSING:
        return field.default
    return field.default_factory() if field.default_factory is not MISSING else MISSING


def _hcl_type(owner: type, name: str) -> str:
    annotation = str(_field(owner, name).type)
    if annotation.startswith("Mapping"):
        return "map(string)"
    if "bool" in annotation:
        return "bool"
    if "int" in annotation or "float" in annotation:
        return "number"
    return "string"


def _function_variable(stage: str, name: str) -> ModuleVariable:
    doc = None
    if name == "reserved_concurrency":
        doc = ("executions reserved for the function; null leaves it on the account's unreserved pool, the only "
               "choice on a new account whose limit is 10")
    return ModuleVariable(
        f"{stage}_{name}", _hcl_type(FunctionSettings, name), _default(FunctionSettings, name, stage),
        _described(FunctionSettings, name, f"The {stage} stage: ", doc),
        f"functions.{stage}.{name}", nullable=name == "reserved_concurrency",
    )


def _autoscaling_variable(dimension: str, name: str) -> ModuleVariable:
    return ModuleVariable(
        f"table_{dimension}_{name}", "number", _default(AutoscalingSettings, name),
        _described(AutoscalingSettings, name, f"With PROVISIONED billing, {dimension} capacity: "),
        f"table.{dimension}_autoscaling.{name}",
    )


def module_variables() -> tuple[ModuleVariable, ...]:
    """Every variable of the module, in the order of its README."""
    variables = [
        ModuleVariable("environment", "string", MISSING,
                       "The environment's name (dev, staging, prod, pr42...): it ends every resource name "
                       "(`<name_prefix>-<thing>-<environment>`) and is the `Environment` tag unless `tags` gives "
                       "one. Allowed: " + _field(EnvironmentSettings, "suffix").metadata["allowed"] + ".",
                       "suffix"),
        ModuleVariable("name_prefix", "string", _default(EnvironmentSettings, "project"),
                       _described(EnvironmentSettings, "project"), "project"),
        ModuleVariable("tags", "map(string)", MISSING,
                       "Tags of every resource, beside each resource's own Component tag; Project, CostCenter, "
                       "Owner and ManagedBy are required, and Environment defaults to `environment`.",
                       "tags"),
        ModuleVariable("log_retention_days", "number", _default(EnvironmentSettings, "log_retention_days"),
                       _described(EnvironmentSettings, "log_retention_days"),
                       "log_retention_days"),
        ModuleVariable("customer_managed_encryption", "bool",
                       _default(EnvironmentSettings, "customer_managed_encryption"),
                       "The environment's KMS key (which always encrypts the alarm topic) also encrypts the table, "
                       "the queues, the log groups and the functions' environment.",
                       "customer_managed_encryption"),
        ModuleVariable("alarm_email", "string", None, _described(MonitoringSettings, "alarm_email"),
                       "monitoring.alarm_email", nullable=True),
        ModuleVariable("alarm_https_endpoint", "string", None, _described(MonitoringSettings, "alarm_https_endpoint"),
                       "monitoring.alarm_https_endpoint", nullable=True),
        ModuleVariable("require_subscriber", "bool", _default(MonitoringSettings, "require_subscriber"),
                       "The plan stops unless alarm_email or alarm_https_endpoint is set: an alarm nobody hears "
                       "is no alarm.", "monitoring.require_subscriber"),
    ]
    for stage in STAGES:
        variables += [_function_variable(stage, name) for name in FUNCTION_VARIABLES]
    variables += [
        ModuleVariable("table_billing_mode", "string", str(_default(TableSettings, "billing_mode")),
                       _described(TableSettings, "billing_mode", "The records table: "),
                       "table.billing_mode"),
    ]
    variables += [_autoscaling_variable(d, name) for d in DIMENSIONS for name in AUTOSCALING_VARIABLES]
    variables.append(ModuleVariable(
        "table_deletion_protection", "bool", _default(TableSettings, "deletion_protection"),
        _described(TableSettings, "deletion_protection", "The records table: "),
        "table.deletion_protection"))
    return tuple(variables)


def module_inputs(settings: EnvironmentSettings) -> dict[str, Any]:
    """The module's inputs that build the same pipeline as ``settings`` (where the module fixes a setting, its
    value is the library's default: :func:`fixed_differences` lists where ``settings`` differ)."""
    return {variable.name: variable.read(settings) for variable in module_variables()}


#: Settings the module takes from elsewhere: the provider's region and account, the environment's name (its
#: ``environment``), and the stack's own concerns (backend, the emulator).
NOT_IN_THE_MODULE = ("name", "region", "account_id", "backend", "emulator")


def fixed_settings() -> dict[str, Any]:
    """The settings the module fixes, by path, at the library's defaults."""
    variable_paths = {variable.path for variable in module_variables()}
    leaves = _dotted(library_settings())
    return {path: value for path, value in leaves.items()
            if path not in variable_paths and path.split(".")[0] not in NOT_IN_THE_MODULE
            and not path.endswith(".name")}


def fixed_differences(settings: EnvironmentSettings) -> dict[str, tuple[Any, Any]]:
    """Where ``settings`` differ from what the module fixes: path -> (the module's value, the settings')."""
    leaves = _dotted(settings)
    return {path: (fixed, leaves[path]) for path, fixed in fixed_settings().items() if leaves[path] != fixed}


def _dotted(settings: EnvironmentSettings) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def walk(value: Any, path: str) -> None:
        if hasattr(value, "__dataclass_fields__"):
            for f in fields(value):
                walk(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
        elif path == "functions":
            for stage, function in value.items():
                walk(function, f"functions.{stage}")
        else:
            found[path] = value

    walk(settings, "")
    return found


def library_settings() -> EnvironmentSettings:
    """An environment at the library's defaults (what the module fixes), with placeholders where it has none."""
    return EnvironmentSettings(name="library", suffix="library", region="us-east-1", account_id="000000000000",
                               tags={tag: "library" for tag in REQUIRED_TAGS},
                               monitoring=MonitoringSettings(require_subscriber=False))


@dataclass(frozen=True)
class RuleContext:
    """Where a rule table applies in the module: each setting's Terraform reference (a variable, or the
    library's default as a literal) and the variable named by a problem about each setting."""

    rules: tuple[Rule, ...]
    references: Mapping[str, str]
    variables: Mapping[str, str]


def _literal(value: Any) -> str:
    return json.dumps(str(value) if hasattr(value, "value") else value)


def rule_contexts() -> tuple[RuleContext, ...]:
    """Every rule table with the references of its settings in the module."""
    library = library_settings()
    contexts = []
    for stage in STAGES:
        function = library.functions[stage]
        variables = {name: f"{stage}_{name}" for name in FUNCTION_VARIABLES}
        references = {f.name: f"var.{variables[f.name]}" if f.name in variables else _literal(getattr(function, f.name))
                      for f in fields(FunctionSettings)}
        contexts.append(RuleContext(FUNCTION_RULES, references, variables))
    for dimension in DIMENSIONS:
        bounds = getattr(library.table, f"{dimension}_autoscaling")
        variables = {name: f"table_{dimension}_{name}" for name in AUTOSCALING_VARIABLES}
        references = {f.name: f"var.{variables[f.name]}" if f.name in variables else _literal(getattr(bounds, f.name))
                      for f in fields(AutoscalingSettings)}
        contexts.append(RuleContext(AUTOSCALING_RULES, references, variables))
    contexts.append(RuleContext(TABLE_RULES, {"billing_mode": "var.table_billing_mode"},
                                {"billing_mode": "table_billing_mode"}))
    contexts.append(RuleContext(MONITORING_RULES,
                                {"alarm_email": "var.alarm_email", "alarm_https_endpoint": "var.alarm_https_endpoint"},
                                {"alarm_email": "alarm_email", "alarm_https_endpoint": "alarm_https_endpoint"}))
    environment = {"project": "var.name_prefix", "suffix": "var.environment", "name": "var.environment",
                   "log_retention_days": "var.log_retention_days", "tags": EFFECTIVE_TAGS,
                   "require_subscriber": "var.require_subscriber", "alarm_email": "var.alarm_email",
                   "alarm_https_endpoint": "var.alarm_https_endpoint"}
    environment_variables = {"project": "name_prefix", "suffix": "environment",
                             "log_retention_days": "log_retention_days", "tags": "tags", "alarm_email": "alarm_email"}
    for rules in (ENVIRONMENT_RULES, SUBSCRIBER_RULES, TAG_RULES):
        contexts.append(RuleContext(rules, environment, environment_variables))
    return tuple(contexts)


@dataclass(frozen=True)
class Validation:
    """One validation block of one variable."""

    variable: str
    condition: str
    error_message: str


def validations() -> tuple[Validation, ...]:
    """The validation block of every rule whose setting is a module variable, in rule-table order.

    A rule about a setting the module fixes (or reads from the provider: region, account) stays a Python check.
    """
    found = []
    for context in rule_contexts():
        for rule in context.rules:
            variable = context.variables.get(rule.field)
            if variable is None:
                continue
            label = variable + (rule.label[len(rule.field):] if rule.label and rule.label.startswith(rule.field)
                                else "")
            found.append(Validation(variable, rule.terraform_condition(context.references),
                                    rule.terraform_message(label, context.references)))
    return tuple(found)


def settings_from_inputs(inputs: Mapping[str, Any]) -> EnvironmentSettings:
    """The settings that the module's ``inputs`` stand for: the library's, with each given input at its setting's
    path, built and validated as one (so SettingsError lists every problem, as the module lists every failed
    validation). The inverse of :func:`module_inputs`; the environment's name is its ``environment``, and its
    ``Environment`` tag too unless ``tags`` has one, as in the module."""
    from dataclasses import replace

    from modules.settings import collected_problems

    library = library_settings()
    by_name = {variable.name: variable for variable in module_variables()}
    changes = {by_name[name].path: value for name, value in inputs.items()}
    changes["name"] = changes.get("suffix", library.suffix)
    changes["tags"] = {"Environment": changes["name"], **changes.get("tags", library.tags)}

    def changed(path: str) -> bool:
        return not path or any(key == path or key.startswith(f"{path}.") for key in changes)

    def rebuilt(value: Any, path: str) -> Any:
        if path in changes:
            return changes[path]
        if not changed(path):
            return value
        if path == "functions":
            return {stage: rebuilt(function, f"functions.{stage}") for stage, function in value.items()}
        return replace(value, **{f.name: rebuilt(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
                                 for f in fields(value) if f.init})

    with collected_problems():
        return rebuilt(library, "")
