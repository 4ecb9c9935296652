"""The aiohttp application: routes, middlewares, start-up and shutdown.

Heavy things are built once and held in typed ``AppKey``s for the application's lifetime: the
detection runner (its detector loaded in a worker thread at start-up, so ``/healthz`` answers at
once and ``/readyz`` turns 200 when models and policy are ready), the upstream sessions, the
metrics registry. Until the detector is loaded, inspected endpoints answer 503: nothing is ever
forwarded without inspection.

Every request passes four middlewares, outermost first: ``exchange_middleware`` gives it an id
and an ``Exchange``, stamps route, rule and id on the answer and records the finished Exchange
(inspected endpoints); ``error_middleware`` renders any error OpenAI-style; ``auth_middleware``
sets the tenant from the client's key (401 for an unknown one); ``body_middleware`` reads the
body under ``body_timeout_s`` (after authentication, so an unknown client cannot hold a read
open). Then the handler: the ``Pipeline`` for the inspected endpoints. The listener's own
bounds (connections, request heads, TLS, graceful stop) are ``proxy.serving``'s.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import os
import signal
import ssl
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from proxy.catalog import Catalog
from proxy.config import Settings
from proxy.detection.detector import Analyzer
from proxy.detection.runner import Runner
from proxy.errors import (
    Handler,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    RequestTimeout,
    Unauthorized,
    Unavailable,
    UpstreamError,
    error_middleware,
    error_response,
    quiet_http_layer,
)
from proxy.exchange import Exchange
from proxy.limits import Limiter, MemoryLimiter, RedisLimiter
from proxy.observe.audit import AuditLog
from proxy.observe.metrics import Metrics
from proxy.observe.record import Recorder
from proxy.parsing import parse, read_body
from proxy.pipeline import Pipeline, new_request_id, stamp_headers
from proxy.policy import Policy
from proxy.policy.store import DEFAULT_TENANT, PolicyStore
from proxy.resilience import CircuitBreaker, State
from proxy.state import ConversationStore, MemoryConversations, RedisBackend, RedisConversations
from proxy.tools.explain import report
from proxy.upstream import Upstream, UpstreamModelsUnavailable
from proxy.values import Endpoint, Route

log = logging.getLogger("sekisho.app")

PIPELINE = web.AppKey("pipeline", Pipeline)
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
RUNNER = web.AppKey("runner", Runner)
RECORDER = web.AppKey("recorder", Recorder)
METRICS_LISTENER = web.AppKey("metrics_listener", dict)
"""``{"host", "port"}`` of the metrics listener once it is bound (port 0 picks a free one)."""
DRAINING = web.AppKey("draining", asyncio.Event)
"""Set when the process has been asked to stop (``proxy.serving``): ``/readyz`` answers 503."""
EXCHANGE = web.RequestKey("sekisho_exchange", Exchange)
CLOSE_CONNECTION = web.RequestKey("sekisho_close_connection", bool)
"""Set on a request whose connection is closed once its answer is written (a body that
did not arrive in time): the listener skips aiohttp's lingering read of the rest."""

ENDPOINT_ROUTES: dict[str, Endpoint] = {
    "/v1/chat/completions": Endpoint.CHAT,
    "/v1/completions": Endpoint.COMPLETIONS,
    "/v1/embeddings": Endpoint.EMBEDDINGS,
    "/v1/responses": Endpoint.RESPONSES,
}
# The methods each known /v1 path answers (a wrong one is 405 with Allow, not 404).
KNOWN_METHODS = {**{path: "POST" for path in ENDPOINT_ROUTES}, "/v1/models": "GET, HEAD"}

_REQUEST_ID_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def _client_request_id(value: str | None) -> str | None:
    # Echo a client's id only if it is a plain token: it lands in logs and the audit line.
    if value and len(value) <= 128 and all(ch in _REQUEST_ID_OK for ch in value):
        return value
    return None


@web.middleware
async def exchange_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id and an ``Exchange``; stamp route, rule and id on every answer;
    record what an inspected request came to once it is over."""
    resource = request.match_info.route.resource
    endpoint = ENDPOINT_ROUTES.get(resource.canonical) if resource is not None else None
    exchange = Exchange(
        _client_request_id(request.headers.get("x-request-id")) or new_request_id(), endpoint)
    request[EXCHANGE] = exchange
    app = request.app
    if endpoint is None:
        response = await handler(request)
        stamp_headers(response, exchange, app[PIPELINE].store.default.version)
        return response
    metrics = app[METRICS]
    metrics.in_flight.inc()
    try:
        response = await handler(request)
        exchange.status = response.status
        if not response.prepared:
            stamp_headers(response, exchange, app[PIPELINE].store.default.version)
        return response
    finally:
        # Recorded before in_flight drops, so "no requests in flight" means "all accounted":
        # a streamed answer reaches the client before this runs.
        try:
            app[RECORDER].record(exchange)
        finally:
            metrics.in_flight.dec()


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The tenant of the client's API key for every ``/v1`` route; 401 for an unknown key when
    a keys file is configured."""
    exchange = request[EXCHANGE]
    if request.path.startswith("/v1/") or request.path == "/v1":
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        api_key = token.strip() if scheme.lower() == "bearer" else None
        tenant = request.app[PIPELINE].store.tenant_for(api_key)
        if tenant is None:
            raise Unauthorized("Incorrect or missing API key for this Sekisho proxy.")
        exchange.tenant = tenant
    return await handler(request)


