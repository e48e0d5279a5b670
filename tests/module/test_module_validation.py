"""Every validation block of the module, on both sides of each bound, through real `terraform plan`s, and the
Python settings on the very same values: both reject the same settings with the same words.

The values are pinned in tests/module/cases.py; the Python side reads them through
tools.module.variables.settings_from_inputs (the inverse of module_inputs).
"""

from __future__ import annotations

import pytest

from modules.settings import SettingsError
from tests.module.cases import BAD, GOOD
from tests.support.module_plans import ModulePlan
from tools.module.variables import module_variables, settings_from_inputs


def python_problems(inputs: dict) -> list[tuple[str, str]]:
    """The settings' problems for ``inputs`` as (module label, "allowed ..." text)."""
    try:
        settings_from_inputs(inputs)
    except SettingsError as error:
        return sorted((module_label(problem), problem.split(" is invalid: ", 1)[1]) for problem in error.problems)
    return []


def module_label(problem: str) -> str:
    """The module's label for a settings problem: ``functions.validator.memory_mb=...`` -> ``validator_memory_mb``,
    ``tags.Owner=...`` -> ``tags.Owner``."""
    setting = problem.split("=", 1)[0]
    for variable in module_variables():
        if setting == variable.path or setting.startswith(f"{variable.path}."):
            return variable.name + setting[len(variable.path):]
    renamed = {"suffix": "environment", "project": "name_prefix"}
    return renamed[setting]


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_values_fail_the_plan_each_with_its_rules_message(case: str, module_plans: dict[str, ModulePlan]) -> None:
    inputs, expected = BAD[case]
    plan = module_plans[case]
    assert plan.returncode != 0
    failed = plan.invalid_values()
    assert sorted(label for label, _ in failed) == sorted(expected), failed
    assert len(failed) == len(plan.errors), f"errors that are not validations: {plan.errors}"
    terraform = sorted((label, message.split(" is invalid: ", 1)[1]) for label, message in failed)
    assert terraform == python_problems(inputs)


@pytest.mark.parametrize("case", sorted(GOOD))
def test_values_on_every_bound_pass_the_plan_and_the_settings(case: str, module_plans: dict[str, ModulePlan]) -> None:
    plan = module_plans[case]
    assert plan.returncode == 0 and not plan.errors, plan.errors
    assert python_problems(GOOD[case]) == []


def test_a_rejected_value_names_the_input_its_value_and_what_is_allowed(module_plans: dict[str, ModulePlan]) -> None:
    messages = dict(module_plans["bad-relations"].invalid_values())
    assert messages["validator_reserved_concurrency"] == (
        "validator_reserved_concurrency=4 is invalid: allowed >= max_concurrency (5), or the event source is "
        "throttled and messages go to the DLQ; raise it or lower max_concurrency")
