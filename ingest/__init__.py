"""`kefu ingest`: exports -> DuckDB, with source mappings, validation, quarantine, audit and PII protection.

Entry point: :func:`ingest.loader.ingest`; docs/ingest.md describes the tables and the mapping format.
"""
