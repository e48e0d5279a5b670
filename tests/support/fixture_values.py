"""What the tests' own environments file (tests/fixtures/environments.toml) sets, written out once.

Tests compare the fixture's settings and synthesized stacks with these values, never with values read through
the code under test: a wrong reading must fail a test, not move its expectation along with it.
``tests/unit/test_settings_rules.py`` checks that the fixture loads to exactly these.
"""

from __future__ import annotations

ENVIRONMENTS = ("local", "dev", "staging", "prod")
STAGES = ("validator", "enricher", "processor")

LOG_RETENTION_DAYS = {"local": 1, "dev": 14, "staging": 30, "prod": 90}
# reserved / max concurrency of every stage
CONCURRENCY = {"local": (10, 5), "dev": (10, 5), "staging": (10, 5), "prod": (50, 20)}
PROVISIONED = {"local": {}, "dev": {}, "staging": {}, "prod": {"processor": 2}}
# (min, max, target) of the provisioned tables; the others are on-demand
PROVISIONED_TABLE = {"prod": {"read": (5, 200, 70.0), "write": (10, 500, 70.0)}}
DELETION_PROTECTION = {"local": False, "dev": False, "staging": True, "prod": True}
STATE_BACKEND = {"local": "local", "dev": "s3", "staging": "s3", "prod": "s3"}
# MB per stage, the same in every environment (the library's stage defaults).
MEMORY_MB = {"validator": 128, "enricher": 128, "processor": 256}
# Every stage queue's redrive, and how long its DLQ keeps a record (the library's defaults).
MAX_RECEIVE_COUNT = 5
DLQ_RETENTION_S = 14 * 24 * 3600

# A preview environment runs on dev's settings (preview_from).
PREVIEW_OF = "dev"
