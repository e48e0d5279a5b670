"""Enricher stage: adds the documented fields and forwards the record."""
