"""The stages of one inspected request, in order; each reads and fills the ``Exchange``.

parse → inspect → (block) → plan → attempt each target → relay the answer. Authentication and
the request id are middlewares (``app``); metrics and the audit line are recorded from the
finished Exchange (``observe.record``). This module is the one caller that adds I/O around
inspection: the detection runner (deadline, bounded queue), the conversation store and the
upstreams.

Privacy rules enforced here, each with tests:
- a detection error or missed deadline is a ``DETECTION_FAILED`` finding, which the policy
  routes local before any rule is looked at;
- a request whose decision is not ``cloud`` is never sent to the cloud: the plan (``attempts``)
  holds only local targets for it, and only the cloud falls back, to local;
- every attempt's body is built from the original body (``transform.body_for``): a redacted
  copy never goes local, a fallback never sends placeholders;
- a conversation created on the cloud cannot continue with input that must stay on-prem.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Mapping

import aiohttp
from aiohttp import web

from proxy.attempts import CIRCUIT_OPEN, CONVERSATION_ON_CLOUD, Plan, Target, plan
from proxy.catalog import Catalog, NoLocalEmbeddingModel
from proxy.config import Settings
from proxy.detection.runner import DetectionError, DetectionTimeout, Overloaded, Runner
from proxy.errors import (
    STARTED,
    Blocked,
    InvalidRequest,
    ProxyError,
    Unavailable,
    UpstreamError,
    UpstreamTimeout,
)
from proxy.exchange import Attempt, Exchange
from proxy.inspection import Inspection, conclude, context_for, prepare
from proxy.limits import Limiter, MemoryLimiter, RateLimited, estimate_tokens
from proxy.parsing import parse
from proxy.policy.decide import UNINSPECTABLE
from proxy.policy.store import PolicyStore
from proxy.pseudonyms import Restorer
from proxy.relay import Relay, relay_for
from proxy.resilience import CircuitBreaker, backoff
from proxy.restore import Restoration
from proxy.state import ConversationStore, StateUnavailable, references_in
from proxy.transform import asks_logprobs, body_for, lacks_usage, with_usage
from proxy.upstream import Reply, Upstream, UpstreamFailure
from proxy.values import ENDPOINT_PATHS, Action, Endpoint, RateLimits, Route

log = logging.getLogger("sekisho.pipeline")

MAX_UPSTREAM_BODY = 256 * 1024 * 1024
# Seconds a client is asked to wait when the on-prem upstream is down for a request that may
# only go there (the health probe notices a restart within health_interval_s).
LOCAL_RETRY_AFTER_S = 2
# Upstream response headers a client's SDK acts on (rate limits, when and whether to retry,
# processing time), passed on with JSON and streamed answers alike; everything else (cookies,
# the upstream's organisation and request ids, server internals) stays.
_PASS_HEADERS = frozenset({"openai-processing-ms", "openai-version", "retry-after",
                           "retry-after-ms", "x-should-retry"})


def passed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items()
            if name.lower() in _PASS_HEADERS or name.lower().startswith("x-ratelimit-")}


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        runner: Runner,
        store: PolicyStore,
        upstreams: Mapping[Route, Upstream],
        catalog: Catalog,
        conversations: ConversationStore,
        breakers: Mapping[Route, CircuitBreaker] | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.store = store
        self.upstreams = dict(upstreams)
        self.catalog = catalog
        self.conversations = conversations
        self.breakers = dict(breakers) if breakers is not None else {
            route: CircuitBreaker(settings.breaker) for route in self.upstreams}
        self.limiter = limiter if limiter is not None else MemoryLimiter()

    async def handle(self, request: web.Request, exchange: Exchange) -> web.StreamResponse:
        """Takes an authenticated request; returns the answer or raises a ``ProxyError``.
        Never sends anything the inspection did not clear for where it goes."""
        if not self.runner.loaded:
            raise Unavailable("Sekisho is starting: the detector is not loaded yet",
                              code="not_ready", headers={"Retry-After": "1"})
        assert exchange.endpoint is not None
        limits = self.store.limits_for(exchange.tenant, self.settings.rate_limits)
        try:
            hold = await self.limiter.admit(exchange.tenant, limits)
        except RateLimited as err:
            exchange.rate_limited = err.limit
            raise
        try:
            return await self._admitted(request, exchange, limits)
        finally:
            await self.limiter.release(hold)

    async def _admitted(self, request: web.Request, exchange: Exchange, limits: RateLimits
                        ) -> web.StreamResponse:
        assert exchange.endpoint is not None
        exchange.body = await parse(request, exchange.endpoint, self.settings.limits)
        try:
            await self.limiter.spend(
                exchange.tenant, estimate_tokens(len(await request.read()), exchange.body),
                limits)
        except RateLimited as err:
            exchange.rate_limited = err.limit
            raise
        inspection = await self.inspect(exchange, request.headers)
        decision = inspection.decision
        if decision.route is Route.BLOCK:
            raise Blocked(decision.message or "This request was blocked by the policy.")
        exchange.plan = await self.plan(exchange)
        if exchange.plan.refusal == CONVERSATION_ON_CLOUD:
            raise Blocked(
                "This conversation was created on the cloud upstream (previous_response_id),"
                " and the new input contains data that must stay on-prem"
                f" ({describe_types(decision.entity_types)}). A conversation cannot move:"
                " send its full input (the earlier turns included) without"
                " previous_response_id, and it is routed as a whole.",
                code=CONVERSATION_ON_CLOUD,
            )
        if exchange.plan.refusal == CIRCUIT_OPEN:
            raise self.circuit_open(exchange)
        return await self.forward(request, exchange)

    # -- inspection -------------------------------------------------------------------------

    async def inspect(self, exchange: Exchange, headers: Mapping[str, str]) -> Inspection:
        """Extraction, detection under the deadline, the decision. Never raises for a
        detection failure (it decides local); refuses at once when detection is saturated."""
        assert exchange.body is not None and exchange.endpoint is not None
        context = context_for(self.settings, exchange.body, tenant=exchange.tenant,
                              headers=headers, listed=self.catalog.listed)
        prepared = prepare(exchange.endpoint, exchange.body, context)
        started = time.perf_counter()
        findings, failure = None, None
        deadline, capped = self.settings.detection_deadline_s(
            sum(len(s.text) for s in prepared.segments))
        try:
            analysis = await self.runner.analyze(prepared.segments, deadline,
                                                 scope=exchange.tenant)
            findings = analysis.findings
            exchange.detection_timings = analysis.timings
        except DetectionTimeout:
            # Past a deadline the request's size had asked to lengthen beyond the cap: the
            # text is too long to inspect in the longest time any request gets.
            failure = "too_long" if capped else "timeout"
        except DetectionError as err:
            failure = err.reason  # error, or budget (a recognizer spent its CPU budget)
            log.error("detection failed: %s (request %s)", err, exchange.request_id)
        except Overloaded:
            exchange.fail_closed.append("detection_overloaded")
            raise Unavailable(
                "Sekisho is at capacity: too many requests are waiting for inspection."
                " Try again shortly.", code="overloaded", headers={"Retry-After": "1"},
            ) from None
        finally:
            exchange.detection_seconds = time.perf_counter() - started
        inspection = conclude(prepared, findings, failure,
                              self.store.policy_for(exchange.tenant), context,
                              shadow=self.store.shadow)
        exchange.inspection = inspection
        if inspection.decision.action is Action.FAIL_CLOSED:
            exchange.fail_closed.append(
                f"detection_{failure}" if failure is not None else UNINSPECTABLE)
        return inspection

    async def plan(self, exchange: Exchange) -> Plan:
        """The targets to try, in order (``attempts.plan``), with the conversation's owner."""
        assert exchange.body is not None and exchange.decision is not None
        owner = None
        references = references_in(exchange.body) if exchange.endpoint is Endpoint.RESPONSES else []
        if references:
            try:
                owners = {o for o in await self.conversations.owners(references) if o is not None}
            except StateUnavailable:
                owners = set()  # routed by content alone (counted by the backend)
            if len(owners) > 1:
                raise InvalidRequest(
                    "This request refers to items of conversations held by different upstreams"
                    " (previous_response_id, conversation, item references): one request can"
                    " continue one conversation.", code="conversation_split")
            owner = owners.pop() if owners else None
        available = frozenset(r for r, b in self.breakers.items() if b.available())
        return plan(exchange.decision.route, owner=owner,
                    cloud_fallback=self.settings.cloud_fallback_to_local, available=available)

    def circuit_open(self, exchange: Exchange) -> ProxyError:
        """What a request is told when every upstream it may go to has an open breaker."""
        assert exchange.decision is not None
        waits = [b.retry_after() for b in self.breakers.values() if not b.available()]
        wait = str(max(1, math.ceil(min(waits, default=1.0))))
        if exchange.decision.route is Route.LOCAL:
            exchange.fail_closed.append("local_unavailable")
            return Unavailable(
                "The on-prem upstream is failing (its circuit breaker is open), and this request"
                " may not be sent to the cloud. Try again later.", code="local_unavailable",
                headers={"Retry-After": wait})
        return Unavailable(
            "The upstream this request may go to is failing (its circuit breaker is open)."
            " Try again later.", code=CIRCUIT_OPEN, headers={"Retry-After": wait})

    # -- upstream attempts ------------------------------------------------------------------

    async def forward(self, request: web.Request, exchange: Exchange) -> web.StreamResponse:
        """Each target of the plan in turn, until one answers with something to relay."""
        assert exchange.plan is not None
        targets = exchange.plan.targets
        for index, target in enumerate(targets):
            last = index == len(targets) - 1
            breaker = self.breakers[target.route]
            if not breaker.allows():
                # Another request took the half-open trial since the plan was made.
                if last:
                    raise self.circuit_open(exchange)
                continue
            attempt, reply = await self.attempt(exchange, target)
            retries = 0
            while (reply is None and not attempt.delivered
                   and retries < self.settings.upstream_retries):
                # Nothing was delivered and nothing was sent to the client yet: safe to send
                # the same body to the same upstream again, after a jittered pause.
                breaker.record(False)
                retries += 1
                await asyncio.sleep(backoff(retries, base=self.settings.upstream_retry_backoff_s))
                if not breaker.allows():
                    break
                attempt, reply = await self.attempt(exchange, target, retry=True)
            breaker.record(reply is not None and not failed_status(reply.status))
            try:
                if reply is None:
                    if last or attempt.failure == "protocol":
                        raise self.failure_error(exchange, attempt)
                    continue
                if failed_status(reply.status) and not last:
                    continue  # the next target is a fallback: this answer is not read
                return await self.respond(request, exchange, attempt, reply)
            finally:
                if reply is not None:
                    reply.release()
                attempt.done()
        raise AssertionError("a plan without targets is refused before forwarding")

    async def attempt(self, exchange: Exchange, target: Target, *, retry: bool = False
                      ) -> tuple[Attempt, Reply | None]:
        """Send the body for ``target``; the attempt, and the reply if one came."""
        assert exchange.inspection is not None and exchange.endpoint is not None
        upstream = self.upstreams[target.route]
        local_model = None
        if target.route is Route.LOCAL:
            try:
                local_model = await self.catalog.local_model(exchange.endpoint)
            except NoLocalEmbeddingModel:
                raise Unavailable(
                    "This embeddings input contains data that must stay on-prem, and no local"
                    " embedding model is configured (setting: local_embedding_model).",
                    code="no_local_embedding_model", headers={"x-should-retry": "false"},
                ) from None
        rewrite = body_for(target.route, exchange.inspection, self.settings, local_model)
        body = rewrite.body
        if rewrite.pseudonyms is not None and asks_logprobs(exchange.endpoint, body):
            # Log-probabilities are per token of the placeholders the cloud saw: they cannot
            # be restored, and dropping them would break a client that reads them.
            raise InvalidRequest(
                "This request's personal data is pseudonymized for the cloud, and token"
                " log-probabilities cannot be mapped back to the restored text: send it"
                " without logprobs / top_logprobs.", code="logprobs_with_pseudonyms",
                param="logprobs")
        hides_usage = lacks_usage(exchange.endpoint, body)
        if hides_usage:
            body = with_usage(body)
        model = body.get("model")
        attempt = Attempt(target, upstream.name, body, model if isinstance(model, str) else None,
                          redacted=rewrite.redacted, pseudonymized=rewrite.pseudonymized,
                          covered=rewrite.covered, pseudonyms=rewrite.pseudonyms,
                          hides_usage=hides_usage, retry=retry)
        exchange.attempts.append(attempt)
        try:
            reply = await upstream.send(ENDPOINT_PATHS[exchange.endpoint], body,
                                        stream=exchange.stream)
        except UpstreamFailure as failure:
            attempt.failure, attempt.delivered = failure.kind, failure.delivered
            attempt.done()
            return attempt, None
        attempt.status = reply.status
        return attempt, reply

    def failure_error(self, exchange: Exchange, attempt: Attempt) -> ProxyError:
        """What the client is told when the last target gave no answer."""
        if attempt.failure == "connect" and attempt.target.route is Route.LOCAL:
            if attempt.target.fallback:
                return UpstreamError(
                    "The cloud upstream failed and the on-prem fallback is unreachable.",
                    code="upstreams_unavailable")
            # A detection failure that led here stays the recorded reason; both are counted.
            exchange.fail_closed.append("local_unavailable")
            return Unavailable(
                "The on-prem upstream is unavailable, and this request may not be sent to the"
                " cloud. Try again later.", code="local_unavailable",
                headers={"Retry-After": str(LOCAL_RETRY_AFTER_S)})
        if attempt.failure == "timeout":
            return UpstreamTimeout(f"The {attempt.upstream} upstream did not answer in time")
        if attempt.failure == "connect":
            return UpstreamError(f"The {attempt.upstream} upstream is unreachable",
                                 code="upstream_unreachable")
        return UpstreamError(f"The {attempt.upstream} upstream failed")

    # -- the response stage -----------------------------------------------------------------

    async def respond(
        self, request: web.Request, exchange: Exchange, attempt: Attempt, reply: Reply
    ) -> web.StreamResponse:
        """The client's answer from this reply: relayed through the response transforms, or an
        error Sekisho words itself (redirects, failed answers, non-JSON errors)."""
        if 300 <= reply.status < 400:
            # Never followed (see upstream): the body could land anywhere.
            raise UpstreamError(
                f"The {reply.upstream} upstream answered a redirect ({reply.status}),"
                " which Sekisho does not follow.", code="upstream_redirect")
        if exchange.stream and reply.is_stream:
            return await self.relay_stream(request, exchange, attempt, reply)
        payload = await self.read(attempt, reply)
        if reply.status >= 400:
            # Relayed as the upstream sent it (status, error body, rate-limit and retry
            # headers), so the client's SDK retries when and only when the upstream says to;
            # only a body that is not JSON is replaced by Sekisho's own error.
            try:
                json.loads(payload)
            except ValueError:
                err = UpstreamError(f"The upstream answered {reply.status} with a non-JSON body")
                return web.json_response(err.body(), status=502)
        else:
            relay, restoration = self.relay(exchange, attempt, stream=False)
            relay.feed(payload)
            payload = relay.finish()
            if relay.malformed:
                attempt.failure = "protocol"
                raise UpstreamError(
                    f"The {reply.upstream} upstream answered {reply.status} with a body that is"
                    " not a JSON object")
            await self.remember(relay.fresh_ids(), attempt.target.route)
            attempt.usage = relay.usage.usage
            attempt.restored = restoration.restorer.restored if restoration else 0
        attempt.relayed = True
        out = web.Response(status=reply.status, body=payload,
                           content_type=reply.content_type.split(";")[0])
        out.headers.update(passed_headers(reply.headers))
        return out

    async def read(self, attempt: Attempt, reply: Reply) -> bytes:
        try:
            return await reply.read(MAX_UPSTREAM_BODY)
        except UpstreamFailure as failure:
            attempt.failure = failure.kind
            if failure.kind == "timeout":
                raise UpstreamTimeout(failure.message) from None
            raise UpstreamError(failure.message) from None

    async def relay_stream(
        self, request: web.Request, exchange: Exchange, attempt: Attempt, reply: Reply
    ) -> web.StreamResponse:
        """The stream as it comes, through the response transforms. Once the answer has
        started nothing is raised (a JSON error can no longer be sent): an upstream that stops
        early or sends no events gets an error event the client's SDK raises; a client that
        goes away cuts the upstream off (no orphaned generation) and nothing more is
        written."""
        assert exchange.endpoint is not None
        out = web.StreamResponse(status=200)
        out.content_type = "text/event-stream"
        out.headers["Cache-Control"] = "no-cache"
        out.headers["X-Accel-Buffering"] = "no"
        out.headers.update(passed_headers(reply.headers))
        attempt.relayed = True
        exchange.status = 200
        stamp_headers(out, exchange, self.store.default.version)
        await out.prepare(request)
        request[STARTED] = out
        relay, restoration = self.relay(exchange, attempt, stream=True)
        route = attempt.target.route

        async def send(data: bytes) -> None:
            if data:
                try:
                    await out.write(data)
                except ConnectionResetError:
                    raise _ClientGone from None

        try:
            try:
                # Each complete event goes out as it comes; ids are recorded before the client
                # can see them.
                async for chunk in reply.chunks():
                    if attempt.first_chunk_seconds is None:
                        attempt.first_chunk_seconds = time.perf_counter() - attempt.started
                    data = relay.feed(chunk)
                    await self.remember(relay.fresh_ids(), route)
                    await send(data)
                    if relay.malformed:
                        break
            except (aiohttp.ClientError, TimeoutError) as exc:
                attempt.interrupted = True
                log.warning("upstream stream interrupted: %s (request %s)", type(exc).__name__,
                            exchange.request_id)
            # An event cut off by an interruption is not passed on; a last one the upstream
            # did not terminate (``data: [DONE]`` without its blank line) is, terminated.
            tail = relay.finish(complete=not (attempt.interrupted or relay.malformed))
            await self.remember(relay.fresh_ids(), route)
            await send(tail)
            problem = ("The upstream stream ended before it was complete" if attempt.interrupted
                       else "The upstream sent a stream event that is not JSON, or too large"
                       if relay.malformed else None if relay.events else
                       "The upstream answered a stream without any events")
            if problem is not None:
                if not attempt.interrupted:
                    attempt.failure = "protocol"
                    reply.abort()
                await send(error_event(problem, "stream_interrupted"
                                       if attempt.interrupted else "upstream_bad_stream"))
            await out.write_eof()
        except _ClientGone:
            attempt.client_gone = True
            reply.abort()
        except Exception as exc:  # noqa: BLE001 - the answer has started: nothing can be raised
            attempt.interrupted = True
            reply.abort()
            log.error("stream relay failed: %s (request %s)", type(exc).__name__,
                      exchange.request_id)
        attempt.usage = relay.usage.usage
        attempt.restored = restoration.restorer.restored if restoration else 0
        return out

    def relay(self, exchange: Exchange, attempt: Attempt, *, stream: bool
              ) -> tuple[Relay, Restoration | None]:
        """The response stage of this attempt's answer (restoring what it pseudonymized)."""
        assert exchange.endpoint is not None
        restoration = None
        if attempt.pseudonyms is not None:
            restoration = Restoration(exchange.endpoint, Restorer(attempt.pseudonyms),
                                      stream=stream)
        relay = relay_for(exchange.endpoint, stream=stream,
                          hide_usage=stream and attempt.hides_usage,
                          extra=[restoration] if restoration is not None else ())
        return relay, restoration

    async def remember(self, references: list[str], route: Route) -> None:
        """Record where these references live. A store that cannot is counted (by the backend)
        and the answer still goes out: a follow-up is then routed by its content alone."""
        for ref in references:
            try:
                await self.conversations.remember(ref, route)
            except StateUnavailable:
                return


def failed_status(status: int) -> bool:
    """An answer worth trying the next target for (and, on the last, not relayed as is)."""
    return status >= 500 or status == 429


class _ClientGone(Exception):
    """The client closed its connection during a streamed answer."""


def error_event(message: str, code: str) -> bytes:
    """An SSE event the openai SDKs raise as an ``APIError`` (also a Responses ``error``)."""
    error = {"message": message, "type": "upstream_error", "code": code}
    payload = {"type": "error", **error, "error": error}
    return b"data: " + json.dumps(payload).encode() + b"\n\n"


def describe_types(types: frozenset[str]) -> str:
    return ", ".join(sorted(types)) if types else "sensitive content"


def stamp_headers(out: web.StreamResponse, exchange: Exchange, default_version: str) -> None:
    """Route, action, rule, request id and the version of the policy that decided (every
    response)."""
    out.headers["x-sekisho-route"] = exchange.route.value
    out.headers["x-sekisho-action"] = exchange.action.value
    out.headers["x-sekisho-rule"] = exchange.rule
    out.headers["x-request-id"] = exchange.request_id
    out.headers["x-sekisho-policy-version"] = exchange.policy_version or default_version


def new_request_id() -> str:
    return "req_" + uuid.uuid4().hex
