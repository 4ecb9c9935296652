"""Routing policy: YAML schema, loader with file:line errors, and the pure ``decide()``."""

from __future__ import annotations

from proxy.policy.decide import Facts, RuleTrace, decide, evaluate
from proxy.policy.loader import PolicyError, load_policy, parse_policy
from proxy.policy.model import Policy
from proxy.values import Decision, Route

__all__ = [
    "Decision",
    "Facts",
    "Policy",
    "PolicyError",
    "Route",
    "RuleTrace",
    "decide",
    "evaluate",
    "load_policy",
    "parse_policy",
]
