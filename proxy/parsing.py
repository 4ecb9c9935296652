"""Parsing: a request's bytes → a validated JSON body for its endpoint, or a clear 4xx.

Takes the HTTP request and the limits; returns the body as a dict. Never forwards, never logs
content: what is wrong is said in the error (``invalid_json``, ``request_too_large``,
``too_deep``, ``too_many_messages``, ``too_many_parts``, ``text_too_long``, the field that fails
validation), never what the body holds.

The limits bound every later stage by construction: nesting deeper than ``max_depth`` is
refused here, so no walk over the body (extraction, model mapping, redaction) recurses deeper
than the configuration allows, whatever a client sends; NaN, Infinity and numbers too large
for a float (``1e400``) are refused rather than forwarded as invalid JSON.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from aiohttp import web

from proxy.errors import InvalidRequest, PayloadTooLarge, RequestTimeout
from proxy.extraction import validate
from proxy.values import Endpoint, Limits

# A \uD800-\uDFFF escape, or the code point itself, which the decoding lets through (as
# json.loads does: invalid UTF-8 bytes \xed\xa0\x80, or an unpaired UTF-16 or UTF-32 unit).
_MAY_HOLD_A_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]|[\ud800-\udfff]")


async def read_body(request: web.Request, max_bytes: int, timeout_s: float) -> bytes:
    """The whole body, within ``max_bytes`` (413) and ``timeout_s`` (408, ``RequestTimeout``);
    later reads of the request return it at once."""
    too_large = PayloadTooLarge(f"Request body exceeds the limit of {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    try:
        async with asyncio.timeout(timeout_s):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(f"The request body did not arrive within {timeout_s:g} s") from None
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None  # a chunked body has no Content-Length to refuse up front


async def parse(request: web.Request, endpoint: Endpoint, limits: Limits) -> dict[str, Any]:
    """The request's body (read by ``read_body`` in the body middleware), parsed."""
    return parse_bytes(await request.read(), endpoint, limits)


def parse_bytes(raw: bytes, endpoint: Endpoint, limits: Limits | None = None) -> dict[str, Any]:
    limits = limits or Limits()
    try:
        # Decoded as json.loads decodes bytes (UTF-8, -16 or -32, told by the first bytes), so
        # that the surrogate check below reads the same text whatever the encoding.
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
        body = json.loads(text, parse_constant=_reject_constant, parse_float=_finite)
    except (ValueError, UnicodeError, RecursionError):
        raise InvalidRequest("Request body is not valid JSON", code="invalid_json") from None
    check_limits(body, endpoint, limits)
    if _MAY_HOLD_A_SURROGATE.search(text):
        # A lone surrogate ("\ud800") parses but cannot be forwarded as UTF-8; only bodies that
        # could hold one pay for the check (after the depth check: this walk recurses).
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeError:
            raise InvalidRequest("Request body is not valid JSON", code="invalid_json") from None
    return validate(endpoint, body)


def check_limits(body: Any, endpoint: Endpoint, limits: Limits) -> None:
    """Depth, messages, content parts and total text of a parsed body, without recursion."""
    chars = 0
    parts = 0
    stack: list[tuple[Any, int, str | None]] = [(body, 1, None)]
    while stack:
        value, depth, key = stack.pop()
        if isinstance(value, str):
            chars += len(value)
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > limits.max_depth:
            raise InvalidRequest(f"Request body is nested deeper than {limits.max_depth} levels",
                                 code="too_deep")
        if isinstance(value, dict):
            for k, v in value.items():
                chars += len(k)
                stack.append((v, depth + 1, k))
        else:
            if key == "content":
                parts += sum(1 for item in value if isinstance(item, dict))
            stack.extend((v, depth + 1, key) for v in value)
        if chars > limits.max_text_chars:
            raise PayloadTooLarge(f"Request text exceeds {limits.max_text_chars} characters",
                                  code="text_too_long")
    if chars > limits.max_text_chars:
        raise PayloadTooLarge(f"Request text exceeds {limits.max_text_chars} characters",
                              code="text_too_long")
    if isinstance(body, dict):
        items = body.get("messages") if endpoint is Endpoint.CHAT else body.get("input")
        if isinstance(items, list) and len(items) > limits.max_messages:
            raise InvalidRequest(f"More than {limits.max_messages} messages or input items",
                                 code="too_many_messages")
    if parts > limits.max_parts:
        raise InvalidRequest(f"More than {limits.max_parts} content parts",
                             code="too_many_parts")


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: forwarding them would send an upstream invalid JSON."""
    raise ValueError(f"{name} is not valid JSON")


def _finite(text: str) -> float:
    """A number too large for a float (``1e400``) would be forwarded as ``Infinity``."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value
