"""Processor stage: stores records in DynamoDB with BatchWriteItem."""
