"""A contract violation carries its reason code and message, and reads as both."""

from __future__ import annotations

from handlers.shared.errors import ContractViolation, Reason


def test_a_contract_violation_reads_as_its_code_and_message() -> None:
    exc = ContractViolation(Reason.INVALID_ID, "'id' is longer than 512 characters")

    assert str(exc) == "invalid_id: 'id' is longer than 512 characters"
    assert exc.args == ("invalid_id: 'id' is longer than 512 characters",)
    assert (exc.code, exc.message) == (Reason.INVALID_ID, "'id' is longer than 512 characters")
