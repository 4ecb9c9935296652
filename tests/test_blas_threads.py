"""Detection processes run their matrix products in one thread (see ``proxy/__init__``)."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = (
    "import os, proxy.detection.nlp, numpy\n"
    "numpy.ones((64, 64)) @ numpy.ones((64, 64))\n"
    "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')))\n"
)


def test_importing_sekisho_keeps_openblas_to_one_thread() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    # Without the setting OpenBLAS starts one thread per core beside the main one.
    assert out == ["1", "1"]


def test_an_operators_setting_wins() -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, check=True, timeout=120).stdout.split()
    assert out[0] == "2"
