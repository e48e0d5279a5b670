"""Names the handlers share with the infrastructure that deploys them, in a module with no side effects.

The stacks and tools import these; importing ``observability`` instead would create the stage's
Powertools logger, which binds the ``sys.stdout`` of that moment (the local runner must import the
handlers only after it has put its per-function log router in place).
"""

#: The namespace the infrastructure sets; used only if POWERTOOLS_METRICS_NAMESPACE is missing, because a
#: missing namespace makes Powertools raise at flush time, after the batch's work is already done.
DEFAULT_METRICS_NAMESPACE = "TapPipeline"

#: Message attribute holding the SentTimestamp (ms) of the producer's first message, carried by every redrive
#: (tools/redrive.py) and every reject, so that a record without ``timestamp`` keeps its key when sent again.
ORIGINAL_SENT_TIMESTAMP = "original_sent_timestamp"
