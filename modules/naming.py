"""Every AWS name a pipeline environment creates, so that two environments can be checked for clashes.

Names are ``<project>-<thing>-<suffix>`` plus a fixed tail per resource (``-dlq``, ``-role``, an
alarm's metric).  IAM names are account-wide and queue, function, table and alarm names are
region-wide, so a preview whose names equal another environment's would take over its resources.
tests/unit/test_naming.py checks this list against the synthesized stacks.
"""

from __future__ import annotations

ALARM_TOPIC = "pipeline-alarms"
# The environment's KMS key, whose alias is alias/<project>-pipeline-<suffix>.
KEY = "pipeline"
DASHBOARD = "pipeline"
REJECTS_QUEUE = "rejects"
TABLE = "data-table"
# The queue that feeds each stage, in pipeline order.
SOURCE_QUEUES = {"validator": "ingest", "enricher": "enrich", "processor": "process"}
DLQ_TAIL = "-dlq"
#: The alias every event source mapping invokes, and that a release moves from version to version.
ALIAS_NAME = "live"
# The CodeDeploy application of an environment whose releases are gradual; its service role adds -role.
RELEASES = "releases"

_FUNCTION_TAILS = ("", "-role", "-least-privilege", "-errors", "-throttles", "-p99-duration")
# A dead-letter or rejects queue, and its two alarms.
_TERMINAL_QUEUE_TAILS = ("", "-not-empty", "-arrivals")
# The CodeDeploy application, its service role and the role's policy.
_RELEASES_TAILS = ("", "-role", "-least-privilege")
_TABLE_TAILS = ("", "-read-throttles", "-write-throttles", "-read-utilization", "-write-utilization")
LOG_GROUP_PREFIX = "/aws/lambda/"
KEY_ALIAS_PREFIX = "alias/"


def resource_name(project: str, thing: str, suffix: str) -> str:
    """``tap-validator-prod``: the project first, so that several projects can share an account."""
    return f"{project}-{thing}-{suffix}"


def environment_names(project: str, suffix: str) -> frozenset[str]:
    """Every name the environment ``suffix`` may create (table autoscaling names included)."""
    def name(thing: str) -> str:
        return resource_name(project, thing, suffix)

    names = {name(ALARM_TOPIC), name(DASHBOARD), name(REJECTS_QUEUE), f"{KEY_ALIAS_PREFIX}{name(KEY)}"}
    names.update(f"{name(RELEASES)}{tail}" for tail in _RELEASES_TAILS)
    names.update(f"{name(REJECTS_QUEUE)}{tail}" for tail in _TERMINAL_QUEUE_TAILS)
    names.update(f"{name(TABLE)}{tail}" for tail in _TABLE_TAILS)
    for stage, queue in SOURCE_QUEUES.items():
        dlq = f"{name(queue)}{DLQ_TAIL}"
        names.update({name(queue), f"{name(queue)}-oldest-message-age"})
        names.update(f"{dlq}{tail}" for tail in _TERMINAL_QUEUE_TAILS)
        names.update(f"{name(stage)}{tail}" for tail in _FUNCTION_TAILS)
        names.add(f"{LOG_GROUP_PREFIX}{name(stage)}")
    return frozenset(names)


def shared_names(project: str, suffix: str, others: tuple[str, ...]) -> dict[str, list[str]]:
    """The names ``suffix`` would share with each of ``others`` (an empty list where it shares none)."""
    mine = environment_names(project, suffix)
    return {other: sorted(mine & environment_names(project, other)) for other in others if other != suffix}
