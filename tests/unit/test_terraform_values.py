"""The helpers that let one construct body serve the stacks (Python values) and the module (Terraform
expressions): the same result as plain Python for Python values, without loading cdktf, and the Terraform
expression for a variable."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modules.terraform_values import (
    choose,
    equals,
    instances,
    is_expression,
    is_positive,
    is_set,
    merged,
    plus,
    text,
    times,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_python_values_compute_as_python_does() -> None:
    assert (choose(True, "arn", None), choose(False, "arn", None)) == ("arn", None)
    assert (instances(True), instances(0), instances(2)) == ((True, None), (False, None), (True, None))
    assert (plus(6 * 30, 10), times(times(30, 1000), 0.8)) == (190, 24000.0)
    assert (text(30), text("dev")) == ("30", "dev")
    assert merged({"Owner": "a", "Project": "p"}, {"Owner": "b"}) == {"Owner": "b", "Project": "p"}
    assert (is_positive(0), is_positive(2), is_set(None), is_set(""), equals("PROVISIONED", "PROVISIONED")) == (
        False, True, False, True, True)
    assert not any(is_expression(v) for v in (None, True, 0, 0.8, "tap-dev", {"a": "b"}, -1e200))


def test_settings_validate_without_loading_cdktf() -> None:
    # main.py validates every setting before it imports cdktf (slow): the helpers must not import it for
    # Python values.
    code = ("import sys; from modules.settings import EnvironmentSettings, FunctionSettings; "
            "FunctionSettings(name='validator', timeout_s=60, batching_window_s=5).visibility_timeout_s; "
            "print('cdktf' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    """Each helper applied to the module's variables, as Terraform JSON renders it."""
    from cdktf import TerraformOutput, TerraformStack, TerraformVariable, Testing, Token

    stack = TerraformStack(Testing.app(), "values")
    flag = TerraformVariable(stack, "flag", type="bool").boolean_value
    number = TerraformVariable(stack, "number", type="number").number_value
    name = TerraformVariable(stack, "name", type="string").string_value
    tags = Token.as_string_map(TerraformVariable(stack, "tags", type="map(string)").value)
    values = {
        "choose": choose(flag, "arn", None), "count": instances(flag)[1], "positive": is_positive(number),
        "set": is_set(name), "arithmetic": plus(times(6, number), 10), "text": f"up to {text(number)} s",
        "either": choose(flag, "a", "b"), "unset_first": choose(flag, None, True), "list": choose(flag, [name], []),
        "equals": equals(name, "PROVISIONED"), "merged": merged(tags, {"Component": "x"}),
        "merged_under": merged({"Owner": "o"}, tags), "plus_right": plus(1, number),
    }
    for key, value in values.items():
        TerraformOutput(stack, key, value=value)
    outputs = json.loads(Testing.synth(stack))["output"]
    return {key: outputs[key]["value"] for key in values}


def test_variables_become_terraform_expressions(rendered: dict[str, str]) -> None:
    assert rendered == {
        "choose": '${var.flag ? "arn" : null}',
        "count": "${var.flag ? 1 : 0}",
        # Not `var.number > 0`: cdktf 0.21 writes a right-hand 0 as "undefined".
        "positive": "${(0 < var.number)}",
        "set": "${(var.name != null)}",
        "arithmetic": "${((6 * var.number) + 10)}",
        "text": "up to ${var.number} s",
        "either": '${var.flag ? "a" : "b"}',
        "unset_first": "${var.flag ? null : true}",
        "list": "${var.flag ? [var.name] : []}",
        "equals": '${(var.name == "PROVISIONED")}',
        "merged": '${merge(var.tags, {"Component" = "x"})}',
        "merged_under": '${merge({"Owner" = "o"}, var.tags)}',
        "plus_right": "${(1 + var.number)}",
    }


def test_a_choice_between_expressions_is_typed_as_its_branches_for_the_typed_bindings() -> None:
    from cdktf import TerraformStack, TerraformVariable, Testing

    flag = TerraformVariable(TerraformStack(Testing.app(), "typed"), "flag", type="bool").boolean_value
    assert isinstance(choose(flag, "arn", None), str) and isinstance(choose(flag, None, "arn"), str)
    assert isinstance(choose(flag, 1, 0), float) and isinstance(choose(flag, ["a"], []), list)
