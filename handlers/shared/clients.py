"""AWS clients, made once per container on first use, replaceable in tests; and the one place that
bounds how long an AWS call may take.

botocore (>= 1.31) reads ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>`` itself, so pointing the
handlers at an emulator needs no code here: set the variable before the first call (or ``reset()`` after).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from handlers.shared.errors import ConfigurationError

if TYPE_CHECKING:
    from botocore.config import Config
    from botocore.session import Session

#: Environment variables that override the call limits (tests use short ones; Lambda keeps the defaults).
CONNECT_TIMEOUT_ENV = "TAP_AWS_CONNECT_TIMEOUT_S"
READ_TIMEOUT_ENV = "TAP_AWS_READ_TIMEOUT_S"
MAX_ATTEMPTS_ENV = "TAP_AWS_MAX_ATTEMPTS"

#: botocore's standard retry mode sleeps up to min(2 ** (n - 1), 20) s before retry n
#: (botocore/retries/standard.py, ExponentialBackoff with base 2 and a 20 s cap).
_STANDARD_RETRY_BASE_S = 2
_STANDARD_RETRY_CAP_S = 20


@dataclass(frozen=True)
class CallLimits:
    """Timeouts and attempts of every AWS call, and the longest one call can therefore block."""

    connect_timeout_s: float = 2.0
    read_timeout_s: float = 5.0
    #: The first call and two retries; standard mode retries throttling, 5xx answers and timeouts.
    max_attempts: int = 3

    def config(self) -> Config:
        """The botocore Config every client gets."""
        from botocore.config import Config  # deferred with the clients, see session()

        return Config(
            retries={"mode": "standard", "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout_s,
            read_timeout=self.read_timeout_s,
            tcp_keepalive=True,
        )

    @property
    def worst_case_call_s(self) -> float:
        """Seconds one call can block: each attempt's connect and read timeouts, plus botocore's pauses
        between attempts at their largest. (The read timeout bounds each wait for data, so a server that
        trickles bytes could take longer; AWS endpoints answer whole.)"""
        pauses = sum(
            min(_STANDARD_RETRY_BASE_S ** retry, _STANDARD_RETRY_CAP_S) for retry in range(self.max_attempts - 1)
        )
        return self.max_attempts * (self.connect_timeout_s + self.read_timeout_s) + pauses

    @classmethod
    def from_env(cls) -> CallLimits:
        """The defaults, overridden by the TAP_AWS_* variables; ConfigurationError for a bad value."""
        defaults = cls()
        return cls(
            connect_timeout_s=_positive(CONNECT_TIMEOUT_ENV, float, defaults.connect_timeout_s),
            read_timeout_s=_positive(READ_TIMEOUT_ENV, float, defaults.read_timeout_s),
            max_attempts=int(_positive(MAX_ATTEMPTS_ENV, int, defaults.max_attempts)),
        )


def _positive(name: str, kind: type[float] | type[int], default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(
            f"environment variable {name}={text!r} is invalid: use a positive {kind.__name__}, "
            f"or unset it for the default {default}"
        )
    return value


_clients: dict[str, Any] = {}
_limits: CallLimits | None = None
_session: Session | None = None


def session() -> Session:
    """The botocore session every client comes from, made on first use.

    botocore rather than boto3: a low-level SQS or DynamoDB client is the same either way (boto3's own
    hooks serve S3 and its resource API), and importing boto3 also imports s3transfer. Nothing AWS is
    imported until the first call needs a client, so a handler module imports in a fraction of the time.
    """
    global _session
    if _session is None:
        from botocore.session import get_session

        _session = get_session()
    return _session


def limits() -> CallLimits:
    """The limits the current clients were (or will be) built with, read from the environment once."""
    global _limits
    if _limits is None:
        _limits = CallLimits.from_env()
    return _limits


def get(service: str) -> Any:
    """The cached client for ``service`` ("sqs", "dynamodb"), created on first use."""
    client = _clients.get(service)
    if client is None:
        # None lets botocore fall back to AWS_DEFAULT_REGION (and the config file) itself.
        region = os.environ.get("AWS_REGION")
        client = session().create_client(service, region_name=region, config=limits().config())
        _clients[service] = client
    return client


def sqs() -> Any:
    """The SQS client."""
    return get("sqs")


def dynamodb() -> Any:
    """The DynamoDB client."""
    return get("dynamodb")


def set_client(service: str, client: Any) -> None:
    """Use ``client`` for ``service`` from now on (tests, local runner)."""
    _clients[service] = client


def reset() -> None:
    """Forget every cached client, the session and the limits, so the next call reads the environment
    again."""
    global _limits, _session
    _clients.clear()
    _limits = None
    _session = None
