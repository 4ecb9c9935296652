"""The aiohttp application: routes, middlewares, start-up and shutdown.

Heavy things are built once and held in typed ``AppKey``s for the application's lifetime: the
detector (loaded in a worker thread at start-up, so ``/healthz`` answers at once and
``/readyz`` turns 200 when models and policy are ready), the upstream sessions, the metrics
registry. Until the detector is loaded, inspected endpoints answer 503: nothing is ever forwarded
without inspection.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import json
import logging
import signal
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from proxy.config import Settings
from proxy.detection.detector import Analyzer, Detector
from proxy.detection.pool import DetectorPool
from proxy.errors import (
    Handler,
    InvalidRequest,
    NotFound,
    Unauthorized,
    Unavailable,
    UpstreamError,
    error_middleware,
)
from proxy.exchange import Endpoint
from proxy.observe.audit import AuditLog
from proxy.observe.metrics import Metrics
from proxy.pipeline import OUTCOME, REQUEST_ID, Outcome, Pipeline, new_request_id, stamp_headers
from proxy.policy import Policy
from proxy.policy.explain import explain
from proxy.policy.store import DEFAULT_TENANT, PolicyStore
from proxy.upstream import Upstream

log = logging.getLogger("sekisho.app")

PIPELINE = web.AppKey("pipeline", Pipeline)
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
DETECTOR = web.AppKey("detector", Analyzer)
READY = web.AppKey("ready", asyncio.Event)

_REQUEST_ID_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:")


def _client_request_id(value: str | None) -> str | None:
    # Echo a client's id only if it is a plain token: it lands in logs and the audit line.
    if value and len(value) <= 128 and all(ch in _REQUEST_ID_OK for ch in value):
        return value
    return None


@web.middleware
async def sekisho_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id and an ``Outcome``; stamp route, rule and id on every answer."""
    request[REQUEST_ID] = (
        _client_request_id(request.headers.get("x-request-id")) or new_request_id()
    )
    outcome = Outcome()
    request[OUTCOME] = outcome
    response = await handler(request)
    if not response.prepared:
        stamp_headers(response, outcome, request[REQUEST_ID],
                      request.app[PIPELINE].store.default.version)
    return response


def _endpoint_handler(endpoint: Endpoint) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await request.app[PIPELINE].handle(
            request, endpoint, ready=request.app[READY].is_set())

    return handler


async def models(request: web.Request) -> web.Response:
    """The union of both upstreams' models plus configured aliases; one upstream may be down."""
    pipeline = request.app[PIPELINE]
    settings = request.app[SETTINGS]
    timeout = settings.connect_timeout_s
    results = await asyncio.gather(
        pipeline.cloud.models(timeout), pipeline.local.models(timeout), return_exceptions=True
    )
    data: list[dict[str, Any]] = []
    seen: set[str] = set()
    failures = 0
    for upstream, result in zip((pipeline.cloud, pipeline.local), results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, UpstreamError):
                raise result
            failures += 1
            pipeline.metrics.upstream_errors.labels(upstream.name, "models").inc()
            continue
        pipeline.note_models(upstream, result)
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
    if request.app[READY].is_set():
        return web.json_response({"status": "ready"})
    return web.json_response({"status": "starting"}, status=503)


