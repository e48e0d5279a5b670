"""The CI identities stack of the session's synthesis: ``[ci]`` of tests/fixtures/environments.toml."""

from __future__ import annotations

ACCOUNT = "111122223333"  # the test session's account (tests/conftest.py)
REPOSITORY = "acme/tap-pipeline"  # [ci].repository of tests/fixtures/environments.toml
STACK = "tap-pipeline-ci"
