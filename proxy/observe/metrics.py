"""Every Prometheus metric Sekisho exports, in one place.

Label values are bounded: routes, actions, endpoints and upstream names are enumerations; rule
names come from the loaded policy; entity types from the documented vocabulary; tenants from
configuration. Nothing a client sends becomes a label value.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Millisecond resolution at the low end: detection and proxy overhead live there.
LATENCY_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.routing_decisions = Counter(
            "sekisho_routing_decisions_total",
            "Requests by where they went and which rule decided.",
            ["route", "action", "rule", "tenant", "endpoint"],
            registry=r,
        )
        self.pii_entities = Counter(
            "sekisho_pii_entities_total",
            "Detected entities by type (never their values).",
            ["entity_type", "language", "route"],
            registry=r,
        )
        self.request_duration = Histogram(
            "sekisho_request_duration_seconds",
            "Time from request received to response finished.",
            ["route", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.detection_duration = Histogram(
            "sekisho_detection_duration_seconds",
            "Time spent detecting entities per request.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.upstream_errors = Counter(
            "sekisho_upstream_errors_total",
            "Upstream failures by kind (connect, timeout, status_4xx, status_5xx, protocol).",
            ["upstream", "kind"],
            registry=r,
        )
        self.fallbacks = Counter(
            "sekisho_fallbacks_total",
            "Clean requests moved to another upstream after a failure.",
            ["from_upstream", "to_upstream"],
            registry=r,
        )
        self.fail_closed = Counter(
            "sekisho_fail_closed_total",
            "Requests kept off the cloud because Sekisho could not clear them.",
            ["reason"],
            registry=r,
        )
        self.in_flight = Gauge(
            "sekisho_in_flight_requests", "Requests being processed.", registry=r
        )
        self.policy_info = Gauge(
            "sekisho_policy_info", "The policies in force (1 per file).", ["version", "path"],
            registry=r,
        )
        self.policy_reloads = Counter(
            "sekisho_policy_reloads_total",
            "Policy and keys file reloads by result (success, error).",
            ["result"],
            registry=r,
        )
        self.shadow_disagreements = Counter(
            "sekisho_shadow_disagreements_total",
            "Requests the shadow policy would have routed differently.",
            ["active_route", "shadow_route", "rule"],
            registry=r,
        )
