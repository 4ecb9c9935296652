"""The ``Exchange``: the whole story of one request, filled in stage by stage.

The request id and tenant (middlewares), the parsed body (parsing), the inspection with its
findings and decision (inspection), the plan and every upstream attempt with the body it sent
and what came of it (forwarding), and the answer's usage (the response stage). Nothing reads a
request's outcome from anywhere else: headers, metrics and the audit line are derived from the
finished Exchange (``observe.record``), so they cannot disagree.

"Route" means one thing here: where the body went — the upstream of the last attempt if it may
have reached it, else ``block`` (refused, or no upstream reached).

An Exchange holds content (the body, the forwarded copies); it never leaves the process and is
never logged. ``observe.record`` takes types, counts, names and timings from it, nothing else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from proxy.attempts import Plan, Target
from proxy.inspection import Inspection
from proxy.pseudonyms import Pseudonyms
from proxy.values import Action, Decision, Endpoint, Route


@dataclass
class Attempt:
    """One try of one upstream: the body it was sent and what came back."""

    target: Target
    upstream: str
    body: dict[str, Any]
    """What this upstream was sent: the original body (or its redacted copy, on the cloud),
    transformed for this target."""
    model: str | None
    redacted: int = 0
    """Spans replaced by ``<TYPE>`` in ``body``."""
    pseudonymized: int = 0
    """Spans replaced by placeholders in ``body``."""
    covered: dict[str, frozenset[str]] = field(default_factory=dict)
    """``redact`` / ``pseudonymize`` → entity types every finding of which was replaced so."""
    pseudonyms: Pseudonyms | None = None
    """This attempt's mapping (only in memory, only for this request)."""
    restored: int = 0
    """Placeholders put back into the answer."""
    retry: bool = False
    """Sent again after an attempt of the same target that delivered nothing."""
    client_gone: bool = False
    """The client went away before the answer was complete (the upstream was cut off)."""
    hides_usage: bool = False
    """Sekisho asked for the stream's usage; the client did not."""
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0
    status: int | None = None
    """The upstream's HTTP status, if it answered."""
    failure: str | None = None
    """``connect``, ``timeout`` or ``protocol`` when no (whole) answer came."""
    delivered: bool = True
    """Whether the body may have reached the upstream (False only for a failure that sent
    nothing: a refused connection, no connection in time)."""
    interrupted: bool = False
    """A relayed stream ended early."""
    first_chunk_seconds: float | None = None
    """From sending to the first chunk of a relayed stream."""
    relayed: bool = False
    """The client got this attempt's answer."""
    usage: dict[str, Any] | None = None

    def done(self) -> None:
        self.seconds = time.perf_counter() - self.started

    @property
    def cut_short(self) -> str | None:
        """Why the answer the client got is not the upstream's whole answer, if it is not:
        ``client_gone``, ``stream_interrupted`` or ``upstream_bad_stream``."""
        if self.client_gone:
            return "client_gone"
        if self.interrupted:
            return "stream_interrupted"
        if self.relayed and self.failure == "protocol":
            return "upstream_bad_stream"
        return None


@dataclass
class Exchange:
    request_id: str
    endpoint: Endpoint | None
    """None for a request to a path that is not an inspected endpoint."""
    tenant: str = "default"
    started: float = field(default_factory=time.perf_counter)
    body: dict[str, Any] | None = None
    inspection: Inspection | None = None
    detection_seconds: float | None = None
    detection_timings: dict[str, float] = field(default_factory=dict)
    plan: Plan | None = None
    attempts: list[Attempt] = field(default_factory=list)
    fail_closed: list[str] = field(default_factory=list)
    """Why the request was kept off the cloud against what was asked, in order
    (``detection_timeout``, ``uninspectable``, ``local_unavailable`` …)."""
    rate_limited: str | None = None
    """The tenant limit that refused the request (``requests``, ``tokens``, ``concurrency``)."""
    status: int = 0

    @property
    def decision(self) -> Decision | None:
        return self.inspection.decision if self.inspection is not None else None

    @property
    def stream(self) -> bool:
        return self.body is not None and self.body.get("stream") is True

    @property
    def requested_model(self) -> str | None:
        model = self.body.get("model") if self.body is not None else None
        return model if isinstance(model, str) else None

    @property
    def last_attempt(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def answered(self) -> Attempt | None:
        """The last attempt that got an HTTP answer."""
        return next((a for a in reversed(self.attempts) if a.status is not None), None)

    @property
    def relayed(self) -> Attempt | None:
        return next((a for a in self.attempts if a.relayed), None)

    @property
    def route(self) -> Route:
        last = self.last_attempt
        return last.target.route if last is not None and last.delivered else Route.BLOCK

    @property
    def fallback(self) -> bool:
        return any(a.target.fallback for a in self.attempts)

    @property
    def action(self) -> Action:
        if "local_unavailable" in self.fail_closed:
            return Action.FAIL_CLOSED
        if self.fallback:
            return Action.FALLBACK
        decision = self.decision
        return decision.action if decision is not None else Action.FORWARD

    @property
    def rule(self) -> str:
        """The deciding rule; ``none`` when the request was refused before a policy decided."""
        decision = self.decision
        return decision.rule if decision is not None else "none"

    @property
    def policy_version(self) -> str | None:
        decision = self.decision
        return decision.policy_version if decision is not None else None

    @property
    def fail_reason(self) -> str | None:
        return self.fail_closed[0] if self.fail_closed else None

    @property
    def delivered(self) -> Attempt | None:
        """The attempt whose body went where the request went (the last, if it may have been
        delivered): what was replaced in it is what the upstream saw."""
        last = self.last_attempt
        return last if last is not None and last.delivered else None

    @property
    def redacted(self) -> int:
        """Spans redacted in the body that went where the request went."""
        delivered = self.delivered
        return delivered.redacted if delivered is not None else 0

    @property
    def upstream_seconds(self) -> float:
        """Time spent on upstreams, failed attempts included."""
        return sum(a.seconds for a in self.attempts)
