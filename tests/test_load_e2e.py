"""The bounded load test at a small scale (``bench/soak.py`` runs it at full scale): clean and
sensitive prompts at concurrency 64 while the policy reloads and the local upstream flaps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from soak import soak


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_under_load_and_faults_nothing_leaks_nothing_fails_unintended_nothing_grows() -> None:
    report = asyncio.run(soak(requests=1500, concurrency=64, warmup=192, detection_workers=1,
                              reload_every_s=0.7, flap_every_s=1.2, limit_s=120))
    print(report.as_dict())
    assert report.requests == 1500
    assert report.reloads >= 2 and report.flaps >= 1, "the faults did not happen during the load"
    assert report.reloads_applied >= 2, "Sekisho did not apply the edited policy"
    assert report.sensitive_sent == 500
    assert report.leaked == []
    assert report.unintended == {}
    # Some sensitive requests met the local upstream down: they were refused, not sent on.
    assert report.outcomes[(200, "local")] > 0 and report.outcomes[(200, "cloud")] > 0
    assert report.rss_end_mib < report.rss_warm_mib * 1.10
    assert report.detection_rss_end_mib < report.detection_rss_warm_mib * 1.10
    assert report.fds_end <= report.fds_warm + 8
