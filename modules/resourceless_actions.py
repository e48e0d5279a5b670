"""The IAM actions that no resource can narrow: the only ones the project grants on ``"*"``, and what narrows each.

IAM's Service Authorization Reference defines these actions on no resource type, so a statement that grants
them must name ``"*"`` (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html,
list_amazoncloudwatch.html, list_awslambda.html, list_awskeymanagementservice.html,
list_applicationautoscaling.html: the "Resource types" column is empty for each). A write among them is narrowed
by a condition key instead. One list: the function roles (:mod:`.permissions`) and the CI roles
(:mod:`.ci_identities`) grant from it, and the project's policy check (tools/policy/checks.py) allows a ``"*"``
resource for these actions only, each write with its condition.
"""

from __future__ import annotations

from collections.abc import Mapping

#: action -> the condition key that a statement granting it on "*" must carry (None: a read or an upload that
#: no key narrows).
RESOURCELESS_ACTIONS: Mapping[str, str | None] = {
    "xray:PutTraceSegments": None,
    "xray:PutTelemetryRecords": None,
    "cloudwatch:PutMetricData": "cloudwatch:namespace",
    "lambda:CreateEventSourceMapping": "lambda:FunctionArn",
    "kms:CreateKey": "aws:RequestTag/Project",
    "kms:ListAliases": None,
    "application-autoscaling:DescribeScalableTargets": None,
    "application-autoscaling:DescribeScalingPolicies": None,
}


def unnarrowed(actions: set[str], condition_keys: set[str]) -> tuple[list[str], list[str]]:
    """For a statement on ``"*"``: the actions a resource could have narrowed (not in the list), and the
    condition keys it lacks for the writes among them."""
    narrowable = sorted(actions - set(RESOURCELESS_ACTIONS))
    missing = sorted({RESOURCELESS_ACTIONS[a] for a in actions if RESOURCELESS_ACTIONS.get(a)} - condition_keys)
    return narrowable, missing  # type: ignore[return-value]
