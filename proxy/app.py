"""The aiohttp application: routes, middlewares, start-up and shutdown.

Heavy things are built once and held in typed ``AppKey``s for the application's lifetime: the
detector (loaded in a worker thread at start-up, so ``/healthz`` answers at once and
``/readyz`` turns 200 when models and policy are ready), the upstream sessions, the metrics
registry. Until the detector is loaded, inspected endpoints answer 503: nothing is ever forwarded
without inspection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from proxy.config import Settings
from proxy.detection.detector import Detector
from proxy.errors import Handler, NotFound, Unavailable, UpstreamError, error_middleware
from proxy.exchange import Endpoint
from proxy.observe.audit import AuditLog
from proxy.observe.metrics import Metrics
from proxy.pipeline import OUTCOME, REQUEST_ID, Outcome, Pipeline, PolicyHolder, new_request_id
from proxy.policy import Policy, load_policy
from proxy.upstream import Upstream

log = logging.getLogger("sekisho.app")

PIPELINE = web.AppKey("pipeline", Pipeline)
SETTINGS = web.AppKey("settings", Settings)
METRICS = web.AppKey("metrics", Metrics)
DETECTOR = web.AppKey("detector", Detector)
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
        response.headers["x-sekisho-route"] = outcome.route.value
        response.headers["x-sekisho-rule"] = outcome.rule
        response.headers["x-request-id"] = request[REQUEST_ID]
        version = request.app[PIPELINE].policy.current.version
        response.headers["x-sekisho-policy-version"] = version
    return response


def _endpoint_handler(endpoint: Endpoint) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        if not request.app[READY].is_set():
            raise Unavailable("Sekisho is starting: the detector is not loaded yet",
                              code="not_ready")
        return await request.app[PIPELINE].handle(request, endpoint)

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
    for owner, result in zip(("cloud", "local"), results, strict=True):
        if isinstance(result, BaseException):
            if not isinstance(result, UpstreamError):
                raise result
            failures += 1
            pipeline.metrics.upstream_errors.labels(owner, "models").inc()
            continue
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
    active = policy if policy is not None else load_policy(settings.policy)
    metrics.policy_info.labels(active.version, active.path).set(1)
    detector = detector if detector is not None else Detector(
        ja_engine=settings.ja_engine, cache_size=settings.detection_cache_size
    )
    cloud = Upstream("cloud", settings.cloud_url, settings.cloud_api_key,
                     connect_timeout=settings.connect_timeout_s,
                     read_timeout=settings.upstream_timeout_s)
    local = Upstream("local", settings.local_url, settings.local_api_key,
                     connect_timeout=settings.connect_timeout_s,
                     read_timeout=settings.upstream_timeout_s)
    # Detection is CPU-bound: it runs off the event loop so streams keep flowing meanwhile.
    # One thread: spaCy pipelines are not documented as safe for concurrent use, and under the
    # GIL a second thread would add contention, not throughput.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sekisho-detect")
    audit = AuditLog(settings.audit_log)
    app[SETTINGS] = settings
    app[METRICS] = metrics
    app[DETECTOR] = detector
    app[READY] = asyncio.Event()
    app[PIPELINE] = Pipeline(settings, detector, PolicyHolder(active), cloud, local, metrics,
                             audit, executor)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await cloud.start()
        await local.start()
        loader: asyncio.Task[None] | None = None
        if detector.loaded:
            app[READY].set()
        else:
            async def load() -> None:
                await asyncio.get_running_loop().run_in_executor(executor, detector.load)
                app[READY].set()
                log.info("detector loaded; ready")

            loader = asyncio.create_task(load())
        yield
        if loader is not None and not loader.done():
            loader.cancel()
        await cloud.close()
        await local.close()
        executor.shutdown(wait=False, cancel_futures=True)
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
    app.router.add_route("*", "/v1/{tail:.*}", unknown_v1)
    return app
