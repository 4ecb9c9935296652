"""The stages of one request, in order, and the fail-closed runner.

parse → extract → detect → decide → transform → forward/relay → observe. This module is the one
place that order is written down; each stage is a method that reads and fills the ``Exchange``.

Privacy rules enforced here, each with tests:
- detection errors and missed deadlines become ``DETECTION_FAILED``, which ``decide`` routes local
  before any policy rule is looked at;
- a request whose decision is not ``cloud`` is never sent to the cloud: fallback only ever goes
  from the cloud to the local upstream, never the other way;
- a conversation created on the cloud (Responses API ``previous_response_id``) cannot continue
  with sensitive input: it is blocked, since it cannot move on-prem.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from proxy.config import Settings
from proxy.detection.detector import Analyzer, Finding, values_of
from proxy.errors import (
    Blocked,
    InvalidRequest,
    PayloadTooLarge,
    ProxyError,
    Unauthorized,
    Unavailable,
    UpstreamError,
    UpstreamTimeout,
)
from proxy.exchange import ENDPOINT_PATHS, Endpoint, Exchange, extract, validate
from proxy.observe.audit import AuditLog, entity_counts, keyed_hash, now_iso
from proxy.observe.metrics import OTHER, Metrics
from proxy.policy import Decision, Route, evaluate
from proxy.policy.decide import DETECTION_FAILED, UNINSPECTABLE
from proxy.policy.explain import facts_for
from proxy.policy.model import Action, Rule
from proxy.policy.store import PolicyStore
from proxy.transform import SseScanner, covered_types, map_model, note_response, redact
from proxy.upstream import Upstream, UpstreamUnreachable, read_limited

log = logging.getLogger("sekisho.pipeline")

MAX_UPSTREAM_BODY = 256 * 1024 * 1024
# Findings at or above this score are the audit's "entities"; weaker ones are listed apart, so
# a report does not raise alarms over a 0.45 guess that no policy acted on.
CONFIDENT = 0.5
# Upstream response headers worth passing on; everything else (cookies, server internals) stays.
_PASS_HEADERS = ("openai-processing-ms", "x-ratelimit-limit-requests",
                 "x-ratelimit-remaining-requests", "x-ratelimit-limit-tokens",
                 "x-ratelimit-remaining-tokens", "retry-after")


REQUEST_ID = web.RequestKey("sekisho_request_id", str)


class ResponseMemory:
    """Which upstream created each Responses API response id (bounded, oldest forgotten)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._owners: OrderedDict[str, Route] = OrderedDict()

    def remember(self, response_id: str, route: Route) -> None:
        if self.size <= 0:
            return
        self._owners[response_id] = route
        self._owners.move_to_end(response_id)
        while len(self._owners) > self.size:
            self._owners.popitem(last=False)

    def owner(self, response_id: str) -> Route | None:
        return self._owners.get(response_id)


@dataclass
class Outcome:  # noqa: B903 - a mutable record filled in as the request goes
    """What happened, for headers, metrics and the audit line (never content)."""

    route: Route = Route.BLOCK
    rule: str = "none"  # "none" until a policy decides: the request was rejected before that
    tenant: str = "default"
    action: Action = Action.FORWARD
    status: int = 0
    upstream: str | None = None
    upstream_status: int | None = None
    forwarded_model: str | None = None
    fallback: bool = False
    fail_reason: str | None = None
    policy_version: str | None = None
    redacted: int = 0
    usage: dict[str, Any] | None = None
    upstream_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


