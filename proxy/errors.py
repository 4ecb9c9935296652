"""The one error hierarchy, and the one place it becomes an OpenAI-style response.

Handlers raise a ``ProxyError``; ``error_middleware`` renders it as
``{"error": {"message", "type", "code", "param"}}`` with its status. Any other exception is
logged by type only (never its message, which could quote content) and rendered as a 500 without
a traceback, so a bug never leaks content and the proxy keeps serving.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("sekisho.errors")


class ContentFreeRecords(logging.Filter):
    """Rewrites a third-party logger's records to their exception type alone.

    aiohttp's HTTP layer logs a request it cannot parse (a request line or header over 8,190
    bytes) at ERROR with the start of the offending line — a client's bearer key, a query
    string with an e-mail address. What an operator needs is that it happened and why."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        record.msg = "%s: %s (content not logged)"
        record.args = (record.name, type(exc).__name__ if exc is not None else "error")
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def quiet_http_layer() -> None:
    """Install ``ContentFreeRecords`` on aiohttp's server-side loggers (once)."""
    for name in ("aiohttp.server", "aiohttp.web", "aiohttp.websocket"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ContentFreeRecords) for f in logger.filters):
            logger.addFilter(ContentFreeRecords())


class ProxyError(Exception):
    status = 500
    type = "server_error"
    code = "internal_error"
    default_headers: dict[str, str] = {}
    """Headers every error of this class carries (whether a retry can help)."""

    def __init__(
        self, message: str, *, code: str | None = None, param: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.param = param
        self.headers = {**type(self).default_headers, **(headers or {})}
        """Response headers: ``Retry-After`` where waiting helps, ``x-should-retry: false``
        where nothing but a change of the request or the configuration does."""

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "code": self.code,
                "param": self.param,
            }
        }


class InvalidRequest(ProxyError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class Unauthorized(ProxyError):
    status = 401
    type = "invalid_request_error"
    code = "invalid_api_key"


class Blocked(ProxyError):
    """The policy blocked the request; the message names data kinds, never data."""

    status = 403
    type = "invalid_request_error"
    code = "blocked_by_policy"
    default_headers = {"x-should-retry": "false"}


class NotFound(ProxyError):
    status = 404
    type = "invalid_request_error"
    code = "not_found"


class MethodNotAllowed(ProxyError):
    status = 405
    type = "invalid_request_error"
    code = "method_not_allowed"


class RequestTimeout(ProxyError):
    """The client did not send its request body in time; the connection is closed."""

    status = 408
    type = "invalid_request_error"
    code = "body_timeout"


class PayloadTooLarge(ProxyError):
    status = 413
    type = "invalid_request_error"
    code = "request_too_large"


class UpstreamError(ProxyError):
    """The upstream could not be reached or answered with garbage."""

    status = 502
    type = "upstream_error"
    code = "bad_gateway"


class Unavailable(ProxyError):
    """No upstream may take this request (e.g. sensitive content while local is down)."""

    status = 503
    type = "service_unavailable"
    code = "unavailable"


class UpstreamTimeout(ProxyError):
    status = 504
    type = "upstream_error"
    code = "upstream_timeout"


def error_response(err: ProxyError) -> web.Response:
    return web.Response(
        status=err.status,
        body=json.dumps(err.body(), ensure_ascii=False).encode(),
        content_type="application/json",
        headers=err.headers,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

STARTED = web.RequestKey("sekisho_started_response", web.StreamResponse)
"""A streamed answer whose headers were sent: an error after that cannot become a JSON error
response (the middleware returns the started answer as it is)."""


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Exception as exc:
        started: web.StreamResponse | None = request.get(STARTED)
        if started is not None:
            log.error("error after the answer started: %s in %s %s", type(exc).__name__,
                      request.method, request.path)
            return started
        return _render(request, exc)


def _render(request: web.Request, exc: Exception) -> web.StreamResponse:
    if isinstance(exc, ProxyError):
        return error_response(exc)
    if isinstance(exc, web.HTTPException):
        # aiohttp's own routing errors (404 for unknown paths, 405) become OpenAI-style errors.
        if exc.status == 404:
            return error_response(NotFound(f"Unknown path: {request.method} {request.path}"))
        if exc.status == 405:
            allow = exc.headers.get("Allow")
            return error_response(
                MethodNotAllowed(f"Method {request.method} not allowed on {request.path}",
                                 headers={"Allow": allow} if allow else None)
            )
        if exc.status == 413:
            return error_response(PayloadTooLarge("Request body too large"))
        generic = ProxyError(exc.reason or "HTTP error")
        generic.status = exc.status
        return error_response(generic)
    if isinstance(exc, ConnectionError) and (
            request.transport is None or request.transport.is_closing()):
        # The client went away mid-request (a load generator stopping, a closed tab): nobody
        # is left to answer, and it is no fault of the proxy's. The 499 (nginx's "client
        # closed request") reaches the access log only.
        log.info("client went away during %s %s", request.method, request.path)
        return web.Response(status=499)
    # The last line of defence: never a traceback (or content) to clients or the log.
    log.error("unhandled %s in %s %s", type(exc).__name__, request.method, request.path)
    return error_response(ProxyError("Internal proxy error"))
