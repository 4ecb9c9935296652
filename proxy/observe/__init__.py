"""Observation: metrics and the audit log, built from decisions and timings, never content."""
