"""The HTTP benchmark runs end to end (bench/http_bench.py): wrk against the instant upstream,
the pass-through, Sekisho with inspection off and Sekisho, in one short run.

Its figures are not checked (performance is measured by the benchmark, not by tests); what is
checked is that it measures what it says: every request answered, sensitive prompts routed
on-prem and clean ones to the cloud (so the prompts it generates reach detection as text), and
every section of the report filled.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("wrk") is None,
                    reason="wrk is not installed (make bench-setup; .ci/run installs it)")
def test_one_short_run_measures_every_part(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "http_bench.py"), "--duration", "1",
         "--concurrency", "1,4", "--cases", "sensitive-ja,cached-en,chat-20",
         "--long", "en:3000,ja:3000", "--detection-workers", "1", "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(out.read_text(encoding="utf-8"))
    cells = {(c["case"], c["target"], c["concurrency"]): c for c in report["cells"]}
    for target in ("upstream", "passthrough", "off"):
        for concurrency in (1, 4):
            assert cells["fresh-en", target, concurrency]["requests"] > 0
    for cell in report["cells"]:
        assert cell["errors"] == 0 and set(cell["statuses"]) == {"200"}, cell
    for concurrency in (1, 4):
        sensitive = cells["sensitive-ja", "sekisho", concurrency]
        assert sensitive["requests"] > 0 and set(sensitive["routes"]) == {"local"}, sensitive
        assert cells["cached-en", "sekisho", concurrency]["routes"].get("cloud", 0) > 0
        assert "ratio_to_passthrough" in cells["chat-20", "sekisho", concurrency]
    # Inspection off forwards everything to the cloud; the pass-through sets no Sekisho header.
    assert set(cells["fresh-en", "off", 1]["routes"]) == {"cloud"}
    assert set(cells["fresh-en", "passthrough", 1]["routes"]) == {"-"}
    assert report["startup_to_ready_s"] > 0
    assert set(report["warm_start"]) == {"first_en_ms", "first_ja_ms",
                                         "median_of_next_100_en_ms", "median_of_next_100_ja_ms"}
    assert report["stream"]["ttfb_sekisho_ms"] > 0
    assert [(r["language"], r["chars"]) for r in report["long"]] == [("en", 3000), ("ja", 3000)]
    for when in ("after_start", "under_load"):
        assert set(report["processes"][when]) == {"serving", "detection-1"}
