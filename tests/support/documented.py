"""The README's environments table and defaults, written out once for the tests.

Tests compare settings and synthesized stacks with these values, never with values read from
``modules.settings``: a wrong setting must fail a test, not move its expectation along with it.
``tests/unit/test_settings_rules.py`` checks that the README still says the same.
"""

from __future__ import annotations

ENVIRONMENTS = ("local", "dev", "staging", "prod")
STAGES = ("validator", "enricher", "processor")

# | log retention | 1 day | 14 days | 30 days | 90 days |
LOG_RETENTION_DAYS = {"local": 1, "dev": 14, "staging": 30, "prod": 90}
# | reserved / max concurrency | 10 / 5 | 10 / 5 | 10 / 5 | 50 / 20 |
CONCURRENCY = {"local": (10, 5), "dev": (10, 5), "staging": (10, 5), "prod": (50, 20)}
# | provisioned concurrency | – | – | – | processor: 2 |
PROVISIONED = {"local": {}, "dev": {}, "staging": {}, "prod": {"processor": 2}}
# | table | on-demand | on-demand | on-demand | provisioned, autoscaling 5–200 reads, 10–500 writes, 70 % |
PROVISIONED_TABLE = {"prod": {"read": (5, 200, 70.0), "write": (10, 500, 70.0)}}
# | deletion protection | off | off | on | on |
DELETION_PROTECTION = {"local": False, "dev": False, "staging": True, "prod": True}
# | state | local disk | S3 + DynamoDB lock | ... |
STATE_BACKEND = {"local": "local", "dev": "s3", "staging": "s3", "prod": "s3"}
# "Memory, by measurement": configured MB per stage, the same in every environment.
MEMORY_MB = {"validator": 128, "enricher": 128, "processor": 256}
# `QueueWithDeadLetter`: "redrive after 5 receives, DLQ keeps 14 days".
MAX_RECEIVE_COUNT = 5
DLQ_RETENTION_S = 14 * 24 * 3600

# A preview environment runs on dev's settings.
PREVIEW_OF = "dev"
