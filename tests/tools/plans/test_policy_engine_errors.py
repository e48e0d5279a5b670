"""An evaluation error never passes: the review fails with exit 3, naming the policy file and the error.

regopy reports errors three ways (printed on file descriptor 1, an error output, an exception while
compiling); each is pinned here with a policy that triggers it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from tools.plans import policies, review
from tools.plans.layout import PlanFolder
from tools.plans.policies import PolicyError, evaluate

QUIET = "package main\n\nimport rego.v1\n\nwarn contains \"quiet\" if input.never\n"


def write(directory: Path, **files: str) -> list[Path]:
    for name, text in files.items():
        (directory / name).write_text(text)
    return sorted(directory.glob("*.rego"))


def test_a_builtin_error_fails_the_evaluation_naming_the_file(tmp_path: Path) -> None:
    # The case: json.unmarshal("") of a queue without a policy. regopy prints "Invalid JSON" and,
    # without strict built-in errors, reports the evaluation as ok.
    files = write(tmp_path, **{"quiet.rego": QUIET, "queues.rego": (
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tsome rc in input.resource_changes\n"
        "\tdoc := json.unmarshal(rc.change.after.policy)\n\tmsg := sprintf(\"%v\", [doc])\n}\n")})
    plan = {"resource_changes": [{"change": {"after": {"policy": ""}}}]}
    with pytest.raises(PolicyError, match=r"(?s)failed to evaluate \(queues\.rego in .*\): Errors:\nInvalid JSON"):
        evaluate(plan, files)


def test_a_conflict_between_rules_fails_the_evaluation_naming_the_file(tmp_path: Path) -> None:
    files = write(tmp_path, **{"quiet.rego": QUIET, "conflict.rego": (
        "package main\n\nimport rego.v1\n\nlimit := 1 if input.a\n\nlimit := 2 if input.a\n\n"
        "deny contains \"over\" if limit > 0\n")})
    with pytest.raises(PolicyError, match=r"\(conflict\.rego in .*eval_conflict_error"):
        evaluate({"a": True}, files)


def test_a_policy_that_does_not_compile_is_named(tmp_path: Path) -> None:
    files = write(tmp_path, **{"quiet.rego": QUIET, "broken.rego": "package main\n\ndeny contains msg if { msg := \n"})
    with pytest.raises(PolicyError, match=r"(?s)\(broken\.rego in .*this is unclosed\n-- broken\.rego:3:22"):
        evaluate({}, files)


def test_without_an_error_the_same_files_evaluate(tmp_path: Path) -> None:
    files = write(tmp_path, **{"quiet.rego": QUIET, "queues.rego": (
        "package main\n\nimport rego.v1\n\ndeny contains \"a queue changes\" if count(input.resource_changes) > 0\n")})
    assert evaluate({"resource_changes": [{}]}, files).deny == ("a queue changes",)


def test_the_review_exits_3_naming_the_policy_file_and_the_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    files = write(tmp_path, **{"quiet.rego": QUIET, "divide.rego": (
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tn := count(input.resource_changes)\n"
        "\tmsg := sprintf(\"%v\", [1 / n])\n}\n")})
    monkeypatch.setattr(policies, "policy_files", lambda directory=None: files)
    folder = PlanFolder(tmp_path / "tap-pipeline-prod")
    folder.workdir.mkdir(parents=True)
    folder.plan_file.write_bytes(b"plan")
    monkeypatch.setattr(review, "plan_from_binary", lambda f: ({"resource_changes": []}, "0" * 64))
    args = argparse.Namespace(ack=[], skip_checkov=True, budget=tmp_path / "no-budget.json")
    assert review.review_folder(folder, args) == 3
    error = capsys.readouterr().err
    assert "divide.rego" in error and "divide by zero" in error
    assert not folder.review_json.exists(), "no record that apply could trust"


def test_what_other_code_prints_meanwhile_is_passed_through(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # What C++ writes goes to file descriptor 1, below Python's sys.stdout.
    with policies.captured_stdout() as printed:
        os.write(1, b"a line of someone else's\n")
    assert printed == ["a line of someone else's\n"]
    assert not policies.PRINTED_ERROR.search(printed[0])
    assert capfd.readouterr().out == ""  # captured: the caller decides (run_query writes it back)


def test_a_result_regopy_cannot_render_as_json_is_an_error_not_a_crash(tmp_path: Path) -> None:
    # regopy 1.5.2 quotes sprintf("%s") of lower()'s result inside its JSON output; its Output class then
    # raises a bare JSONDecodeError. The review reports it as an evaluation error instead.
    files = write(tmp_path, **{"quiet.rego": QUIET, "garbled.rego": (
        "package main\n\nimport rego.v1\n\ndeny contains msg if {\n\tinput.a\n"
        "\tmsg := sprintf(\"<%s>\", [lower(\"X\")])\n}\n")})
    with pytest.raises(PolicyError, match=r"\(garbled\.rego in .*the engine's result is not JSON"):
        evaluate({"a": True}, files)
