"""Metrics and the audit line of one request, recorded once, from its finished ``Exchange``.

The one place a request's story becomes evidence: every routing-decision, entity, detection,
upstream, fallback, fail-closed, token and cost metric, and the audit line, derived from the
same Exchange, so they cannot disagree with each other or with the response headers. Only
types, counts, bounded names and timings are taken — never a value, a prompt or an answer.
Model names are client input: only names the catalog knows are written, anything else is
``other``, so a prompt pasted into ``model`` never reaches a metric label or the audit log.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from proxy.catalog import Catalog
from proxy.config import Settings
from proxy.detection.subjects import values_of
from proxy.exchange import Attempt, Exchange
from proxy.observe.audit import AuditLog, entity_counts, keyed_hash, now_iso
from proxy.observe.metrics import OTHER, Metrics
from proxy.values import Route

log = logging.getLogger("sekisho.observe")

# Findings at or above this score are the audit's "entities"; weaker ones are listed apart, so
# a report does not raise alarms over a 0.45 guess that no policy acted on.
CONFIDENT = 0.5


class Recorder:
    def __init__(self, metrics: Metrics, audit: AuditLog, settings: Settings,
                 catalog: Catalog) -> None:
        self.metrics = metrics
        self.audit = audit
        self.settings = settings
        self.catalog = catalog

    def record(self, exchange: Exchange) -> None:
        """Everything one finished request counts for (inspected endpoints only)."""
        assert exchange.endpoint is not None
        seconds = time.perf_counter() - exchange.started
        m = self.metrics
        route, action = exchange.route, exchange.action
        m.routing_decisions.labels(
            route.value, action.value, exchange.rule, exchange.tenant, exchange.endpoint.value,
            exchange.policy_version or "none",
        ).inc()
        m.request_duration.labels(route.value, exchange.endpoint.value).observe(seconds)
        m.overhead.observe(max(seconds - exchange.upstream_seconds, 0.0))
        self._detection(exchange)
        for attempt in exchange.attempts:
            self._attempt(attempt, exchange.endpoint.value)
        if exchange.fallback:
            m.fallbacks.labels(**{"from": "cloud", "to": "local"}).inc()
        for reason in exchange.fail_closed:
            m.fail_closed.labels(reason).inc()
        if exchange.rate_limited is not None:
            m.rate_limited.labels(exchange.tenant, exchange.rate_limited).inc()
        relayed = exchange.relayed
        if relayed is not None and relayed.usage is not None:
            self._usage(exchange, relayed)
        self.audit.write(self.audit_line(exchange, seconds))

    def _detection(self, exchange: Exchange) -> None:
        m = self.metrics
        inspection = exchange.inspection
        if exchange.detection_seconds is not None:
            for language, spent in exchange.detection_timings.items():
                m.detection_duration.labels(language).observe(spent)
            m.detection_duration.labels("all").observe(exchange.detection_seconds)
        if inspection is None:
            return
        action = exchange.action.value
        for f in inspection.findings:
            language = f.language if f.language in ("en", "ja") else "none"
            m.pii_entities.labels(f.entity_type, language, action).inc()
        shadow, decision = inspection.shadow, inspection.decision
        if shadow is not None and shadow.route is not decision.route:
            m.shadow_disagreements.labels(decision.route.value, shadow.route.value,
                                          shadow.rule).inc()
            log.info("shadow policy disagrees: active %s/%s, shadow %s/%s (request %s)",
                     decision.route.value, decision.rule, shadow.route.value, shadow.rule,
                     exchange.request_id)

    def _attempt(self, attempt: Attempt, endpoint: str) -> None:
        m = self.metrics
        name = attempt.upstream
        m.upstream_duration.labels(name).observe(attempt.seconds)
        if attempt.retry:
            m.retries.labels(name).inc()
        if attempt.client_gone:
            m.client_disconnects.labels(endpoint).inc()
        if attempt.status is not None:
            m.upstream_up.labels(name).set(1)
            status = attempt.status
            if 300 <= status < 400:
                m.upstream_errors.labels(name, "redirect").inc()
            elif status >= 400:
                m.upstream_errors.labels(name, f"status_{status // 100}xx").inc()
        if attempt.failure is not None:
            m.upstream_errors.labels(name, attempt.failure).inc()
            if attempt.failure == "connect" and attempt.status is None:
                m.upstream_up.labels(name).set(0)
        if attempt.interrupted:
            m.upstream_errors.labels(name, "stream_interrupted").inc()
        if attempt.first_chunk_seconds is not None:
            m.upstream_ttft.labels(attempt.target.route.value).observe(
                attempt.first_chunk_seconds)

    def _usage(self, exchange: Exchange, attempt: Attempt) -> None:
        assert attempt.usage is not None
        prompt, completion = usage_tokens(attempt.usage)
        model = attempt.model or OTHER
        label = self.catalog.label(model) or OTHER
        m = self.metrics
        m.tokens.labels(attempt.upstream, label, "prompt").inc(prompt)
        m.tokens.labels(attempt.upstream, label, "completion").inc(completion)
        prices = self.settings.prices
        if attempt.target.route is Route.CLOUD and model in prices:
            m.cloud_cost.labels(model).inc(prices[model].cost(prompt, completion))
        elif attempt.target.route is Route.LOCAL:
            # What the same tokens would have cost on the cloud model the client asked for.
            cloud_model = self.settings.cloud_model(exchange.requested_model) or ""
            if cloud_model in prices:
                m.cloud_cost_avoided.labels(cloud_model).inc(
                    prices[cloud_model].cost(prompt, completion))

    def audit_line(self, exchange: Exchange, seconds: float) -> dict[str, Any]:
        inspection = exchange.inspection
        decision = exchange.decision
        findings = inspection.findings if inspection is not None else []
        types = [f.entity_type for f in findings if f.score >= CONFIDENT]
        weak = [f.entity_type for f in findings if f.score < CONFIDENT]
        last, answered = exchange.last_attempt, exchange.answered
        delivered = exchange.delivered
        redacted = exchange.redacted
        known = self.catalog.known()
        assert exchange.endpoint is not None
        record: dict[str, Any] = {
            "time": now_iso(),
            "request_id": exchange.request_id,
            "tenant": exchange.tenant,
            "endpoint": exchange.endpoint.value,
            "requested_model": self.catalog.label(exchange.requested_model, known),
            "forwarded_model": self.catalog.label(last.model if last is not None else None,
                                                  known),
            "route": exchange.route.value,
            "action": exchange.action.value,
            "rule": exchange.rule,
            "policy_version": exchange.policy_version,
            "redacted": redacted,
            "entities": entity_counts(_without(types, decision.allowed if decision else ())),
            "allowed_entities": entity_counts(list(decision.allowed) if decision else []),
            "low_confidence_entities": entity_counts(weak),
            "redacted_types": sorted(delivered.covered.get("redact", ()))
            if delivered is not None and delivered.redacted else [],
            "pseudonymized": dict(sorted(delivered.pseudonyms.issued.items()))
            if delivered is not None and delivered.pseudonyms is not None else {},
            "pseudonymized_types": sorted(delivered.covered.get("pseudonymize", ()))
            if delivered is not None and delivered.pseudonymized else [],
            "restored": delivered.restored if delivered is not None else 0,
            "detection_ms": round((exchange.detection_seconds or 0.0) * 1000, 2),
            "upstream_ms": round(exchange.upstream_seconds * 1000, 2),
            "total_ms": round(seconds * 1000, 2),
            "upstream": answered.upstream if answered is not None else None,
            "upstream_status": answered.status if answered is not None else None,
            "status": exchange.status,
            "fallback": exchange.fallback,
            "fail_reason": exchange.fail_reason,
            "cut_short": answered.cut_short if answered is not None else None,
        }
        key = self.settings.audit_hmac_key
        if key and inspection is not None:
            collected: dict[str, set[str]] = {}
            for f, value in zip(findings, values_of(inspection.segments, findings), strict=True):
                if value:
                    collected.setdefault(f.entity_type, set()).add(keyed_hash(key, value))
            record["entity_hashes"] = {t: sorted(v) for t, v in sorted(collected.items())}
        return record


def _without(types: list[str], allowed: tuple[str, ...]) -> list[str]:
    """``types`` less one occurrence of each allow-listed type (those are not personal data)."""
    remaining = list(types)
    for name in allowed:
        if name in remaining:
            remaining.remove(name)
    return remaining


def usage_tokens(usage: dict[str, Any]) -> tuple[int, int]:
    """(prompt, completion) tokens from chat/completions/embeddings or Responses usage."""
    def number(*keys: str) -> int:
        for key in keys:
            value = usage.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
        return 0

    return number("prompt_tokens", "input_tokens"), number("completion_tokens", "output_tokens")

