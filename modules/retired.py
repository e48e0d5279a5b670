"""Resources of earlier releases that Terraform forgets without destroying them (``removed`` blocks)."""

from __future__ import annotations

from cdktf import TerraformElement, TerraformStack
from constructs import Construct

REMOVED_FILE = "removed.tf"


class RetiredResource(TerraformElement):
    """A ``removed { from = <type>.<id>; lifecycle { destroy = false } }`` block (Terraform >= 1.7).

    Placed at the construct path the resource had, so that its address is the one in existing states.
    For a resource whose destroy would undo what a resource still in the configuration sets: Terraform
    orders a removed resource's destroy before the update of what it depended on, and when that update
    is a no-op (the state already holds the same value) nothing sets the value again.
    The block goes to ``removed.tf`` beside the stack (:func:`removed_tf`), not into cdk.tf.json, whose
    top-level list would crash checkov's terraform_json parser (as ``required_version`` does,
    bridgecrewio/checkov#7454).
    """

    def __init__(self, scope: Construct, id_: str, resource_type: str) -> None:
        super().__init__(scope, id_, resource_type)
        self.resource_type = resource_type

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.friendly_unique_id}"


def retire(scope: Construct, id_: str, resource_type: str) -> RetiredResource:
    """Forget, without destroying, the ``resource_type`` that an earlier release created as ``scope``/``id_``."""
    return RetiredResource(scope, id_, resource_type)


def retired_addresses(scope: Construct) -> list[str]:
    """The addresses retired under ``scope`` (a stack or any construct in it), sorted."""
    return sorted(c.address for c in scope.node.find_all() if isinstance(c, RetiredResource))


def removed_tf(stack: TerraformStack) -> str:
    """The HCL of the stack's ``removed`` blocks, one per retired resource ("" when there is none)."""
    return "".join(
        f"removed {{\n  from = {address}\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
        for address in retired_addresses(stack)
    )
