"""``decide()``: findings and request facts in, a ``Decision`` out. Pure: no I/O, no globals."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from proxy.exchange import Endpoint
from proxy.policy.model import Action, Decision, Policy, Route, Rule

DETECTION_FAILED = "DETECTION_FAILED"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule can look at. ``entities`` pairs each entity type with its score."""

    endpoint: Endpoint
    entities: tuple[tuple[str, float], ...]
    model: str | None = None


@dataclass(frozen=True, slots=True)
class RuleTrace:
    rule: str
    matched: bool
    reason: str


def _match(rule: Rule, facts: Facts) -> tuple[bool, frozenset[str], str]:
    if rule.endpoints is not None and facts.endpoint not in rule.endpoints:
        return False, frozenset(), f"endpoint {facts.endpoint.value} not in rule endpoints"
    if not rule.entity_types:
        return True, frozenset(), "no entity condition"
    counts: Counter[str] = Counter(
        name
        for name, score in facts.entities
        if name in rule.entity_types and score >= rule.min_score
    )
    total = sum(counts.values())
    if total >= rule.min_count:
        found = ", ".join(sorted(counts))
        return True, frozenset(counts), f"{total} entit{'y' if total == 1 else 'ies'}: {found}"
    if total:
        return False, frozenset(), f"{total} matching entities, fewer than {rule.min_count}"
    return False, frozenset(), f"no entity of these types with score >= {rule.min_score}"


def evaluate(policy: Policy, facts: Facts) -> tuple[Decision, list[RuleTrace]]:
    """Decide and say why: every rule in order with whether it matched and what decided it."""
    if any(name == DETECTION_FAILED for name, _ in facts.entities):
        # Fail closed before any rule: content the detector could not clear is never sent to
        # the cloud, whatever the policy says.
        decision = Decision(
            Route.LOCAL, "fail_closed", Action.FAIL_CLOSED, policy.version,
            frozenset({DETECTION_FAILED}),
        )
        return decision, [RuleTrace("fail_closed", True, "detection failed or timed out")]
    trace: list[RuleTrace] = []
    for rule in policy.rules:
        matched, types, reason = _match(rule, facts)
        trace.append(RuleTrace(rule.name, matched, reason))
        if matched:
            return (
                Decision(rule.route, rule.name, Action.FORWARD, policy.version, types,
                         rule.message),
                trace,
            )
    trace.append(RuleTrace("default", True, "no rule matched"))
    return (
        Decision(policy.default_route, "default", Action.FORWARD, policy.version, frozenset(),
                 policy.default_message),
        trace,
    )


def decide(policy: Policy, facts: Facts) -> Decision:
    return evaluate(policy, facts)[0]
