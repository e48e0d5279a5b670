"""The stage's Powertools logger and metrics (one of each per function)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

#: The namespace the infrastructure sets; used only if POWERTOOLS_METRICS_NAMESPACE is missing, because a
#: missing namespace makes Powertools raise at flush time, after the batch's work is already done.
DEFAULT_METRICS_NAMESPACE = "TapPipeline"

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE)
