"""How the processor's writer classifies AWS errors: retry, isolate the item, or fail; and what it logs."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ParamValidationError, ReadTimeoutError

from handlers.processor import store


def client_error(code: str | None = None, status: int | None = None) -> ClientError:
    response: dict = {}
    if code is not None:
        response["Error"] = {"Code": code, "Message": "m"}
    if status is not None:
        response["ResponseMetadata"] = {"HTTPStatusCode": status}
    return ClientError(response, "BatchWriteItem")


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                  "RequestLimitExceeded", "InternalServerError", "ServiceUnavailable",
                                  "InternalFailure"])
def test_throttling_and_server_error_codes_are_retried(code: str) -> None:
    assert store.is_retryable(client_error(code, 400))


@pytest.mark.parametrize(("status", "retryable"), [(499, False), (500, True), (501, True), (503, True)])
def test_any_5xx_status_is_retried_whatever_the_code(status: int, retryable: bool) -> None:
    assert store.is_retryable(client_error("SomethingNew", status)) is retryable
    assert store.is_retryable(client_error(None, status)) is retryable, "an answer without an Error block"


def test_an_answer_without_status_or_known_code_is_not_retried() -> None:
    assert store.is_retryable(client_error("AccessDeniedException")) is False
    assert store.is_retryable(client_error()) is False


def test_network_failures_are_retried_and_other_errors_are_not() -> None:
    assert store.is_retryable(EndpointConnectionError(endpoint_url="https://dynamodb"))
    assert store.is_retryable(ReadTimeoutError(endpoint_url="https://dynamodb"))
    assert store.is_retryable(ParamValidationError(report="bad")) is False
    assert store.is_retryable(ValueError("x")) is False


@pytest.mark.parametrize(("error", "blamed"), [
    (client_error("ValidationException", 400), True),
    (client_error("SerializationException", 400), True),
    (client_error("ProvisionedThroughputExceededException", 400), False),
    (client_error(None, 400), False),
    (ParamValidationError(report="bad"), True),
    (EndpointConnectionError(endpoint_url="https://dynamodb"), False),
])
def test_only_content_errors_blame_an_item(error: Exception, blamed: bool) -> None:
    assert store.blames_an_item(error) is blamed


@pytest.mark.parametrize(("error", "code"), [
    (client_error("ValidationException", 400), "ValidationException"),
    (client_error(None, 500), "ClientError"),
    (ClientError({"Error": {"Message": "no code"}}, "PutItem"), "ClientError"),
    (EndpointConnectionError(endpoint_url="https://dynamodb"), "EndpointConnectionError"),
])
def test_error_code_is_the_aws_code_or_the_class_name(error: Exception, code: str) -> None:
    assert store.error_code(error) == code
