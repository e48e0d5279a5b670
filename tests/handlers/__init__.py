"""Tests of the Lambda handlers, against moto in-process."""
