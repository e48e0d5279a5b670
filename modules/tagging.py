"""Cost-allocation tags: the environment's tags on every taggable resource, and a Component tag per construct."""

from __future__ import annotations

from collections.abc import Mapping

import jsii
from cdktf import IAspect, TerraformResource
from constructs import IConstruct

from .terraform_values import is_expression, merged


def component_tags(component: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags every resource of one construct carries on top of the environment's tags."""
    return {"Component": component, **(extra or {})}


@jsii.implements(IAspect)
class ResourceTags:
    """Puts ``tags`` on every taggable resource below the scope it is added to, under the resource's own tags.

    The repository's stacks give the environment's tags through their provider's default tags; in a stack
    of someone else's, whose provider tags as it likes, :class:`.pipeline.TapPipeline` adds this, so that its
    resources carry the cost tags wherever it is deployed. A resource's own tags (its Component) win, and
    resource tags win over the provider's default tags of the same key:
    https://registry.terraform.io/providers/hashicorp/aws/latest/docs/guides/resource-tagging
    """

    def __init__(self, tags: Mapping[str, str]) -> None:
        # A Terraform expression (the module's tags variable) stays what it is.
        self.tags = tags if is_expression(tags) else dict(tags)

    def visit(self, node: IConstruct) -> None:
        # Taggable resource bindings have a `tags` argument, whose raw input `tags_input` holds.
        if isinstance(node, TerraformResource) and hasattr(type(node), "tags_input"):
            node.tags = merged(self.tags, node.tags_input or {})  # type: ignore[attr-defined]
