"""AWS clients: one per container, production botocore Config, emulator endpoint from the environment."""

from __future__ import annotations

import pytest

from handlers.shared import clients


@pytest.fixture(autouse=True)
def fresh_clients() -> None:
    """Each test starts without cached clients (the aws fixture of other tests re-injects its own)."""
    clients.reset()


def test_client_is_created_once_and_cached() -> None:
    assert clients.sqs() is clients.sqs(), "the client must be made once per container"


def test_reset_builds_a_new_client() -> None:
    first = clients.dynamodb()
    clients.reset()

    assert clients.dynamodb() is not first, "reset must drop the cached client"


def test_set_client_injects_a_replacement() -> None:
    fake = object()
    clients.set_client("sqs", fake)

    assert clients.sqs() is fake, "an injected client must be returned"


def test_clients_use_standard_retries_and_explicit_timeouts() -> None:
    config = clients.sqs().meta.config

    assert config.retries == {"mode": "standard", "total_max_attempts": 3}, "standard retry mode, 3 attempts"
    assert (config.connect_timeout, config.read_timeout) == (2, 5), "explicit connect and read timeouts"
    assert config.tcp_keepalive is True, "TCP keep-alive on (botocore leaves it off unless asked)"


def test_region_comes_from_aws_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    monkeypatch.delenv("AWS_DEFAULT_REGION")

    assert clients.dynamodb().meta.region_name == "ap-southeast-2", "Lambda sets AWS_REGION"


def test_aws_endpoint_url_is_honoured_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")

    assert clients.sqs().meta.endpoint_url == "http://127.0.0.1:5999", "botocore reads AWS_ENDPOINT_URL"
    assert clients.dynamodb().meta.endpoint_url == "http://127.0.0.1:5999", "for every service"


def test_service_specific_endpoint_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:6000")

    assert clients.dynamodb().meta.endpoint_url == "http://127.0.0.1:6000", "AWS_ENDPOINT_URL_<SERVICE> wins"


def test_endpoint_set_after_first_use_needs_a_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    before = clients.sqs().meta.endpoint_url
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")

    assert clients.sqs().meta.endpoint_url == before, "a cached client keeps its endpoint"
    clients.reset()
    assert clients.sqs().meta.endpoint_url == "http://127.0.0.1:5999", "after reset the new endpoint is used"


def test_without_aws_region_the_region_comes_from_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")

    assert clients.sqs().meta.region_name == "sa-east-1", "botocore's own fallback when AWS_REGION is unset"


def test_aws_region_wins_over_aws_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "sa-east-1")

    assert clients.sqs().meta.region_name == "ap-southeast-2"
