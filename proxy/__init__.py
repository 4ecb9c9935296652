"""Sekisho: a privacy-enforcing routing proxy for LLM traffic."""

from __future__ import annotations

__version__ = "0.1.0"