@web.middleware
async def body_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Read a request's body within ``body_timeout_s`` (a slow client gets 408 and the
    connection closes); the handlers then find it read."""
    if request.body_exists:
        settings = request.app[SETTINGS]
        try:
            await read_body(request, settings.max_body_bytes, settings.body_timeout_s)
        except RequestTimeout as err:
            request.app[METRICS].connections_refused.labels("body_timeout").inc()
            response = error_response(err)
            response.force_close()
            request[CLOSE_CONNECTION] = True
            return response
    return await handler(request)


async def inspected(request: web.Request) -> web.StreamResponse:
    return await request.app[PIPELINE].handle(request, request[EXCHANGE])


async def models(request: web.Request) -> web.Response:
    """The union of both upstreams' models plus configured aliases; one upstream may be down."""
    pipeline = request.app[PIPELINE]
    settings = request.app[SETTINGS]
    timeout = settings.connect_timeout_s
    upstreams = (pipeline.upstreams[Route.CLOUD], pipeline.upstreams[Route.LOCAL])
    results = await asyncio.gather(*(u.models(timeout) for u in upstreams),
                                   return_exceptions=True)
    data: list[dict[str, Any]] = []
    seen: set[str] = set()
    failures = 0
    for upstream, result in zip(upstreams, results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, UpstreamModelsUnavailable):
                raise result
            failures += 1
            request.app[METRICS].upstream_errors.labels(upstream.name, "models").inc()
            continue
        pipeline.catalog.note(upstream.name, result)
        for model in result:
            if model["id"] not in seen:
                seen.add(model["id"])
                data.append(model)
    created = int(time.time())
    for alias in settings.model_aliases:
        if alias not in seen:
            seen.add(alias)
            data.append({"id": alias, "object": "model", "created": created,
                         "owned_by": "sekisho"})
    if failures == 2 and not data:
        raise UpstreamError("Neither upstream's model list is available", code="models_unavailable")
    return web.json_response({"object": "list", "data": data})


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready once the detector is loaded, until the process is asked to stop (``draining``);
    each upstream's breaker state and the state backend's beside it (neither an open breaker
    nor an unreachable Redis makes Sekisho unready: it still serves, failing closed)."""
    breakers = request.app[PIPELINE].breakers
    upstreams = {route.value: {"circuit": breaker.state.value}
                 for route, breaker in breakers.items()}
    detail = {"upstreams": upstreams, "state": request.app[PIPELINE].conversations.status()}
    if request.app[DRAINING].is_set():
        return web.json_response({"status": "draining", **detail}, status=503)
    if request.app[RUNNER].loaded:
        return web.json_response({"status": "ready", **detail})
    return web.json_response({"status": "starting", **detail}, status=503)


def _metrics_response(metrics: Metrics) -> web.Response:
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def metrics_handler(request: web.Request) -> web.Response:
    """``/metrics`` on the API port: for the admin key only (tenant names and policy paths are
    not for every client); Prometheus scrapes the metrics listener instead."""
    require_admin(request)
    return _metrics_response(request.app[METRICS])


def require_admin(request: web.Request) -> None:
    settings = request.app[SETTINGS]
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not settings.admin_key or not hmac.compare_digest(given.encode(),
                                                         settings.admin_key.encode()):
        raise Unauthorized("This needs the admin key (SEKISHO_ADMIN_KEY); metrics are served"
                           " without it on the metrics listener (metrics_host:metrics_port).")


async def unknown_v1(request: web.Request) -> web.Response:
    # The raw path: /v1/chat%2Fcompletions is not the chat route, whatever it decodes to.
    allowed = KNOWN_METHODS.get(request.rel_url.raw_path)
    if allowed is not None:
        raise MethodNotAllowed(f"Method {request.method} not allowed on {request.path}",
                               headers={"Allow": allowed})
    raise NotFound(f"Unknown endpoint: {request.method} {request.path}", code="unknown_url")


async def _start_metrics_listener(app: web.Application) -> web.AppRunner:
    """``GET /metrics`` without authentication, on its own address (loopback by default), for
    Prometheus. With ``--workers N`` every worker listens on the same port (the values are
    shared, so any one of them answers for all)."""
    settings, metrics = app[SETTINGS], app[METRICS]

    async def scrape(_request: web.Request) -> web.Response:
        return _metrics_response(metrics)

    metrics_app = web.Application()
    metrics_app.router.add_get("/metrics", scrape)
    runner = web.AppRunner(metrics_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.metrics_host, settings.metrics_port,
                       reuse_port=bool(os.environ.get("SEKISHO_WORKER")))
    await site.start()
    host, port = runner.addresses[0][:2]
    app[METRICS_LISTENER].update(host=host, port=port)
    return runner


def _breaker_metrics(metrics: Metrics, route: Route) -> Callable[[State], None]:
    codes = {State.CLOSED: 0, State.HALF_OPEN: 1, State.OPEN: 2}

    def changed(state: State) -> None:
        metrics.circuit_state.labels(route.value).set(codes[state])
        metrics.circuit_transitions.labels(route.value, state.value).inc()
        log.warning("%s upstream circuit %s", route.value, state.value)

    return changed


def _state(settings: Settings, metrics: Metrics
           ) -> tuple[RedisBackend | None, ConversationStore, Limiter]:
    """The conversation store and the limiter of ``state_backend``."""
    if settings.state_backend == "memory":
        return None, MemoryConversations(settings.response_memory), MemoryLimiter()
    backend = RedisBackend(settings.state_backend, timeout_s=settings.state_timeout_s,
                           backoff_s=settings.state_backoff_s,
                           on_error=lambda operation: metrics.state_errors.labels(operation).inc())
    # A lease outlives the longest request a client can hold open, silence included.
    lease = settings.upstream_timeout_s + settings.shutdown_timeout_s
    return (backend, RedisConversations(backend, settings.state_ttl_s),
            RedisLimiter(backend, lease_s=lease))


def _upstream_tls(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    """Certificates are verified (True: the system's CAs); a CA bundle adds an on-prem CA."""
    if ca_bundle is None:
        return True
    return ssl.create_default_context(cafile=str(ca_bundle))


def reload_policies(app: web.Application, *, force: bool = False) -> None:
    """Apply edited policy/keys files (each whole or not at all) and count the outcome."""
    store, metrics = app[PIPELINE].store, app[METRICS]
    results = store.reload(force=force)
    for _name, ok, _errors in results:
        metrics.policy_reloads.labels("success" if ok else "error").inc()
    if results:
        _export_policies(metrics, store)


def _export_policies(metrics: Metrics, store: PolicyStore) -> None:
    metrics.set_policies({(p.version, p.path) for p in store.policies()})


async def _probe_once(app: web.Application, timeout: float) -> None:
    """Ask each upstream for its model list: sekisho_upstream_up is the answer."""
    pipeline, metrics = app[PIPELINE], app[METRICS]

    async def probe(route: Route, upstream: Upstream) -> None:
        try:
            models = await upstream.models(timeout)
        except UpstreamModelsUnavailable:
            metrics.upstream_up.labels(upstream.name).set(0)
            pipeline.breakers[route].probe(False)
        else:
            metrics.upstream_up.labels(upstream.name).set(1)
            pipeline.breakers[route].probe(True)
            pipeline.catalog.note(upstream.name, models)

    await asyncio.gather(*(probe(r, u) for r, u in pipeline.upstreams.items()))


async def _probe_upstreams(app: web.Application) -> None:
    settings = app[SETTINGS]
    while True:
        await asyncio.sleep(settings.health_interval_s)
        await _probe_once(app, settings.connect_timeout_s)


async def _watch_policies(app: web.Application) -> None:
    interval = app[SETTINGS].policy_poll_s
    while True:
        await asyncio.sleep(interval)
        try:
            reload_policies(app)
        except Exception as exc:  # noqa: BLE001 - the watcher must outlive any surprise
            log.error("policy watcher error: %s", type(exc).__name__)


def _on_sighup(app: web.Application) -> None:
    try:
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGHUP, lambda: reload_policies(app, force=True)
        )
    except (NotImplementedError, RuntimeError, ValueError):
        # Not the main thread (embedded, tests) or no signals here: the file watcher remains.
        pass


