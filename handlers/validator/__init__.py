"""Validator stage: checks each record against the contract, forwards or rejects it."""
