"""The attempt plan as a table: every decision, conversation owner and fallback setting.

The invariant the table pins: a decision that is not ``cloud`` never yields a cloud target.
"""

from __future__ import annotations

import itertools

import pytest

from proxy.attempts import CIRCUIT_OPEN, CONVERSATION_ON_CLOUD, Plan, Target, plan
from proxy.values import Route

CLOUD, LOCAL, BLOCK = Route.CLOUD, Route.LOCAL, Route.BLOCK
FALLBACK = Target(LOCAL, fallback=True)

TABLE = [
    # route, owner, cloud_fallback → plan
    (CLOUD, None, True, Plan((Target(CLOUD), FALLBACK))),
    (CLOUD, None, False, Plan((Target(CLOUD),))),
    (LOCAL, None, True, Plan((Target(LOCAL),))),
    (LOCAL, None, False, Plan((Target(LOCAL),))),
    (BLOCK, None, True, Plan(())),
    (BLOCK, None, False, Plan(())),
    # A conversation continues where its history is.
    (CLOUD, CLOUD, True, Plan((Target(CLOUD),))),
    (CLOUD, LOCAL, True, Plan((Target(LOCAL),))),
    (LOCAL, LOCAL, True, Plan((Target(LOCAL),))),
    (LOCAL, LOCAL, False, Plan((Target(LOCAL),))),
    # ... but a cloud conversation cannot take input that must stay on-prem.
    (LOCAL, CLOUD, True, Plan((), refusal=CONVERSATION_ON_CLOUD)),
    (LOCAL, CLOUD, False, Plan((), refusal=CONVERSATION_ON_CLOUD)),
    (BLOCK, CLOUD, True, Plan(())),
    (BLOCK, LOCAL, True, Plan(())),
]


@pytest.mark.parametrize(("route", "owner", "fallback", "expected"), TABLE)
def test_plan_table(route: Route, owner: Route | None, fallback: bool, expected: Plan) -> None:
    assert plan(route, owner=owner, cloud_fallback=fallback) == expected


def test_no_decision_but_cloud_ever_yields_a_cloud_target() -> None:
    owners: list[Route | None] = [None, CLOUD, LOCAL]
    for route, owner, fallback in itertools.product(list(Route), owners, [True, False]):
        result = plan(route, owner=owner, cloud_fallback=fallback)
        if route is not CLOUD:
            assert all(t.route is LOCAL for t in result.targets), (route, owner, fallback)
        if route is BLOCK:
            assert result.targets == ()
        # Only a cloud target is ever followed by another, and only by the local fallback.
        assert all(t.route is CLOUD for t in result.targets[:-1])
        assert all(t.fallback == (i > 0) for i, t in enumerate(result.targets))


ONLY_LOCAL = frozenset({LOCAL})
ONLY_CLOUD = frozenset({CLOUD})
NONE: frozenset[Route] = frozenset()


@pytest.mark.parametrize(
    ("route", "owner", "fallback", "available", "expected"),
    [
        # An open cloud breaker sends a clean request straight to its fallback ...
        (CLOUD, None, True, ONLY_LOCAL, Plan((FALLBACK,))),
        # ... or nowhere, when it may not fall back.
        (CLOUD, None, False, ONLY_LOCAL, Plan((), refusal=CIRCUIT_OPEN)),
        (CLOUD, None, True, NONE, Plan((), refusal=CIRCUIT_OPEN)),
        # A local decision never gains the cloud because local is open.
        (LOCAL, None, True, ONLY_CLOUD, Plan((), refusal=CIRCUIT_OPEN)),
        (LOCAL, LOCAL, True, ONLY_CLOUD, Plan((), refusal=CIRCUIT_OPEN)),
        # A cloud conversation cannot move to local because the cloud is open.
        (CLOUD, CLOUD, True, ONLY_LOCAL, Plan((), refusal=CIRCUIT_OPEN)),
        (CLOUD, None, True, ONLY_CLOUD, Plan((Target(CLOUD),))),
    ],
)
def test_open_breakers_only_remove_targets(route: Route, owner: Route | None, fallback: bool,
                                           available: frozenset[Route], expected: Plan) -> None:
    assert plan(route, owner=owner, cloud_fallback=fallback, available=available) == expected


def test_no_availability_ever_adds_a_cloud_target_to_a_local_decision() -> None:
    owners: list[Route | None] = [None, CLOUD, LOCAL]
    sets = [NONE, ONLY_LOCAL, ONLY_CLOUD, frozenset({CLOUD, LOCAL})]
    for route, owner, fallback, available in itertools.product(
            list(Route), owners, [True, False], sets):
        full = plan(route, owner=owner, cloud_fallback=fallback)
        limited = plan(route, owner=owner, cloud_fallback=fallback, available=available)
        assert {t.route for t in limited.targets} <= {t.route for t in full.targets}
        if route is not CLOUD:
            assert all(t.route is LOCAL for t in limited.targets)
