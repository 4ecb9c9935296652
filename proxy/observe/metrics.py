"""Every Prometheus metric Sekisho exports, in one place.

Label values are bounded — nothing a client sends becomes a label value:
- ``route`` cloud|local|block; ``action`` forward|redact|pseudonymize|fallback|fail_closed;
  ``endpoint`` chat|completions|embeddings|responses; ``upstream`` cloud|local;
- ``rule``: rule names of the loaded policies, plus ``default``, ``fail_closed``,
  ``uninspectable``, ``none``;
- ``tenant``: ``default`` and the tenants of the keys file;
- ``entity_type``: the documented vocabulary; ``language`` en|ja|none (``all`` for detection
  time of a whole request);
- ``model``: configured models (local model, aliases, price table) and models the upstreams
  list; anything else is ``other``;
- ``reason``/``kind``/``result``: fixed enumerations in the code.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``sekisho serve --workers N``), values live in files shared
by the worker processes and one scrape of any worker shows the whole instance.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

# Millisecond resolution at the low end: detection and proxy overhead live there.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
OTHER = "other"


def multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


class Metrics:
    def __init__(self) -> None:
        # Each application gets its own registry (tests run several apps in one process); in
        # multiprocess mode values go to the shared files and are collected from there.
        self.registry = CollectorRegistry()
        r = None if multiprocess() else self.registry
        self.routing_decisions = Counter(
            "sekisho_routing_decisions_total",
            "Requests by where they went, what was done, which rule of which policy version "
            "decided.",
            ["route", "action", "rule", "tenant", "endpoint", "policy_version"], registry=r,
        )
        self.pii_entities = Counter(
            "sekisho_pii_entities_total",
            "Detected entities by type (never their values) and the request's action.",
            ["entity_type", "language", "action"], registry=r,
        )
        self.request_duration = Histogram(
            "sekisho_request_duration_seconds",
            "Time from request received to response finished.",
            ["route", "endpoint"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.detection_duration = Histogram(
            "sekisho_detection_duration_seconds",
            "Detection time per language analysed, and per request (language=all).",
            ["language"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.upstream_duration = Histogram(
            "sekisho_upstream_duration_seconds",
            "Time from sending to an upstream until its answer was fully relayed.",
            ["upstream"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.upstream_ttft = Histogram(
            "sekisho_upstream_ttft_seconds",
            "Time to the first streamed chunk from an upstream.",
            ["upstream"], buckets=LATENCY_BUCKETS, registry=r,
        )
        self.overhead = Histogram(
            "sekisho_overhead_seconds",
            "Time Sekisho adds to a request: total minus time waiting on upstreams.",
            buckets=LATENCY_BUCKETS, registry=r,
        )
        self.upstream_errors = Counter(
            "sekisho_upstream_errors_total",
            "Upstream failures by kind (connect, timeout, status_4xx, status_5xx, "
            "stream_interrupted, protocol, redirect, models).",
            ["upstream", "kind"], registry=r,
        )
        self.fallbacks = Counter(
            "sekisho_fallbacks_total",
            "Clean requests moved to another upstream after a failure.",
            ["from", "to"], registry=r,
        )
        self.fail_closed = Counter(
            "sekisho_fail_closed_total",
            "Requests kept off the cloud because Sekisho could not clear them "
            "(detection_timeout, detection_too_long, detection_budget, detection_error, "
            "detection_overloaded, uninspectable, local_unavailable).",
            ["reason"], registry=r,
        )
        self.retries = Counter(
            "sekisho_upstream_retries_total",
            "Requests sent again to the same upstream after a failure that delivered nothing.",
            ["upstream"], registry=r,
        )
        self.pool_waits = Counter(
            "sekisho_upstream_pool_waits_total",
            "Requests that waited for a free connection of an upstream's pool.",
            ["upstream"], registry=r,
        )
        self.circuit_state = Gauge(
            "sekisho_circuit_state",
            "Each upstream's circuit breaker: 0 closed, 1 half-open, 2 open.",
            ["upstream"], registry=r, multiprocess_mode="mostrecent",
        )
        self.circuit_transitions = Counter(
            "sekisho_circuit_transitions_total",
            "Circuit breaker state changes by upstream and new state.",
            ["upstream", "state"], registry=r,
        )
        self.client_disconnects = Counter(
            "sekisho_client_disconnects_total",
            "Clients that went away before their answer was complete (the upstream request "
            "is cancelled).", ["endpoint"], registry=r,
        )
        self.state_errors = Counter(
            "sekisho_state_errors_total",
            "Calls to the shared state backend that failed or were skipped while it was down:"
            " lookup and remember (conversation owners), limits.", ["operation"], registry=r,
        )
        self.rate_limited = Counter(
            "sekisho_rate_limited_total",
            "Requests refused with 429 by a tenant limit: requests, tokens or concurrency.",
            ["tenant", "limit"], registry=r,
        )
        self.connections_refused = Counter(
            "sekisho_connections_refused_total",
            "Client connections refused or closed by a listener bound: limit (too many open),"
            " header_timeout, body_timeout.", ["reason"], registry=r,
        )
        self.in_flight = Gauge(
            "sekisho_in_flight_requests", "Requests being processed.", registry=r,
            multiprocess_mode="livesum",
        )
        self.upstream_up = Gauge(
            "sekisho_upstream_up",
            "1 when the upstream answered its last health probe or request, 0 when refused.",
            # Across workers the latest observation wins: one worker that just saw the local
            # upstream refuse a connection must not be outvoted by another's older success.
            ["upstream"], registry=r, multiprocess_mode="mostrecent",
        )
        self.tokens = Counter(
            "sekisho_tokens_total",
            "Tokens reported by upstreams (usage), streams included.",
            ["upstream", "model", "kind"], registry=r,
        )
        self.cloud_cost = Counter(
            "sekisho_cloud_cost_usd_total",
            "Cloud spend estimated from usage and the configured price table.",
            ["model"], registry=r,
        )
        self.cloud_cost_avoided = Counter(
            "sekisho_cloud_cost_avoided_usd_total",
            "What requests served locally would have cost on the requested cloud model.",
            ["model"], registry=r,
        )
        self.policy_info = Gauge(
            "sekisho_policy_info", "The policies in force (1 per file).", ["version", "path"],
            registry=r, multiprocess_mode="max",
        )
        self.policy_reloads = Counter(
            "sekisho_policy_reloads_total",
            "Policy and keys file reloads by result (success, error).",
            ["result"], registry=r,
        )
        self.shadow_disagreements = Counter(
            "sekisho_shadow_disagreements_total",
            "Requests the shadow policy would have routed differently.",
            ["active_route", "shadow_route", "rule"], registry=r,
        )
        # Fixed label sets exist from the start at 0, so rate() and increase() see the very
        # first event of each kind (a series that appears at 1 has no earlier sample).
        for reason in ("detection_timeout", "detection_too_long", "detection_budget",
                       "detection_error", "detection_overloaded", "uninspectable",
                       "local_unavailable"):
            self.fail_closed.labels(reason)
        for result in ("success", "error"):
            self.policy_reloads.labels(result)
        for upstream in ("cloud", "local"):
            for kind in ("connect", "timeout", "status_4xx", "status_5xx",
                         "stream_interrupted", "protocol", "redirect", "models"):
                self.upstream_errors.labels(upstream, kind)
            self.retries.labels(upstream)
            self.pool_waits.labels(upstream)
            self.circuit_state.labels(upstream).set(0)
            for state in ("closed", "half_open", "open"):
                self.circuit_transitions.labels(upstream, state)
        self.fallbacks.labels(**{"from": "cloud", "to": "local"})
        self._policies: set[tuple[str, str]] = set()
        if multiprocess():
            MultiProcessCollector(self.registry)  # type: ignore[no-untyped-call]

    def set_policies(self, active: set[tuple[str, str]]) -> None:
        """``sekisho_policy_info``: 1 for each (version, path) in force."""
        if multiprocess():
            # Series cannot be removed from the shared files: superseded versions are set to 0,
            # so dashboards select the policies in force with `sekisho_policy_info == 1`.
            for version, path in self._policies - active:
                self.policy_info.labels(version, path).set(0)
        else:
            self.policy_info.clear()
        for version, path in active:
            self.policy_info.labels(version, path).set(1)
        self._policies = set(active)