async def admin_explain(request: web.Request) -> web.Response:
    """``POST /sekisho/explain?endpoint=chat&tenant=NAME`` with the admin key; body = request.
    The request is inspected as the proxy would (under the deadline), and never forwarded."""
    settings = request.app[SETTINGS]
    require_admin(request)
    if not request.app[RUNNER].loaded:
        raise Unavailable("Sekisho is starting: the detector is not loaded yet", code="not_ready")
    try:
        endpoint = Endpoint(request.query.get("endpoint", "chat"))
    except ValueError:
        raise InvalidRequest("endpoint must be chat, completions, embeddings or responses",
                             param="endpoint") from None
    tenant = request.query.get("tenant", DEFAULT_TENANT)
    pipeline = request.app[PIPELINE]
    if tenant not in pipeline.store.tenants:
        raise InvalidRequest(f"unknown tenant {tenant!r}", param="tenant")
    exchange = Exchange(request[EXCHANGE].request_id, endpoint, tenant=tenant)
    exchange.body = await parse(request, endpoint, settings.limits)
    inspection = await pipeline.inspect(exchange, {})
    body = report(inspection, pipeline.store.policy_for(tenant), settings, tenant=tenant)
    return web.json_response(body, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def create_app(
    settings: Settings,
    *,
    detector: Analyzer | None = None,
    policy: Policy | None = None,
) -> web.Application:
    """Build the application. A pre-loaded ``detector`` (tests) skips model loading."""
    quiet_http_layer()
    app = web.Application(
        middlewares=[exchange_middleware, error_middleware, auth_middleware, body_middleware],
        client_max_size=settings.max_body_bytes,
    )
    metrics = Metrics()
    store = PolicyStore(settings.policy, keys_path=settings.keys_file,
                        shadow_path=settings.shadow_policy, default_policy=policy)
    _export_policies(metrics, store)
    runner = Runner.build(
        workers=settings.detection_workers, ja_engine=settings.ja_engine,
        en_ner=settings.en_ner, cache_size=settings.detection_cache_size,
        max_pending=settings.detection_max_pending, detector=detector,
        recognizer_budget_ms=settings.detection_recognizer_budget_ms,
    )
    upstreams = {
        route: Upstream(route.value, url, key,
                        connect_timeout=settings.connect_timeout_s,
                        read_timeout=settings.upstream_timeout_s,
                        follow_same_origin_redirects=settings.follow_same_origin_redirects,
                        pool_size=settings.upstream_pool_size,
                        pool_timeout=settings.upstream_pool_timeout_s,
                        on_pool_wait=metrics.pool_waits.labels(route.value).inc,
                        ssl=_upstream_tls(ca), organization=organization, project=project)
        for route, url, key, ca, organization, project in (
            (Route.CLOUD, settings.cloud_url, settings.cloud_api_key, settings.cloud_ca_bundle,
             settings.cloud_organization, settings.cloud_project),
            (Route.LOCAL, settings.local_url, settings.local_api_key, settings.local_ca_bundle,
             settings.local_organization, settings.local_project))
    }
    breakers = {route: CircuitBreaker(settings.breaker, _breaker_metrics(metrics, route))
                for route in upstreams}
    local = upstreams[Route.LOCAL]
    catalog = Catalog(settings, lambda: local.models(settings.connect_timeout_s))
    backend, conversations, limiter = _state(settings, metrics)
    audit = AuditLog(settings.audit_log)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[RUNNER] = runner
    app[RECORDER] = Recorder(metrics, audit, settings, catalog)
    app[PIPELINE] = Pipeline(settings, runner, store, upstreams, catalog, conversations,
                             breakers, limiter)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        for upstream in upstreams.values():
            await upstream.start()
        loader: asyncio.Task[None] | None = None
        if not runner.loaded:
            async def load() -> None:
                try:
                    await runner.load()
                except Exception as exc:
                    # Never ready: /readyz stays 503 and requests get 503 (nothing is forwarded
                    # undetected); say why, or an operator sees only a proxy that never starts.
                    log.critical("the detector failed to load: %s: %s", type(exc).__name__, exc)
                    raise
                log.info("detector loaded; ready")

            loader = asyncio.create_task(load())
        watcher = asyncio.create_task(_watch_policies(app)) if settings.policy_poll_s else None
        # One probe before serving, bounded, so the gauges are meaningful from the first scrape.
        await _probe_once(app, min(settings.connect_timeout_s, 2.0))
        prober = asyncio.create_task(_probe_upstreams(app))
        _on_sighup(app)
        listener = await _start_metrics_listener(app) if settings.metrics_port is not None else None
        yield
        if listener is not None:
            await listener.cleanup()
        tasks = [t for t in (loader, watcher, prober) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        # Wait for them: a probe cancelled mid-request must release its connection before the
        # sessions close.
        await asyncio.gather(*tasks, return_exceptions=True)
        for upstream in upstreams.values():
            await upstream.close()
        await conversations.close()
        if backend is not None:
            await backend.close()
        runner.close()
        audit.close()

    app[METRICS_LISTENER] = {}
    app[DRAINING] = asyncio.Event()
    app.cleanup_ctx.append(lifecycle)
    for path in ENDPOINT_ROUTES:
        app.router.add_post(path, inspected)
    app.router.add_get("/v1/models", models)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_post("/sekisho/explain", admin_explain)
    app.router.add_route("*", "/v1/{tail:.*}", unknown_v1)
    return app
