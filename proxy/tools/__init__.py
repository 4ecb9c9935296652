"""Tooling built on the one inspection (``proxy.inspection``): explain, policy tests, the
detection evaluation and benchmark. Never imported by the core."""
