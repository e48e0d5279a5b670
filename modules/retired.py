"""Resources of earlier releases that Terraform forgets without destroying them (``removed`` blocks)."""

from __future__ import annotations

from cdktf import TerraformElement
from constructs import Construct


class RetiredResource(TerraformElement):
    """A ``removed { from = <type>.<id>; lifecycle { destroy = false } }`` block (Terraform >= 1.7).

    Placed at the construct path the resource had, so that its address is the one in existing states.
    For a resource whose destroy would undo what a resource still in the configuration sets: Terraform
    orders a removed resource's destroy only after the resources it depended on are destroyed, never
    after their updates, so the two API calls may land in either order.
    """

    def __init__(self, scope: Construct, id_: str, resource_type: str) -> None:
        super().__init__(scope, id_, resource_type)
        self.resource_type = resource_type

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.friendly_unique_id}"

    def to_terraform(self) -> dict[str, object]:
        # The stack merges every element's blocks, concatenating lists: one entry per retired resource.
        return {"removed": [{"from": self.address, "lifecycle": {"destroy": False}}]}


def retire(scope: Construct, id_: str, resource_type: str) -> RetiredResource:
    """Forget, without destroying, the ``resource_type`` that an earlier release created as ``scope``/``id_``."""
    return RetiredResource(scope, id_, resource_type)
