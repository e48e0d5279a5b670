"""CDKTF constructs and stacks of tap-pipeline, one concern per module."""
