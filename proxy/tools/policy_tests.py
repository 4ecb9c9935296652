"""Policy tests: the example requests a policy file carries under ``tests:``, run for real.

Each test goes through the same extraction, detection and decision as live traffic, so a
compliance team can check an edit in CI (``sekisho policy test FILE…``) before rolling it out.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.config import Settings
from proxy.detection.detector import Analyzer
from proxy.errors import ProxyError
from proxy.policy.model import Policy
from proxy.tools.explain import explain


@dataclass(frozen=True, slots=True)
class TestResult:
    name: str
    passed: bool
    expected: str
    got: str


def run_policy_tests(policy: Policy, detector: Analyzer, settings: Settings) -> list[TestResult]:
    results = []
    for test in policy.tests:
        expected = test.route.value + (f" by {test.rule}" if test.rule else "")
        try:
            report = explain(test.request, test.endpoint, policy, detector, settings,
                             tenant=test.tenant, headers=test.headers)
        except ProxyError as err:
            results.append(TestResult(test.name, False, expected, f"invalid request: {err}"))
            continue
        got = f"{report['route']} by {report['rule']}"
        passed = report["route"] == test.route.value and (
            test.rule is None or report["rule"] == test.rule
        )
        results.append(TestResult(test.name, passed, expected, got))
    return results
