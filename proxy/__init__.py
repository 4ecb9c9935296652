"""Sekisho: a privacy-enforcing routing proxy for LLM traffic."""

from __future__ import annotations

import os

__version__ = "0.1.0"

# Detection is one thread per process by design (proxy.detection.runner): concurrency comes from
# detection processes, one per core. NumPy's OpenBLAS, which English NER multiplies matrices
# with (proxy.detection.nlp), would otherwise start a thread per core in every process, and
# those threads spin while they wait: with two detection workers on two cores, throughput at
# 16 concurrent requests fell from 88 to 9 requests a second (bench/http_bench.py). Set here,
# before anything imports NumPy; spawned detection workers inherit it. An operator's own
# setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
