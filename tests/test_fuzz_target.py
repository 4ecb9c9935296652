"""The coverage-guided fuzz target (``bench/fuzz.py``, atheris) runs a bounded campaign from the
labelled corpus's requests and finds no violation of the parser's and extraction's invariants."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None,
                    reason="atheris is not installed (its wheels are for x86-64 Linux only)")
def test_the_fuzz_target_runs_a_bounded_campaign_without_a_finding(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fuzz.py"), "--seeds", str(tmp_path / "seeds"),
         "-runs=30000", "-max_len=4096", f"-artifact_prefix={tmp_path}/"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 30000 runs" in result.stderr
    assert not list(tmp_path.glob("crash-*"))
