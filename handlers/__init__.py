"""Lambda code of the pipeline: one package per stage, plus the code they share."""
