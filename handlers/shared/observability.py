"""The stage's Powertools logger and metrics (one of each per function)."""

from __future__ import annotations

import os

from aws_lambda_powertools import Logger, Metrics

from handlers.shared.names import DEFAULT_METRICS_NAMESPACE

logger = Logger()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE)