async def metrics_handler(request: web.Request) -> web.Response:
    body = generate_latest(request.app[METRICS].registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def unknown_v1(request: web.Request) -> web.Response:
    raise NotFound(f"Unknown endpoint: {request.method} {request.path}", code="unknown_url")


def reload_policies(app: web.Application, *, force: bool = False) -> None:
    """Apply edited policy/keys files (each whole or not at all) and count the outcome."""
    pipeline = app[PIPELINE]
    results = pipeline.store.reload(force=force)
    for _name, ok, _errors in results:
        pipeline.metrics.policy_reloads.labels("success" if ok else "error").inc()
    if results:
        _export_policies(pipeline.metrics, pipeline.store)


def _export_policies(metrics: Metrics, store: PolicyStore) -> None:
    metrics.set_policies({(p.version, p.path) for p in store.policies()})


async def _probe_once(app: web.Application, timeout: float) -> None:
    """Ask each upstream for its model list: sekisho_upstream_up is the answer."""
    pipeline = app[PIPELINE]

    async def probe(upstream: Upstream) -> None:
        try:
            models = await upstream.models(timeout)
        except UpstreamError:
            pipeline.metrics.upstream_up.labels(upstream.name).set(0)
        else:
            pipeline.metrics.upstream_up.labels(upstream.name).set(1)
            pipeline.note_models(upstream, models)

    await asyncio.gather(probe(pipeline.cloud), probe(pipeline.local))


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
    """``POST /sekisho/explain?endpoint=chat&tenant=NAME`` with the admin key; body = request."""
    settings = request.app[SETTINGS]
    header = request.headers.get("Authorization", "")
    given = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not settings.admin_key or not hmac.compare_digest(given.encode(),
                                                         settings.admin_key.encode()):
        raise Unauthorized("The admin API needs the admin key (SEKISHO_ADMIN_KEY).")
    if not request.app[READY].is_set():
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
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise InvalidRequest("Request body is not valid JSON", code="invalid_json") from None
    report = await asyncio.get_running_loop().run_in_executor(
        pipeline.executor,
        functools.partial(explain, body, endpoint, pipeline.store.policy_for(tenant),
                          pipeline.detector, settings, tenant=tenant),
    )
    return web.json_response(report, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def create_app(
    settings: Settings,
    *,
    detector: Detector | None = None,
    policy: Policy | None = None,
) -> web.Application:
    """Build the application. A pre-loaded ``detector`` (tests) skips model loading."""
    app = web.Application(
        middlewares=[sekisho_headers, error_middleware],
        client_max_size=settings.max_body_bytes,
    )
    metrics = Metrics()
    store = PolicyStore(settings.policy, keys_path=settings.keys_file,
                        shadow_path=settings.shadow_policy, default_policy=policy)
    _export_policies(metrics, store)
    analyzer: Analyzer
    if detector is not None:
        analyzer = detector
    elif settings.detection_workers > 0:
        analyzer = DetectorPool(settings.detection_workers, ja_engine=settings.ja_engine,
                                en_ner=settings.en_ner, cache_size=settings.detection_cache_size)
    else:
        analyzer = Detector(ja_engine=settings.ja_engine, en_ner=settings.en_ner,
                            cache_size=settings.detection_cache_size)
    cloud = Upstream("cloud", settings.cloud_url, settings.cloud_api_key,
                     connect_timeout=settings.connect_timeout_s,
                     read_timeout=settings.upstream_timeout_s,
                     follow_same_origin_redirects=settings.follow_same_origin_redirects)
    local = Upstream("local", settings.local_url, settings.local_api_key,
                     connect_timeout=settings.connect_timeout_s,
                     read_timeout=settings.upstream_timeout_s,
                     follow_same_origin_redirects=settings.follow_same_origin_redirects)
    # Detection is CPU-bound: it runs off the event loop so streams keep flowing meanwhile.
    # In-process, one thread: spaCy pipelines are not documented as safe for concurrent use,
    # and under the GIL a second thread would add contention, not throughput. With a process
    # pool, one waiting thread per worker process.
    threads = settings.detection_workers if isinstance(analyzer, DetectorPool) else 1
    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sekisho-detect")
    audit = AuditLog(settings.audit_log)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[DETECTOR] = analyzer
    app[READY] = asyncio.Event()
    app[PIPELINE] = Pipeline(settings, analyzer, store, cloud, local, metrics, audit, executor)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await cloud.start()
        await local.start()
        loader: asyncio.Task[None] | None = None
        if analyzer.loaded:
            app[READY].set()
        else:
            async def load() -> None:
                try:
                    await asyncio.get_running_loop().run_in_executor(executor, analyzer.load)
                except Exception as exc:
                    # Never ready: /readyz stays 503 and requests get 503 (nothing is forwarded
                    # undetected); say why, or an operator sees only a proxy that never starts.
                    log.critical("the detector failed to load: %s: %s", type(exc).__name__, exc)
                    raise
                app[READY].set()
                log.info("detector loaded; ready")

            loader = asyncio.create_task(load())
        watcher = asyncio.create_task(_watch_policies(app)) if settings.policy_poll_s else None
        # One probe before serving, bounded, so the gauges are meaningful from the first scrape.
        await _probe_once(app, min(settings.connect_timeout_s, 2.0))
        prober = asyncio.create_task(_probe_upstreams(app))
        _on_sighup(app)
        yield
        tasks = [t for t in (loader, watcher, prober) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        # Wait for them: a probe cancelled mid-request must release its connection before the
        # sessions close.
        await asyncio.gather(*tasks, return_exceptions=True)
        await cloud.close()
        await local.close()
        executor.shutdown(wait=False, cancel_futures=True)
        if isinstance(analyzer, DetectorPool):
            analyzer.close()
        audit.close()

    app.cleanup_ctx.append(lifecycle)
    for endpoint, path in (
        (Endpoint.CHAT, "/v1/chat/completions"),
        (Endpoint.COMPLETIONS, "/v1/completions"),
        (Endpoint.EMBEDDINGS, "/v1/embeddings"),
        (Endpoint.RESPONSES, "/v1/responses"),
    ):
        app.router.add_post(path, _endpoint_handler(endpoint))
    app.router.add_get("/v1/models", models)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_post("/sekisho/explain", admin_explain)
    app.router.add_route("*", "/v1/{tail:.*}", unknown_v1)
    return app
