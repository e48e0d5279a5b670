"""modules/rules.py: each kind of rule written once for Python and Terraform, and the rendering of a rule into a
module's validation block (the templates, the references, the escapes), pinned as text."""

from __future__ import annotations

import pytest

from modules.rules import Rule, at_least, fill, hcl_string, in_range, matches, one_of, required_tag

REFERENCES = {"memory_mb": "var.validator_memory_mb", "max_concurrency": "var.validator_max_concurrency",
              "reserved_concurrency": "var.validator_reserved_concurrency", "tags": "merge(var.a, var.b)",
              "email": "var.alarm_email"}


def test_in_range_checks_both_ends_and_writes_the_same_bounds() -> None:
    rule = in_range("memory_mb", 128, 10240)
    assert [rule.check({"memory_mb": v}) for v in (127, 128, 10240, 10241)] == [False, True, True, False]
    assert rule.terraform_condition(REFERENCES) == "var.validator_memory_mb >= 128 && var.validator_memory_mb <= 10240"
    assert rule.allowed == "128..10240"


def test_at_least_and_one_of() -> None:
    assert [at_least("memory_mb", 1).check({"memory_mb": v}) for v in (0, 1)] == [False, True]
    assert at_least("memory_mb", 1).terraform_condition(REFERENCES) == "var.validator_memory_mb >= 1"
    assert (at_least("memory_mb", 1).allowed, at_least("memory_mb", 0, "0 or more").allowed) == (">= 1", "0 or more")
    rule = one_of("memory_mb", [1, 3], "1 or 3")
    assert rule.allowed == "1 or 3"
    assert [rule.check({"memory_mb": v}) for v in (1, 2, 3)] == [True, False, True]
    assert rule.terraform_condition(REFERENCES) == "contains([1, 3], var.validator_memory_mb)"


def test_matches_the_whole_value_and_lets_null_pass_when_optional() -> None:
    rule = matches("email", r"[a-z]+@[a-z]+\.[a-z]+", "an address", optional=True)
    assert [rule.check({"email": v}) for v in (None, "a@b.co", "a@b.co\n", "xa@b", 7)] == [
        True, True, False, False, False]
    required = matches("email", "a", "just a")
    assert not required.check({"email": None}) and required.allowed == "just a" and rule.allowed == "an address"
    assert required.terraform_condition(REFERENCES) == 'can(regex("^(?:a)$", var.alarm_email))'
    assert rule.terraform_condition(REFERENCES) == (
        'var.alarm_email == null ? true : can(regex("^(?:[a-z]+@[a-z]+\\\\.[a-z]+)$", var.alarm_email))')


def test_a_required_tag_must_not_be_blank_and_reads_the_effective_tags() -> None:
    rule = required_tag("Owner")
    assert [rule.check({"tags": t}) for t in ({}, {"Owner": " "}, {"Owner": "me"})] == [False, False, True]
    assert rule.verdict({"tags": {"Owner": " "}}).value == " " and rule.label == "tags.Owner"
    assert rule.terraform_condition(REFERENCES) == 'trimspace(lookup((merge(var.a, var.b)), "Owner", "")) != ""'
    assert rule.terraform_message("tags.Owner", REFERENCES) == (
        'tags.Owner=${jsonencode(lookup(merge(var.a, var.b), "Owner", ""))} is invalid: allowed a non-empty string')


RELATION = Rule("reserved_concurrency", lambda v: v["reserved_concurrency"] >= v["max_concurrency"],
                "{reserved_concurrency} >= {max_concurrency}", ">= max_concurrency ({max_concurrency}), or ${{}} %{{}}",
                reads=("max_concurrency",))


def test_a_verdict_shows_the_value_and_fills_in_the_other_settings() -> None:
    verdict = RELATION.verdict({"reserved_concurrency": 4, "max_concurrency": 5})
    assert (verdict.holds, verdict.value, verdict.allowed) == (False, 4, ">= max_concurrency (5), or ${{}} %{{}}")
    assert RELATION.verdict({"reserved_concurrency": 5, "max_concurrency": 5}).holds


def test_a_rule_over_a_terraform_expression_is_left_to_terraform() -> None:
    from cdktf import Token

    assert RELATION.verdict({"reserved_concurrency": Token.as_number("${var.x}"), "max_concurrency": 5}) is None
    assert RELATION.verdict({"reserved_concurrency": 4, "max_concurrency": Token.as_number("${var.x}")}) is None


def test_a_terraform_message_interpolates_the_value_and_the_other_settings_and_escapes_the_rest() -> None:
    assert RELATION.terraform_message("validator_reserved_concurrency", REFERENCES) == (
        "validator_reserved_concurrency=${jsonencode(var.validator_reserved_concurrency)} is invalid: allowed "
        ">= max_concurrency (${var.validator_max_concurrency}), or $${{}} %%{{}}")


def test_fill_replaces_names_only_and_fails_on_an_unknown_one() -> None:
    assert fill("{a}{1,9} { a = 1 }", {"a": "x"}) == "x{1,9} { a = 1 }"
    with pytest.raises(KeyError):
        fill("{b}", {"a": "x"})


def test_an_hcl_string_keeps_template_sequences_literal() -> None:
    assert hcl_string('a"b\\c ${x} %{y}') == '"a\\"b\\\\c $${x} %%{y}"'
