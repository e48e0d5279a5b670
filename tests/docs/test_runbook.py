"""docs/runbook.md: an entry for every alarm the stacks create, and every alarm's description links to it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tools import __main__ as tools_cli
from tools.policy.stack_json import StackJson

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = PROJECT_ROOT / "docs" / "runbook.md"
LINK = re.compile(r" Runbook: docs/runbook\.md#([a-z0-9-]+)$")
SECTIONS = ("**What it means.**", "**First commands.**", "**Fix.**", "**Redrive.**")
# Anchors that are not an alarm's entry: the redrive reference the entries point to.
REFERENCE_ANCHORS = {"redrive", "console-redrive"}


def anchors(text: str) -> list[str]:
    return re.findall(r'<a id="([a-z0-9-]+)"></a>', text)


def entries(text: str) -> dict[str, str]:
    """Each anchor's entry: from its anchor to the next one."""
    parts = re.split(r'<a id="([a-z0-9-]+)"></a>', text)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def alarm_links(stacks: dict[str, StackJson]) -> dict[str, str]:
    """Alarm name (per stack) -> the runbook anchor its description ends with ('' if none)."""
    found = {}
    for stack in stacks.values():
        for alarm in stack.resources("aws_cloudwatch_metric_alarm"):
            match = LINK.search(alarm.body.get("alarm_description", ""))
            found[f"{stack.name}/{alarm.body['alarm_name']}"] = match.group(1) if match else ""
    return found


def test_every_alarm_description_ends_with_a_link_to_its_runbook_entry(stacks: dict[str, StackJson]) -> None:
    links = alarm_links(stacks)
    assert len(links) > 80, "every environment's alarms are read"
    assert sorted(name for name, anchor in links.items() if not anchor) == []


def test_every_linked_entry_exists_in_the_runbook(stacks: dict[str, StackJson]) -> None:
    present = set(anchors(RUNBOOK.read_text()))
    assert sorted({a for a in alarm_links(stacks).values() if a} - present) == []


def test_every_entry_belongs_to_an_alarm_the_stacks_create(stacks: dict[str, StackJson]) -> None:
    """No stale entry: each anchor is linked from an alarm, or is the redrive reference."""
    linked = set(alarm_links(stacks).values())
    assert sorted(set(anchors(RUNBOOK.read_text())) - linked - REFERENCE_ANCHORS) == []


def test_anchors_are_unique() -> None:
    found = anchors(RUNBOOK.read_text())
    assert len(found) == len(set(found))


def test_every_alarm_entry_says_what_it_means_what_to_run_how_to_fix_and_how_to_redrive() -> None:
    for anchor, entry in entries(RUNBOOK.read_text()).items():
        if anchor in REFERENCE_ANCHORS:
            continue
        assert [s for s in SECTIONS if s not in entry] == [], anchor


def test_every_description_fits_cloudwatchs_limit(stacks: dict[str, StackJson]) -> None:
    for stack in stacks.values():
        for alarm in stack.resources("aws_cloudwatch_metric_alarm"):
            assert len(alarm.body["alarm_description"]) <= 1024, alarm.body["alarm_name"]


def operator_commands(text: str) -> list[str]:
    """Every `python -m tools ...` command with options the runbook shows (in code blocks and inline code)."""
    return [c for c in re.findall(r"python -m tools ([a-z-]+[^`\n]*)", text) if " --" in c]


def test_the_runbook_shows_the_move_task_consequence_with_its_source() -> None:
    text = " ".join(entries(RUNBOOK.read_text())["console-redrive"].split())
    assert "a new messageID and enqueueTime are assigned to redriven messages" in text
    assert "(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/" \
           "sqs-configure-dead-letter-queue-redrive.html)" in text


@pytest.mark.parametrize("command", sorted(set(operator_commands(RUNBOOK.read_text()))))
def test_every_operator_command_in_the_runbook_parses(command: str) -> None:
    """A renamed command or option fails here rather than on call."""
    args = [a for a in shlex.split(command.replace("<queue>", "q")) if not a.startswith("<")]
    parsed = tools_cli.parser().parse_args(args)
    assert callable(parsed.handler)
