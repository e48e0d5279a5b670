"""The documents' computed parts (resource counts, cost tables, test counts, the configuration reference, the
operator commands, the sample review), written between markers by one command: ``python -m tools docs``."""
