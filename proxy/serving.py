"""The listener: connection limits, slow-client timeouts, TLS and a graceful stop.

``web.run_app`` gives none of the bounds a boundary in front of every LLM call needs, so
``sekisho serve`` runs the application through ``serve`` here:

- **At most ``max_connections`` open client connections** per process. One more is answered
  ``503`` with ``Retry-After`` and closed once its request head has arrived (so the client reads
  an answer rather than a reset); beyond a margin of such refusals a connection is closed at
  once, so a flood cannot hold memory either.
- **Header read timeout** (``header_timeout_s``): a request head must be complete that long
  after its first byte (or after the connection opened). A slowloris client dribbling header
  lines gets ``408`` and the connection is closed. aiohttp alone only closes such a connection
  at its keep-alive timeout.
- **Body read timeout** (``body_timeout_s``) is the application's: ``app.body_middleware``
  reads a request's body under it, after authentication.
- **TLS** with ``tls_cert``/``tls_key`` on the API listener (the metrics listener stays plain,
  on loopback by default).
- **Graceful stop** on SIGTERM or SIGINT: ``/readyz`` answers 503 ``draining`` at once; after
  ``shutdown_delay_s`` (time for a load balancer to notice) the listener stops accepting, idle
  connections close, requests and streams in flight finish within ``shutdown_timeout_s`` (then
  they are cancelled), and the process exits 0.

The guard hooks into aiohttp's connection protocol (``RequestHandler``): aiohttp is pinned by
the lock files, and the tests in ``tests/test_serving_e2e.py`` drive every bound over raw
sockets, so a change of those internals fails there rather than silently dropping a bound.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_server import Server

from proxy.app import CLOSE_CONNECTION, DRAINING, METRICS
from proxy.config import Settings

log = logging.getLogger("sekisho.serving")

REFUSAL_MARGIN = 64
"""Refused connections waiting for their request head, beyond ``max_connections``, before new
ones are closed without an answer."""


def _raw_answer(status: int, reason: str, code: str, message: str, retry_after: int | None
                ) -> bytes:
    body = json.dumps({"error": {"message": message, "type": "service_unavailable"
                                 if status == 503 else "invalid_request_error",
                                 "code": code, "param": None}}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Connection: close"]
    if retry_after is not None:
        head.append(f"Retry-After: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


HEADER_TIMEOUT_ANSWER = _raw_answer(
    408, "Request Timeout", "header_timeout",
    "The request head did not arrive in time; the connection is closed.", None)


class Guard:
    """What the connections of one listener share: the bounds and the counters."""

    def __init__(self, settings: Settings, on_refused: Callable[[str], None]) -> None:
        self.max_connections = settings.max_connections
        self.header_timeout = settings.header_timeout_s
        self.on_refused = on_refused
        self.open = 0
        self.refusing = 0


class GuardedHandler(RequestHandler):
    """aiohttp's HTTP/1.1 protocol with a connection limit and a request-head deadline."""

    def __init__(self, manager: Server, *, guard: Guard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self._guard = guard
        self._counted = False
        self._refused = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        guard = self._guard
        if guard.open >= guard.max_connections:
            guard.on_refused("limit")
            if guard.refusing >= REFUSAL_MARGIN:
                transport.close()
                return
            guard.refusing += 1
            self._refused = True
            self._request_handler = self._refuse  # answered once the request head is read
        else:
            guard.open += 1
            self._counted = True
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_head_timer()
        if self._counted:
            self._guard.open -= 1
            self._counted = False
        if self._refused:
            self._guard.refusing -= 1
            self._refused = False
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting_for_head = not self._request_in_progress and not self._messages
        if waiting_for_head and self._head_timer is None:
            self._arm_head_timer()
        super().data_received(data)
        if self._messages or self._request_in_progress:
            self._disarm_head_timer()

    def _arm_head_timer(self) -> None:
        if self._guard.header_timeout > 0:
            self._head_timer = self._loop.call_later(self._guard.header_timeout,
                                                     self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._messages or self._request_in_progress or self.transport is None:
            return
        self._guard.on_refused("header_timeout")
        self.transport.write(HEADER_TIMEOUT_ANSWER)
        self.force_close()

    async def _handle_request(self, request: web.BaseRequest, start_time: float | None,
                              request_handler: Callable[[web.BaseRequest],
                                                        Awaitable[web.StreamResponse]],
                              ) -> tuple[web.StreamResponse, bool]:
        answered = await super()._handle_request(request, start_time, request_handler)
        if request.get(CLOSE_CONNECTION):
            # Closed now, not after aiohttp's lingering read of an unread body (seconds more
            # for a client that is too slow already).
            self.force_close()
        return answered

    async def _refuse(self, request: web.BaseRequest) -> web.StreamResponse:
        response = web.json_response(
            {"error": {"message": "Sekisho has too many open connections. Try again shortly.",
                       "type": "service_unavailable", "code": "too_many_connections",
                       "param": None}},
            status=503, headers={"Retry-After": "1"})
        response.force_close()
        request[CLOSE_CONNECTION] = True
        return response


class GuardedServer(Server):
    def __init__(self, *args: Any, guard: Guard, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._guard = guard

    def __call__(self) -> RequestHandler:
        return GuardedHandler(self, guard=self._guard, loop=self._loop, **self._kwargs)


class GuardedRunner(web.AppRunner):
    """An ``AppRunner`` whose connections are ``GuardedHandler``s."""

    def __init__(self, app: web.Application, guard: Guard, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._guard = guard

    async def _make_server(self) -> Server:
        plain = await super()._make_server()
        # The application's own handler and options, served by the guarded protocol.
        return GuardedServer(plain.request_handler, request_factory=plain.request_factory,
                             handler_cancellation=plain.handler_cancellation,
                             loop=plain._loop, guard=self._guard, **plain._kwargs)


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The listener's TLS context (TLS 1.2 and newer), or None for plain HTTP."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
    return context


async def listen(app: web.Application, settings: Settings, *, reuse_port: bool = False
                 ) -> web.AppRunner:
    """Start ``app`` on ``settings.host:port`` behind the guard; ``runner.cleanup()`` stops it
    gracefully (bounded by ``shutdown_timeout_s``)."""
    refused = app[METRICS].connections_refused
    guard = Guard(settings, lambda reason: refused.labels(reason).inc())
    runner = GuardedRunner(app, guard, access_log=None, handle_signals=False,
                           keepalive_timeout=settings.keepalive_timeout_s,
                           shutdown_timeout=settings.shutdown_timeout_s)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=tls_context(settings),
                           reuse_port=reuse_port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


async def serve(app: web.Application, settings: Settings, *, reuse_port: bool) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, then stop gracefully (see the module doc)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    runner = await listen(app, settings, reuse_port=reuse_port)
    try:
        await stop.wait()
        app[DRAINING].set()
        log.info("stopping: draining for %.1f s, then finishing requests in flight (at most"
                 " %.1f s)", settings.shutdown_delay_s, settings.shutdown_timeout_s)
        if settings.shutdown_delay_s:
            await asyncio.sleep(settings.shutdown_delay_s)
    finally:
        await runner.cleanup()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("stopped")
