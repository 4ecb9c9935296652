"""Every shipped policy carries example requests, and they all get the route they promise.

Runs each file's ``tests:`` through the real detector and ``decide()`` (what
``sekisho policy test`` does), and checks that the incident-mode policy never routes to the cloud.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.config import Settings
from proxy.detection.detector import Detector
from proxy.policy import Facts, Route, decide, evaluate, load_policy
from proxy.tools.policy_tests import run_policy_tests
from proxy.values import Endpoint

ROOT = Path(__file__).resolve().parents[2]
POLICIES = sorted((ROOT / "policies").glob("**/*.yaml"))
LOCKDOWN = ROOT / "policies" / "examples" / "lockdown.yaml"
EXPECTED_EXAMPLES = ("healthcare", "finance", "manufacturing", "customer-support", "lockdown")
MIN_TESTS = 6


def test_example_policies_exist() -> None:
    found = {p.stem for p in POLICIES if p.parent.name == "examples"}
    missing = sorted(set(EXPECTED_EXAMPLES) - found)
    assert not missing, f"missing example policies: {missing}"


@pytest.mark.parametrize("path", POLICIES, ids=[str(p.relative_to(ROOT)) for p in POLICIES])
def test_policy_examples_pass(path: Path, detector: Detector) -> None:
    policy = load_policy(path)
    assert len(policy.tests) >= MIN_TESTS, (
        f"{path.name} has {len(policy.tests)} tests under `tests:`, expected at least {MIN_TESTS}"
    )
    results = run_policy_tests(policy, detector, Settings())
    assert len(results) == len(policy.tests)
    failures = [f"{r.name}: expected {r.expected}, got {r.got}" for r in results if not r.passed]
    assert not failures, f"{path.name}: {len(failures)} failing test(s):\n" + "\n".join(failures)


LOCKDOWN_FACTS = [
    Facts(Endpoint.CHAT, ()),
    Facts(Endpoint.COMPLETIONS, (), text="write a haiku about autumn."),
    Facts(Endpoint.EMBEDDINGS, (("DATE_TIME", 0.85), ("LOCATION", 0.6))),
    Facts(Endpoint.RESPONSES, (("PERSON", 0.85), ("EMAIL_ADDRESS", 1.0)), model="gpt-4o"),
    Facts(
        Endpoint.CHAT,
        (("CREDIT_CARD", 1.0),),
        tenant="support",
        headers={"x-team": "cs"},
        tokens=50_000,
    ),
    Facts(Endpoint.CHAT, (("SECRET_OPENAI_KEY", 0.9), ("CONTENT_IMAGE", 1.0))),
]


@pytest.mark.parametrize("facts", LOCKDOWN_FACTS)
def test_lockdown_never_routes_to_the_cloud(facts: Facts) -> None:
    policy = load_policy(LOCKDOWN)
    decision, trace = evaluate(policy, facts)
    assert decision.route is Route.LOCAL, trace
    assert decision == decide(policy, facts)


def test_lockdown_has_no_cloud_route_at_all() -> None:
    policy = load_policy(LOCKDOWN)
    assert policy.default_route is Route.LOCAL
    cloud_rules = [rule.name for rule in policy.rules if rule.route is Route.CLOUD]
    assert not cloud_rules, f"lockdown rules routing to the cloud: {cloud_rules}"
    decision = decide(policy, Facts(Endpoint.CHAT, ()))
    assert (decision.route, decision.rule) == (Route.LOCAL, "default")
