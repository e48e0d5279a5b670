"""tap-pipeline's library: CDKTF constructs and stacks, one concern per module (installed as ``tap_pipeline``)."""
