"""The plan of upstream attempts for one decision: which targets to try, in order. Pure.

A decision to keep a request local yields only the local upstream — never the cloud, by retry,
fallback or anything else; the table test pins it. A request the policy cleared for the cloud
may fall back to the local upstream when the cloud fails (``cloud_fallback_to_local``), since it
may go anywhere. A Responses conversation stays on the upstream that holds its history: a
follow-up of a local conversation goes local whatever the decision, a follow-up of a cloud
conversation goes to the cloud (no fallback: local has no such history), and a cloud
conversation whose new input must stay on-prem cannot continue at all (``refusal``). An
upstream whose circuit breaker is open is left out (``available``); when that leaves nothing
to try, the plan is refused too.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.values import Route


@dataclass(frozen=True, slots=True)
class Target:
    route: Route
    fallback: bool = False
    """Tried because the cloud failed: the request was cleared for the cloud."""


@dataclass(frozen=True, slots=True)
class Plan:
    targets: tuple[Target, ...]
    refusal: str | None = None
    """Why the request may go nowhere (``conversation_on_cloud``)."""


CONVERSATION_ON_CLOUD = "conversation_on_cloud"
CIRCUIT_OPEN = "upstream_circuit_open"


def plan(route: Route, *, owner: Route | None = None, cloud_fallback: bool = True,
         available: frozenset[Route] = frozenset({Route.CLOUD, Route.LOCAL})) -> Plan:
    """The targets for a decision's ``route``, given the conversation's ``owner`` (if any),
    whether requests cleared for the cloud may fall back to local
    (``cloud_fallback_to_local``), and which upstreams' circuit breakers let requests through
    (``available``): an open breaker only ever removes targets, never adds one."""
    if route is Route.BLOCK:
        return Plan(())
    if owner is Route.CLOUD and route is Route.LOCAL:
        return Plan((), refusal=CONVERSATION_ON_CLOUD)
    if owner is not None:
        targets: tuple[Target, ...] = (Target(owner),)
    elif route is Route.LOCAL:
        targets = (Target(Route.LOCAL),)
    else:
        fallback = (Target(Route.LOCAL, fallback=True),) if cloud_fallback else ()
        targets = (Target(Route.CLOUD), *fallback)
    kept = tuple(t for t in targets if t.route in available)
    if kept and kept[0].fallback:
        # The cloud is skipped: the fallback is the only target, tried as one.
        kept = (Target(Route.LOCAL, fallback=True),)
    return Plan(kept, refusal=None if kept else CIRCUIT_OPEN)
