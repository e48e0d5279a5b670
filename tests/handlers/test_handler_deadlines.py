"""Every stage stops calling AWS when the time left cannot cover a call's worst case, and reports the
records it could not send as batch item failures instead of running into Lambda's timeout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from handlers.shared import clients
from handlers.shared.errors import ConfigurationError
from handlers.validator import app as validator
from tests.handlers.conftest import BASE_ENV, UNSET_ENV, Aws
from tests.handlers.helpers import NOW_MS, FakeContext, failures, sqs_event, sqs_record

ROOT = Path(__file__).resolve().parents[2]
#: With the probe's limits one call takes 1.0 s against a silent endpoint and 1.1 s at worst; 1 s is kept as
#: margin. So the first call fits in 2.5 s (1.5 s >= 1.1 s) and a second does not (0.5 s < 1.1 s).
BUDGET_S = 2.5


def test_default_worst_case_is_attempts_times_timeouts_plus_retry_pauses() -> None:
    # 3 attempts x (2 s connect + 5 s read) + botocore's standard-mode pauses of at most 1 s and 2 s.
    assert clients.CallLimits().worst_case_call_s == 24.0, "3 x 7 s + 1 s + 2 s"
    assert clients.CallLimits(1, 1, 1).worst_case_call_s == 2.0, "a single attempt has no pause"
    assert clients.CallLimits(0.5, 0.5, 7).worst_case_call_s == 7 + (1 + 2 + 4 + 8 + 16 + 20), (
        "pauses double up to botocore's 20 s cap"
    )


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_AWS_CONNECT_TIMEOUT_S", "0.5")
    monkeypatch.setenv("TAP_AWS_READ_TIMEOUT_S", "1.5")
    monkeypatch.setenv("TAP_AWS_MAX_ATTEMPTS", "2")

    limits = clients.CallLimits.from_env()

    assert limits == clients.CallLimits(0.5, 1.5, 2), "each variable overrides its default"
    config = limits.config()
    assert (config.connect_timeout, config.read_timeout) == (0.5, 1.5), "the client config follows"
    assert config.retries == {"mode": "standard", "total_max_attempts": 2}, "and so do the attempts"


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_bad_limit_is_refused_with_its_name(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("TAP_AWS_READ_TIMEOUT_S", value)

    with pytest.raises(ConfigurationError, match="TAP_AWS_READ_TIMEOUT_S.*positive float"):
        clients.CallLimits.from_env()


class SlowSqs:
    """The moto client, except that each call uses up ``seconds`` of the invocation's time."""

    def __init__(self, real: Any, context: FakeContext, seconds: float) -> None:
        self.real, self.context, self.seconds = real, context, seconds
        self.calls = 0

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        self.context.remaining_ms -= self.seconds * 1000
        return self.real.send_message_batch(**kwargs)


def test_validator_reports_exactly_the_chunk_it_has_no_time_to_send(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validator, "now_ms", lambda: NOW_MS)
    # 30 s left: the first call fits (29 s >= 24 s), takes 10 s, and the second would not (19 s < 24 s).
    context = FakeContext(remaining_ms=30_000)
    slow = SlowSqs(aws.sqs, context, seconds=10)
    clients.set_client("sqs", slow)
    records = [
        sqs_record({"id": f"r{n}", "timestamp": NOW_MS, "data": {}}, message_id=f"m{n:02d}") for n in range(15)
    ]

    response = validator.handler(sqs_event(*records), context)

    assert response == failures(*(f"m{n:02d}" for n in range(10, 15))), "the second chunk of 5 is reported"
    assert slow.calls == 1, "the call that could outlast the invocation is not made"
    assert len(aws.drain(aws.output_url)) == 10, "the first chunk of 10 was sent"


@pytest.fixture(scope="module")
def probe() -> dict[str, Any]:
    """The three stages run once against a never-answering endpoint, in a clean interpreter."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET_ENV}
    env.update(BASE_ENV)
    env["PYTHONPATH"] = str(ROOT)
    completed = subprocess.run(
        [sys.executable, "-m", "tests.handlers.deadline_probe", str(BUDGET_S)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    for line in completed.stdout.splitlines():
        if line.startswith("PROBE-RESULT "):
            return json.loads(line.removeprefix("PROBE-RESULT "))
    raise AssertionError(f"the probe printed no result (exit {completed.returncode}):\n{completed.stderr}")


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("validator", ["v0", "v1", "v2", "v-bad1", "v-bad2"]),
        ("enricher", ["e0", "e1", "e2", "e-bad"]),
        ("processor", ["p0", "p1", "p2"]),
    ],
)
def test_stage_returns_before_its_deadline_against_a_silent_endpoint(
    probe: dict[str, Any], stage: str, expected: list[str]
) -> None:
    result = probe[stage]

    assert sorted(f["itemIdentifier"] for f in result["response"]["batchItemFailures"]) == sorted(expected), (
        "every record not sent or stored is a batch item failure"
    )
    assert result["elapsed_s"] < BUDGET_S - 1.0, (
        f"{stage} returned after {result['elapsed_s']:.2f} s, inside its margin of 1 s"
    )
    assert result["connections"] == 1, "one call fitted in the time; the next one was not attempted"
