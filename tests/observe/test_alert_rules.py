"""deploy/prometheus: promtool accepts the config and rules, and the rules' unit tests pass.

promtool comes with Debian's ``prometheus`` package (in .ci/run's APT_PACKAGES); without it the
promtool tests are skipped. The coverage check (each alert has a firing and a silent case in
alerts_test.yml) needs only PyYAML.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
import yaml
from observe_support import PROMETHEUS_DIR, alert_rules, tool

PROMTOOL = tool("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool not installed (Debian package: prometheus)"
)


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        f"promtool {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    return result


@needs_promtool
def test_promtool_check_config() -> None:
    out = promtool("check", "config", "prometheus.yml")
    assert "1 rule files found" in out.stdout + out.stderr


@needs_promtool
def test_promtool_check_rules() -> None:
    out = promtool("check", "rules", "alerts.yml")
    assert f"{len(alert_rules())} rules found" in out.stdout + out.stderr


@needs_promtool
def test_promtool_test_rules() -> None:
    out = promtool("test", "rules", "alerts_test.yml")
    assert "SUCCESS" in out.stdout + out.stderr


def test_every_alert_has_firing_and_silent_unit_tests() -> None:
    doc: dict[str, Any] = yaml.safe_load(
        (PROMETHEUS_DIR / "alerts_test.yml").read_text(encoding="utf-8")
    )
    assert doc["rule_files"] == ["alerts.yml"]
    fires: set[str] = set()
    silent: set[str] = set()
    for case in doc["tests"]:
        for check in case.get("alert_rule_test", []):
            (fires if check["exp_alerts"] else silent).add(check["alertname"])
    names = {rule["alert"] for rule in alert_rules()}
    assert names == {
        "SekishoLocalUpstreamDownWithSensitiveTraffic",
        "SekishoFailClosedSpike",
        "SekishoCloudErrorRateHigh",
        "SekishoOverheadP99High",
        "SekishoPolicyReloadFailed",
    }
    assert names - fires == set(), "alerts without a firing unit test"
    assert names - silent == set(), "alerts without a not-firing unit test"


def test_alert_rules_are_labelled_and_documented() -> None:
    for rule in alert_rules():
        assert rule["labels"]["severity"] in ("critical", "warning"), rule["alert"]
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
        assert "sekisho_" in rule["expr"]