OUTCOME = web.RequestKey("sekisho_outcome", Outcome)


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        detector: Analyzer,
        store: PolicyStore,
        cloud: Upstream,
        local: Upstream,
        metrics: Metrics,
        audit: AuditLog,
        executor: ThreadPoolExecutor,
    ) -> None:
        self.settings = settings
        self.detector = detector
        self.store = store
        self.cloud = cloud
        self.local = local
        self.metrics = metrics
        self.audit = audit
        self.executor = executor
        self.memory = ResponseMemory(settings.response_memory)
        self.listed_models: set[str] = set()
        self._local_models: tuple[float, list[str]] | None = None

    # -- the flow ---------------------------------------------------------------------------

    async def handle(
        self, request: web.Request, endpoint: Endpoint, *, ready: bool = True
    ) -> web.StreamResponse:
        started = time.perf_counter()
        outcome: Outcome = request[OUTCOME]
        exchange: Exchange | None = None
        self.metrics.in_flight.inc()
        try:
            if not ready:
                raise Unavailable("Sekisho is starting: the detector is not loaded yet",
                                  code="not_ready")
            tenant = outcome.tenant = self.authenticate(request)
            exchange = await self.parse(request, endpoint)
            exchange.tenant = tenant
            self.extract(exchange)
            await self.detect(exchange)
            decision = self.decide(exchange, request.headers, outcome)
            outcome.rule = decision.rule
            outcome.action = decision.action
            outcome.policy_version = decision.policy_version
            response = await self.route(request, exchange, decision, outcome)
            outcome.status = response.status
            return response
        except ProxyError as err:
            outcome.status = err.status
            raise
        finally:
            # Observed before in_flight drops, so "no requests in flight" means "all accounted":
            # a streamed answer reaches the client before this runs.
            try:
                self.observe(exchange, endpoint, outcome, time.perf_counter() - started,
                             request_id=request[REQUEST_ID])
            finally:
                self.metrics.in_flight.dec()

    def authenticate(self, request: web.Request) -> str:
        """The tenant of the client's API key; 401 for unknown keys when keys are configured."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        api_key = token.strip() if scheme.lower() == "bearer" else None
        tenant = self.store.tenant_for(api_key)
        if tenant is None:
            raise Unauthorized("Incorrect or missing API key for this Sekisho proxy.")
        return tenant

    async def parse(self, request: web.Request, endpoint: Endpoint) -> Exchange:
        too_large = PayloadTooLarge(
            f"Request body exceeds the limit of {self.settings.max_body_bytes} bytes"
        )
        if request.content_length is not None and request.content_length > (
            self.settings.max_body_bytes
        ):
            raise too_large
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise too_large from None  # a chunked body has no Content-Length to refuse up front
        try:
            body = json.loads(raw, parse_constant=_reject_constant)
            if _MAY_HOLD_A_SURROGATE.search(raw):
                # A lone surrogate ("\ud800") parses but cannot be forwarded as UTF-8; only
                # bodies that could hold one pay for the check.
                json.dumps(body, ensure_ascii=False).encode("utf-8")
        except (ValueError, UnicodeError, RecursionError):
            raise InvalidRequest("Request body is not valid JSON", code="invalid_json") from None
        validate(endpoint, body)
        return Exchange(request_id=request[REQUEST_ID], endpoint=endpoint, body=body)

    def extract(self, exchange: Exchange) -> None:
        exchange.segments, exchange.content_flags = extract(
            exchange.body, known_models=self.known_models(),
            token_model=self.settings.cloud_model(exchange.requested_model),
        )

    async def detect(self, exchange: Exchange) -> None:
        started = time.perf_counter()
        deadline = self.settings.detection_deadline_ms / 1000
        loop = asyncio.get_running_loop()
        try:
            if deadline <= 0:
                raise TimeoutError
            per_language: dict[str, float] = {}
            findings = await asyncio.wait_for(
                loop.run_in_executor(
                    self.executor, self.detector.analyze, exchange.segments, per_language
                ),
                timeout=deadline,
            )
            exchange.findings = findings
            for language, seconds in per_language.items():
                self.metrics.detection_duration.labels(language).observe(seconds)
        except TimeoutError:
            exchange.detection_error = "timeout"
        except Exception as exc:  # noqa: BLE001 - fail closed on anything the detector raises
            exchange.detection_error = "error"
            log.error("detection failed: %s (request %s)", type(exc).__name__,
                      exchange.request_id)
        if exchange.detection_error is not None:
            exchange.findings = [
                Finding(DETECTION_FAILED, 1.0, "", 0, 0, "sekisho", "-")
            ]
        exchange.findings.extend(
            Finding(flag, 1.0, "", 0, 0, "extraction", "-")
            for flag in sorted(exchange.content_flags)
        )
        elapsed = time.perf_counter() - started
        exchange.timings["detection"] = elapsed
        self.metrics.detection_duration.labels("all").observe(elapsed)

    def decide(
        self, exchange: Exchange, headers: Mapping[str, str], outcome: Outcome
    ) -> Decision:
        facts = facts_for(
            exchange.endpoint, exchange.body, exchange.segments, exchange.findings,
            tenant=exchange.tenant, headers=headers,
        )
        decision, _trace = evaluate(self.store.policy_for(exchange.tenant), facts)
        exchange.decision = decision
        if decision.action is Action.FAIL_CLOSED:
            reason = (f"detection_{exchange.detection_error}"
                      if exchange.detection_error is not None else UNINSPECTABLE)
            self.metrics.fail_closed.labels(reason).inc()
            outcome.fail_reason = reason
        shadow = self.store.shadow
        if shadow is not None:
            # Evaluated only: a shadow decision never sends anything anywhere.
            shadow_decision = evaluate(shadow, facts)[0]
            if shadow_decision.route is not decision.route:
                self.metrics.shadow_disagreements.labels(
                    decision.route.value, shadow_decision.route.value, shadow_decision.rule
                ).inc()
                log.info("shadow policy disagrees: active %s/%s, shadow %s/%s (request %s)",
                         decision.route.value, decision.rule, shadow_decision.route.value,
                         shadow_decision.rule, exchange.request_id)
        return decision

    async def route(
        self, request: web.Request, exchange: Exchange, decision: Decision, outcome: Outcome
    ) -> web.StreamResponse:
        route = decision.route
        if route is Route.BLOCK:
            outcome.route = Route.BLOCK
            policy = self.store.policy_for(exchange.tenant)
            rule = next((r for r in policy.rules if r.name == decision.rule), None)
            raise Blocked(block_message(decision, rule))
        pinned = False
        previous = exchange.body.get("previous_response_id")
        if exchange.endpoint is Endpoint.RESPONSES and isinstance(previous, str):
            owner = self.memory.owner(previous)
            if owner is Route.CLOUD and route is Route.LOCAL:
                outcome.route = Route.BLOCK
                raise Blocked(
                    "This conversation was created on the cloud upstream (previous_response_id),"
                    " and the new input contains data that must stay on-prem"
                    f" ({describe_types(decision.entity_types)}). A conversation cannot move;"
                    " start a new one without previous_response_id.",
                    code="conversation_on_cloud",
                )
            if owner is not None:
                # The conversation's history lives on the upstream that created it.
                pinned = True
                if owner is Route.LOCAL:
                    route = Route.LOCAL
        if route is Route.LOCAL:
            return await self._send_local(request, exchange, outcome, fallback=False)
        cloud_body = exchange.body
        if decision.redact_types:
            cloud_body, outcome.redacted = redact(
                exchange.body, exchange.segments, exchange.findings, decision.redact_types,
                token_model=self.settings.cloud_model(exchange.requested_model),
            )
        try:
            return await self._send(request, exchange, outcome, self.cloud, Route.CLOUD,
                                    source=cloud_body)
        except (UpstreamUnreachable, UpstreamTimeout, _RetryableStatus) as err:
            if pinned or not self.settings.cloud_fallback_to_local:
                raise _as_proxy_error(err) from None
            # Safe for privacy: the policy cleared this request for the cloud, so it may go
            # anywhere. The opposite direction (local → cloud) does not exist in this code.
            self.metrics.fallbacks.labels(**{"from": "cloud", "to": "local"}).inc()
            outcome.fallback = True
            outcome.action = Action.FALLBACK
            return await self._send_local(request, exchange, outcome, fallback=True)

    async def _send_local(
        self, request: web.Request, exchange: Exchange, outcome: Outcome, *, fallback: bool
    ) -> web.StreamResponse:
        try:
            return await self._send(request, exchange, outcome, self.local, Route.LOCAL)
        except UpstreamUnreachable:
            outcome.route = Route.BLOCK
            if fallback:
                raise UpstreamError(
                    "The cloud upstream failed and the on-prem fallback is unreachable.",
                    code="upstreams_unavailable",
                ) from None
            outcome.action = Action.FAIL_CLOSED
            # A detection failure that led here stays the recorded reason; the metric counts
            # both.
            outcome.fail_reason = outcome.fail_reason or "local_unavailable"
            self.metrics.fail_closed.labels("local_unavailable").inc()
            raise Unavailable(
                "The on-prem upstream is unavailable, and this request may not be sent to the"
                " cloud. Try again later.",
                code="local_unavailable",
            ) from None
        except _RetryableStatus as err:
            raise _as_proxy_error(err) from None

    async def _send(
        self,
        request: web.Request,
        exchange: Exchange,
        outcome: Outcome,
        upstream: Upstream,
        route: Route,
        *,
        source: dict[str, Any] | None = None,
    ) -> web.StreamResponse:
        local_model = None
        if route is Route.LOCAL:
            local_model = await self._local_model(exchange.endpoint)
        # The local upstream always gets the original body; the cloud may get a redacted copy.
        body = map_model(source if source is not None else exchange.body, route, self.settings,
                         local_model)
        if _asks_usage_for_client(exchange):
            # Token and cost metrics need the stream's usage; the client gets the stream it
            # asked for (the relay drops the usage-only chunk again).
            options = body.get("stream_options")
            body = {**body, "stream_options": {**(options if isinstance(options, dict) else {}),
                                               "include_usage": True}}
            outcome.extra["hide_usage"] = True
        exchange.forwarded_body = body
        outcome.forwarded_model = body.get("model") if isinstance(body.get("model"), str) else None
        started = time.perf_counter()
        try:
            try:
                resp = await upstream.post(
                    ENDPOINT_PATHS[exchange.endpoint], body, stream=exchange.stream
                )
            except UpstreamUnreachable:
                self.metrics.upstream_errors.labels(upstream.name, "connect").inc()
                self.metrics.upstream_up.labels(upstream.name).set(0)
                raise
            except UpstreamTimeout:
                outcome.route = route
                self.metrics.upstream_errors.labels(upstream.name, "timeout").inc()
                raise
            except UpstreamError:
                self.metrics.upstream_errors.labels(upstream.name, "protocol").inc()
                raise
            finally:
                outcome.extra["connect_s"] = time.perf_counter() - started
            outcome.route = route
            outcome.upstream = upstream.name
            outcome.upstream_status = resp.status
            self.metrics.upstream_up.labels(upstream.name).set(1)
            try:
                if 300 <= resp.status < 400:
                    # Never followed (see upstream): the body could land anywhere.
                    self.metrics.upstream_errors.labels(upstream.name, "redirect").inc()
                    raise UpstreamError(
                        f"The {upstream.name} upstream answered a redirect ({resp.status}),"
                        " which Sekisho does not follow.", code="upstream_redirect")
                if resp.status >= 500 or resp.status == 429:
                    self.metrics.upstream_errors.labels(
                        upstream.name, f"status_{resp.status // 100}xx").inc()
                    payload = await self._read(resp, upstream)
                    raise _RetryableStatus(resp.status, payload, resp.headers.get("Content-Type"))
                if resp.status >= 400:
                    self.metrics.upstream_errors.labels(upstream.name, "status_4xx").inc()
                content_type = resp.headers.get("Content-Type", "")
                if exchange.stream and resp.status == 200 and "text/event-stream" in content_type:
                    return await self._relay_stream(request, exchange, outcome, resp, route)
                payload = await self._read(resp, upstream)
                if resp.status < 400:
                    self._note_json(exchange, outcome, payload, route)
                return self._response(outcome, resp, payload)
            finally:
                resp.release()
        finally:
            # Failed attempts count too: time spent waiting on an upstream that timed out or
            # refused is the upstream's, not the proxy's overhead.
            elapsed = time.perf_counter() - started
            outcome.upstream_seconds += elapsed
            self.metrics.upstream_duration.labels(upstream.name).observe(elapsed)

    async def _read(self, resp: aiohttp.ClientResponse, upstream: Upstream) -> bytes:
        try:
            return await read_limited(resp, MAX_UPSTREAM_BODY)
        except UpstreamTimeout:
            self.metrics.upstream_errors.labels(upstream.name, "timeout").inc()
            raise
        except UpstreamError:
            self.metrics.upstream_errors.labels(upstream.name, "protocol").inc()
            raise

    async def _relay_stream(
        self,
        request: web.Request,
        exchange: Exchange,
        outcome: Outcome,
        resp: aiohttp.ClientResponse,
        route: Route,
    ) -> web.StreamResponse:
        out = web.StreamResponse(status=200)
        out.content_type = "text/event-stream"
        out.headers["Cache-Control"] = "no-cache"
        out.headers["X-Accel-Buffering"] = "no"
        self._headers(out, outcome, request)
        await out.prepare(request)
        scanner = SseScanner(hide_usage=bool(outcome.extra.get("hide_usage")))
        sent_at = time.perf_counter()
        first = True
        remembered = 0
        try:
            # iter_any yields whatever arrived, so each upstream chunk goes out as it comes.
            async for chunk in resp.content.iter_any():
                if first:
                    first = False
                    self.metrics.upstream_ttft.labels(route.value).observe(
                        time.perf_counter() - sent_at + outcome.extra.get("connect_s", 0.0)
                    )
                relay = scanner.feed(chunk)
                if exchange.endpoint is Endpoint.RESPONSES:
                    # Remembered before the client can see the id, so an immediate follow-up
                    # with previous_response_id already finds where the conversation lives.
                    for rid in scanner.response_ids[remembered:]:
                        self.memory.remember(rid, route)
                    remembered = len(scanner.response_ids)
                if relay:
                    await out.write(relay)
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.metrics.upstream_errors.labels(route.value, "stream_interrupted").inc()
            log.warning("upstream stream interrupted: %s (request %s)", type(exc).__name__,
                        exchange.request_id)
        outcome.usage = scanner.usage
        outcome.status = 200
        await out.write_eof()
        return out

    def _note_json(
        self, exchange: Exchange, outcome: Outcome, payload: bytes, route: Route
    ) -> None:
        """Usage (for token and cost metrics) and Responses ids from a JSON answer."""
        try:
            obj = json.loads(payload)
        except ValueError:
            return
        if not isinstance(obj, dict):
            return
        if isinstance(obj.get("usage"), dict):
            outcome.usage = obj["usage"]
        if exchange.endpoint is Endpoint.RESPONSES:
            ids: list[str] = []
            note_response(obj, ids)
            for rid in ids:
                self.memory.remember(rid, route)

    def _response(
        self, outcome: Outcome, resp: aiohttp.ClientResponse, payload: bytes
    ) -> web.Response:
        content_type = resp.headers.get("Content-Type", "application/json").split(";")[0]
        if resp.status >= 400:
            try:
                json.loads(payload)
            except ValueError:
                err = UpstreamError(f"The upstream answered {resp.status} with a non-JSON body")
                return web.json_response(err.body(), status=502)
        out = web.Response(status=resp.status, body=payload, content_type=content_type)
        for name in _PASS_HEADERS:
            if name in resp.headers:
                out.headers[name] = resp.headers[name]
        return out

    def _headers(self, out: web.StreamResponse, outcome: Outcome, request: web.Request) -> None:
        stamp_headers(out, outcome, request[REQUEST_ID], self.store.default.version)

    async def _local_model(self, endpoint: Endpoint) -> str | None:
        if endpoint is Endpoint.EMBEDDINGS:
            if self.settings.local_embedding_model is None:
                raise Unavailable(
                    "This embeddings input contains data that must stay on-prem, and no local"
                    " embedding model is configured (setting: local_embedding_model).",
                    code="no_local_embedding_model",
                )
            return self.settings.local_embedding_model
        if self.settings.local_model is not None:
            return self.settings.local_model
        models = await self.local_model_ids()
        return models[0] if models else None

    async def local_model_ids(self) -> list[str]:
        now = time.monotonic()
        if self._local_models and now - self._local_models[0] < self.settings.models_cache_s:
            return self._local_models[1]
        try:
            models = await self.local.models(self.settings.connect_timeout_s)
        except UpstreamError:
            return self._local_models[1] if self._local_models else []
        return self.note_models(self.local, models)

    def note_models(self, upstream: Upstream, models: list[dict[str, Any]]) -> list[str]:
        """Remember an upstream's model list (from a probe, /v1/models or a lookup): the names
        become allowed metric labels, and the local list is the local-model cache."""
        ids = [m["id"] for m in models]
        self.listed_models.update(ids)
        if upstream is self.local:
            self._local_models = (time.monotonic(), ids)
        return ids

    # -- observe ----------------------------------------------------------------------------

    def known_models(self) -> frozenset[str]:
        """Model names allowed as metric labels: configured ones and those upstreams list."""
        return self.settings.configured_models() | self.listed_models

    def _count_usage(self, exchange: Exchange, outcome: Outcome, known: frozenset[str]) -> None:
        assert outcome.usage is not None and outcome.upstream is not None
        prompt, completion = usage_tokens(outcome.usage)
        model = outcome.forwarded_model or OTHER
        label = model if model in known else OTHER
        self.metrics.tokens.labels(outcome.upstream, label, "prompt").inc(prompt)
        self.metrics.tokens.labels(outcome.upstream, label, "completion").inc(completion)
        prices = self.settings.prices
        if outcome.upstream == "cloud" and model in prices:
            self.metrics.cloud_cost.labels(model).inc(prices[model].cost(prompt, completion))
        elif outcome.upstream == "local":
            # What the same tokens would have cost on the cloud model the client asked for.
            requested = exchange.requested_model or ""
            alias = self.settings.model_aliases.get(requested)
            cloud_model = alias.cloud if alias is not None and alias.cloud else requested
            if cloud_model in prices:
                self.metrics.cloud_cost_avoided.labels(cloud_model).inc(
                    prices[cloud_model].cost(prompt, completion)
                )

    def observe(
        self, exchange: Exchange | None, endpoint: Endpoint, outcome: Outcome, seconds: float,
        *, request_id: str,
    ) -> None:
        tenant = outcome.tenant
        self.metrics.routing_decisions.labels(
            outcome.route.value, outcome.action.value, outcome.rule, tenant, endpoint.value,
            outcome.policy_version or "none",
        ).inc()
        self.metrics.request_duration.labels(outcome.route.value, endpoint.value).observe(seconds)
        self.metrics.overhead.observe(max(seconds - outcome.upstream_seconds, 0.0))
        findings = exchange.findings if exchange is not None else []
        types = [f.entity_type for f in findings if f.score >= CONFIDENT]
        weak = [f.entity_type for f in findings if f.score < CONFIDENT]
        for f in findings:
            language = f.language if f.language in ("en", "ja") else "none"
            self.metrics.pii_entities.labels(f.entity_type, language, outcome.action.value).inc()
        known = self.known_models()
        if exchange is not None and outcome.upstream is not None and outcome.usage is not None:
            self._count_usage(exchange, outcome, known)
        decision = exchange.decision if exchange is not None else None
        hashes: dict[str, list[str]] | None = None
        if self.settings.audit_hmac_key and exchange is not None:
            collected: dict[str, set[str]] = {}
            for f, value in zip(findings, values_of(exchange.segments, findings), strict=True):
                if value:
                    collected.setdefault(f.entity_type, set()).add(
                        keyed_hash(self.settings.audit_hmac_key, value)
                    )
            hashes = {t: sorted(v) for t, v in sorted(collected.items())}
        # Model names are client input: only configured or upstream-listed names are written,
        # so a prompt pasted into "model" never reaches the audit log.
        requested = exchange.requested_model if exchange is not None else None
        record: dict[str, Any] = {
            "time": now_iso(),
            "request_id": request_id,
            "tenant": tenant,
            "endpoint": endpoint.value,
            "requested_model": _known_or_other(requested, known),
            "forwarded_model": _known_or_other(outcome.forwarded_model, known),
            "route": outcome.route.value,
            "action": outcome.action.value,
            "rule": outcome.rule,
            "policy_version": decision.policy_version if decision is not None else None,
            "redacted": outcome.redacted,
            "entities": entity_counts(_without(types, decision.allowed if decision else ())),
            "allowed_entities": entity_counts(list(decision.allowed) if decision else []),
            "low_confidence_entities": entity_counts(weak),
            "redacted_types": sorted(covered_types(findings, decision.redact_types))
            if outcome.redacted and decision else [],
            "detection_ms": round(
                (exchange.timings.get("detection", 0.0) if exchange else 0.0) * 1000, 2
            ),
            "upstream_ms": round(outcome.upstream_seconds * 1000, 2),
            "total_ms": round(seconds * 1000, 2),
            "upstream": outcome.upstream,
            "upstream_status": outcome.upstream_status,
            "status": outcome.status,
            "fallback": outcome.fallback,
            "fail_reason": outcome.fail_reason,
        }
        if hashes is not None:
            record["entity_hashes"] = hashes
        self.audit.write(record)


# A \uD800-\uDFFF escape, or the same code point written as (invalid) UTF-8 bytes, which
# json.loads accepts from bytes.
_MAY_HOLD_A_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: forwarding them would send an upstream invalid JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _asks_usage_for_client(exchange: Exchange) -> bool:
    """A chat or completions stream whose client did not ask for usage."""
    if not exchange.stream or exchange.endpoint not in (Endpoint.CHAT, Endpoint.COMPLETIONS):
        return False
    options = exchange.body.get("stream_options")
    return not (isinstance(options, dict) and options.get("include_usage") is True)


def _known_or_other(model: str | None, known: frozenset[str]) -> str | None:
    if model is None:
        return None
    return model if model in known else OTHER


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


class _RetryableStatus(Exception):
    """The upstream answered 5xx or 429: the body is kept for relaying if no fallback happens."""

    def __init__(self, status: int, payload: bytes, content_type: str | None) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload
        self.content_type = content_type


def _as_proxy_error(err: Exception) -> ProxyError:
    if isinstance(err, ProxyError):
        return err
    if isinstance(err, _RetryableStatus):
        message = f"The upstream answered {err.status}"
        try:
            upstream_error = json.loads(err.payload)["error"]
            if isinstance(upstream_error.get("message"), str):
                message = f"{message}: {upstream_error['message']}"
        except (ValueError, KeyError, TypeError, AttributeError):
            pass
        proxy_error = UpstreamError(message, code="upstream_status")
        proxy_error.status = err.status if err.status in (429, 502, 503, 504) else 502
        return proxy_error
    return UpstreamError("Upstream failure")


def describe_types(types: frozenset[str]) -> str:
    return ", ".join(sorted(types)) if types else "sensitive content"


def block_message(decision: Decision, rule: Rule | None = None) -> str:
    """What a blocked client is told: which kinds of data decided, never the data itself."""
    if decision.message:
        return decision.message
    if rule is None:
        return ("This request was blocked by the policy's default route: no rule of the policy"
                " allows it.")
    kinds = sorted(decision.entity_types)
    if rule.keywords is not None or rule.regex is not None:
        kinds.append("a confidential marking or keyword")
    if not kinds:
        return f"This request was blocked by policy rule '{decision.rule}'."
    return (f"This request was blocked by policy rule '{decision.rule}': it contains"
            f" {', '.join(kinds)}.")


def stamp_headers(
    out: web.StreamResponse, outcome: Outcome, request_id: str, default_version: str
) -> None:
    """Route, rule, request id and the version of the policy that decided (every response)."""
    out.headers["x-sekisho-route"] = outcome.route.value
    out.headers["x-sekisho-rule"] = outcome.rule
    out.headers["x-request-id"] = request_id
    out.headers["x-sekisho-policy-version"] = outcome.policy_version or default_version


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex
