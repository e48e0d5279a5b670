"""The Rego unit tests of ``policies/*_test.rego``, on regopy (the review's engine) and on OPA.

Each ``case_<name>`` is a plan with what the policies must decide on it (policies/fixtures_test.rego);
each ``test_<name>`` checks the same case under OPA's test runner conventions (``opa test``,
``conftest verify``).  regopy has no test runner (and crashes on ``with input as`` over these rules), so
every case is evaluated here through :func:`tools.plans.policies.evaluate`, the review's own path, and on
the OPA engine (scripts/setup.sh unpacks it); a failing case is reported by name.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.opa_engine import deny_and_warn, engine
from tools.plans.policies import POLICY_DIR, PolicyResult, evaluate, policy_files, run_query

TEST_FILES = sorted(POLICY_DIR.glob("*_test.rego"))
#: Only OPA gets this file: regopy fails every query once `with input as` over the policies is loaded.
OPA_ONLY = POLICY_DIR / "opa_runner_test.rego"
REGOPY_FILES = [*policy_files(), *(p for p in TEST_FILES if p != OPA_ONLY)]
CASE = re.compile(r"^case_(\w+) := \{", re.MULTILINE)
TEST = re.compile(r"^test_(\w+) if fixture_passes\(case_(\w+)\)$", re.MULTILINE)


def names(pattern: re.Pattern[str]) -> list[str]:
    return sorted(m.group(1) for path in TEST_FILES for m in pattern.finditer(path.read_text()))


CASES = names(CASE)


@pytest.fixture(scope="module")
def cases() -> dict[str, dict[str, Any]]:
    """Every case's value, read with regopy from the test files (which must compile on it)."""
    modules = {p.name: p.read_text() for p in REGOPY_FILES}
    query = "result := {" + ", ".join(f'"{n}": data.main.case_{n}' for n in CASES) + "}"
    evaluation = run_query(modules, "{}", query)
    assert evaluation.error is None, evaluation.error
    return evaluation.bindings["result"]


def unmet(case: dict[str, Any], result: PolicyResult) -> list[str]:
    """What the case expects and the result does not give (empty: the case holds)."""
    problems = []
    for key, kind, messages in (("denies", "deny", result.deny), ("warns", "warn", result.warn)):
        for prefix in case.get(key, []):
            if not any(m.startswith(prefix) for m in messages):
                problems.append(f"no {kind} message starts with {prefix!r}; got {list(messages)}")
        if case.get(f"{key}_nothing") and messages:
            problems.append(f"expected no {kind} message, got {list(messages)}")
    for address in case.get("no_denies_for", []):
        about = [m for m in result.deny if m.startswith(f"{address}: ")]
        if about:
            problems.append(f"expected no deny message about {address}, got {about}")
    return problems


def test_the_rego_tests_exist_one_per_case() -> None:
    assert len(CASES) >= 50 and len(set(CASES)) == len(CASES), CASES
    pairs = [(m.group(1), m.group(2)) for path in TEST_FILES for m in TEST.finditer(path.read_text())]
    assert sorted(test for test, _ in pairs) == CASES
    assert all(test == case for test, case in pairs), "each test_<name> checks case_<name>"


def test_every_policy_file_has_a_test_file() -> None:
    helpers = {"documents.rego"}  # no rule of its own: exercised through the files that use it
    runner_files = ("fixtures_test.rego", OPA_ONLY.name)
    assert {p.name for p in policy_files()} - helpers == {
        p.name.replace("_test.rego", ".rego") for p in TEST_FILES if p.name not in runner_files}


@pytest.mark.parametrize("name", CASES)
def test_case_holds_on_regopy(name: str, cases: dict[str, dict[str, Any]]) -> None:
    case = cases[name]
    assert unmet(case, evaluate(case["input"])) == []


@pytest.fixture(scope="module")
def opa() -> Any:
    with engine([*policy_files(), *TEST_FILES]) as loaded:
        yield loaded


@pytest.mark.parametrize("name", CASES)
def test_case_holds_on_opa(name: str, cases: dict[str, dict[str, Any]], opa: Any) -> None:
    case = cases[name]
    deny, warn = deny_and_warn(opa, case["input"])
    assert unmet(case, PolicyResult(deny, warn)) == []


def test_the_rego_test_rules_pass_under_opa(opa: Any) -> None:
    """`opa test policies/`: every test_ rule is true (one query for all: each query pays the engine's start)."""
    names = json.dumps(CASES)
    [bindings] = opa.eval_query(f'results := {{n: v | some n in {names}; v := data.main[concat("", ["test_", n])]}}')
    assert [n for n in CASES if bindings["results"].get(n) is not True] == []  # undefined ones are left out


def test_a_failing_case_is_reported_by_name(tmp_path: Path) -> None:
    broken = {"input": {"resource_changes": []}, "denies": ["aws_sqs_queue.x: public access"]}
    assert unmet(broken, evaluate(broken["input"])) == [
        "no deny message starts with 'aws_sqs_queue.x: public access'; got []"]
    assert json.dumps(broken)  # the case format is plain JSON
