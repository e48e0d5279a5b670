"""Cost-allocation tags: five from the provider's default tags, and a Component tag per construct."""

from __future__ import annotations

from collections.abc import Mapping


def component_tags(component: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Tags every resource of one construct carries on top of the provider's default tags."""
    return {"Component": component, **(extra or {})}
