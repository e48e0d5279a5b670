"""The Terraform module as a cdktf stack: the same :class:`modules.pipeline.TapPipeline`, its settings made of
the module's variables (``cdktf-tf-module-stack``: no provider block, no backend).

Imported only at module build time: it needs the provider bindings and ``cdktf_tf_module_stack`` (a development
package, like checkov; the library itself never imports it).
"""

from __future__ import annotations

from typing import Any

import jsii
from cdktf import Aspects, Fn, IAspect, TerraformVariableValidationConfig, Token
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_region import DataAwsRegion
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_tf_module_stack import ProviderRequirement, TFModuleOutput, TFModuleStack, TFModuleVariable
from constructs import Construct, IConstruct

from modules.pipeline import TapPipeline
from modules.queue_arn import REGION_ID
from modules.settings import (
    STAGES,
    AutoscalingSettings,
    EnvironmentSettings,
    MonitoringSettings,
    TableSettings,
    stage_function,
)
from tools.module.outputs import output_description
from tools.module.requirements import AWS_PROVIDER_SOURCE, AWS_PROVIDER_VERSIONS
from tools.module.variables import (
    AUTOSCALING_VARIABLES,
    DIMENSIONS,
    FUNCTION_VARIABLES,
    ModuleVariable,
    library_settings,
    module_variables,
    validations,
)


@jsii.implements(IAspect)
class ArchivesInTheModule:
    """Points every function's archive at the module's own folder.

    cdktf writes an asset's path relative to the stack folder, which is a root module's working directory; in
    a module Terraform resolves a relative ``filename`` against the caller's working directory instead, so the
    path must start at ``path.module``.
    """

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, LambdaFunction) and not str(node.filename_input).startswith("${path.module}"):
            node.filename = "${path.module}/" + node.filename_input


class PipelineModuleStack(TFModuleStack):
    """The pipeline module: a variable per setting a consumer sets per environment (each validated by the rules
    the Python settings check), the pipeline built from them, and an output per :meth:`output_values` entry."""

    def __init__(self, scope: Construct, id_: str) -> None:
        super().__init__(scope, id_)
        ProviderRequirement(self, "aws", AWS_PROVIDER_VERSIONS, AWS_PROVIDER_SOURCE)
        checks: dict[str, list[TerraformVariableValidationConfig]] = {}
        for validation in validations():
            checks.setdefault(validation.variable, []).append(TerraformVariableValidationConfig(
                condition="${" + validation.condition + "}", error_message=validation.error_message))
        self.variables = {variable.name: self._variable(variable, checks.get(variable.name))
                          for variable in module_variables()}
        # The region and account come from the caller's provider, as the key policy and the ARNs need them.
        region = DataAwsRegion(self, REGION_ID)
        account = DataAwsCallerIdentity(self, "caller-identity")
        self.pipeline = TapPipeline(self, "Default", settings=self.settings(region.name, account.account_id))
        for name, value in self.pipeline.output_values().items():
            TFModuleOutput(self, name, value=value, description=output_description(name))
        Aspects.of(self).add(ArchivesInTheModule())

    def _variable(self, variable: ModuleVariable, validation: list[TerraformVariableValidationConfig] | None
                  ) -> TFModuleVariable:
        arguments: dict[str, Any] = {"type": variable.type, "description": variable.description,
                                     "nullable": variable.nullable, "validation": validation}
        if not variable.required:
            # None is cdktf's "not given", which would make the variable required: null is written explicitly.
            arguments["default"] = Token.null_value() if variable.default is None else variable.default
        return TFModuleVariable(self, variable.name, **arguments)

    def _value(self, name: str) -> Any:
        variable = self.variables[name]
        kind = next(v.type for v in module_variables() if v.name == name)
        if kind == "number":
            return variable.number_value
        if kind == "bool":
            return variable.boolean_value
        if kind == "map(string)":
            return Token.as_string_map(variable.value)
        return variable.string_value

    def settings(self, region: str, account_id: str) -> EnvironmentSettings:
        """The library's settings, with each variable's expression where a consumer sets it."""
        value = self._value
        environment = value("environment")
        library = library_settings()
        return EnvironmentSettings(
            name=environment, suffix=environment, region=region, account_id=account_id,
            project=value("name_prefix"),
            tags=Token.as_string_map(Fn.merge([{"Environment": environment}, value("tags")])),
            functions={stage: stage_function(stage, **{name: value(f"{stage}_{name}") for name in FUNCTION_VARIABLES})
                       for stage in STAGES},
            table=TableSettings(
                billing_mode=value("table_billing_mode"),
                deletion_protection=value("table_deletion_protection"),
                **{f"{dimension}_autoscaling": AutoscalingSettings(
                    **{name: value(f"table_{dimension}_{name}") for name in AUTOSCALING_VARIABLES})
                   for dimension in DIMENSIONS},
            ),
            monitoring=MonitoringSettings(
                alarm_email=value("alarm_email"), alarm_https_endpoint=value("alarm_https_endpoint"),
                require_subscriber=value("require_subscriber"),
            ),
            log_retention_days=value("log_retention_days"),
            customer_managed_encryption=value("customer_managed_encryption"),
            # Terraform requires lifecycle arguments to be literals: the module cannot vary prevent_destroy,
            # and leaves it to table_deletion_protection (on by default) to keep the table.
            prevent_destroy=library.prevent_destroy,
        )
