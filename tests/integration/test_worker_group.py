"""The integration tests run on one xdist worker, as XDIST_GROUPS (tests/conftest.py) asks."""

from __future__ import annotations

import pytest


def test_this_folder_is_scheduled_as_the_terraform_init_group(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("xdist_group").args == ("terraform-init",)
    if request.config.getoption("dist", "no") == "loadgroup":
        # xdist schedules by the "@group" suffix its own collection hook adds when it sees the mark: without
        # it, every worker would set up the group's fixtures again (a deployment each, for the e2e modules).
        assert request.node.nodeid.endswith("@terraform-init"), request.node.nodeid
