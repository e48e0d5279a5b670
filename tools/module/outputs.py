"""What each output of the module is, for its description and the README's outputs table.

The outputs are :meth:`modules.pipeline.PipelineResources.output_values`, named ``<thing>_<attribute>``.
"""

from __future__ import annotations

_THINGS = {
    "table": "the records table",
    "alarm_topic": "the SNS topic every alarm notifies",
    "key": "the environment's customer-managed KMS key",
    "dashboard": "the environment's CloudWatch dashboard",
    "rejects_queue": "the queue of records that failed validation, each with its reason",
    "ingest_queue": "the queue producers send records to (SendMessage)",
    "enrich_queue": "the queue between the validator and the enricher",
    "process_queue": "the queue between the enricher and the processor",
}
_ATTRIBUTES = {"arn": "ARN", "name": "name", "url": "URL"}


def output_description(name: str) -> str:
    """``ingest_dlq_url`` -> "The URL of the dead-letter queue of the queue producers send records to ..."."""
    thing, attribute = name.rsplit("_", 1)
    if thing.endswith("_function"):
        stage = thing.removesuffix("_function")
        what = f"the {stage} function" + (" (unqualified)" if attribute == "arn" else "")
    elif thing.endswith("_alias"):
        what = f"the alias `live` of the {thing.removesuffix('_alias')} function, which its queue invokes"
    elif thing.endswith("_dlq"):
        what = f"the dead-letter queue of {_THINGS[thing.removesuffix('_dlq') + '_queue']}"
    else:
        what = _THINGS[thing]
    return f"The {_ATTRIBUTES[attribute]} of {what}."
