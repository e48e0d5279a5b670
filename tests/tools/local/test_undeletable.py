"""What the emulator can create but not delete leaves the state before a destroy, which would otherwise retry
until its timeout (moto has no DeleteDeploymentGroup nor DeleteApplication)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.local.stack import Deployment

LISTED = """aws_codedeploy_app.releases_application_978CFBC6
aws_codedeploy_deployment_group.releases_validator-group_8CF90FB0
aws_iam_role.releases_role_9A92087F
aws_lambda_alias.validator_alias_5791B2B0
"""


class Recorded(Deployment):
    """A deployment whose terraform commands are recorded, with ``listed`` as `state list`'s output."""

    listed: str = LISTED

    def terraform(self, *args: str, **kwargs: Any) -> tuple[int, str]:  # type: ignore[override]
        self.calls.append(args)  # type: ignore[attr-defined]
        return 0, self.listed if args[:2] == ("state", "list") else ""


def recorded(listed: str = LISTED) -> Recorded:
    deployment = Recorded(Path("."), "http://127.0.0.1:1")
    object.__setattr__(deployment, "calls", [])
    object.__setattr__(deployment, "listed", listed)
    return deployment


def test_codedeploy_resources_leave_the_state_before_the_destroy() -> None:
    deployment = recorded()
    deployment.destroy()
    assert deployment.calls == [  # type: ignore[attr-defined]
        ("state", "list"),
        ("state", "rm", "aws_codedeploy_app.releases_application_978CFBC6",
         "aws_codedeploy_deployment_group.releases_validator-group_8CF90FB0"),
        ("destroy", "-input=false", "-auto-approve"),
    ]


def test_without_them_the_state_is_left_as_it_is() -> None:
    deployment = recorded("aws_iam_role.validator_role_5EF3E2F1\n")
    assert deployment.forget_undeletable() == []
    assert deployment.calls == [("state", "list")]  # type: ignore[attr-defined]
