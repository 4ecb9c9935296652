"""Parsing: a request's bytes → a validated JSON body for its endpoint, or a clear 4xx.

Takes the HTTP request and the size limit; returns the body as a dict. Never forwards, never
logs content: what is wrong is said in the error (``invalid_json``, ``request_too_large``, the
field that fails validation), never what the body holds.
"""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from proxy.errors import InvalidRequest, PayloadTooLarge
from proxy.extraction import validate
from proxy.values import Endpoint

# A \uD800-\uDFFF escape, or the same code point written as (invalid) UTF-8 bytes, which
# json.loads accepts from bytes.
_MAY_HOLD_A_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")


async def parse(request: web.Request, endpoint: Endpoint, max_bytes: int) -> dict[str, Any]:
    too_large = PayloadTooLarge(f"Request body exceeds the limit of {max_bytes} bytes")
    if request.content_length is not None and request.content_length > max_bytes:
        raise too_large
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large from None  # a chunked body has no Content-Length to refuse up front
    return parse_bytes(raw, endpoint)


def parse_bytes(raw: bytes, endpoint: Endpoint) -> dict[str, Any]:
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
        if _MAY_HOLD_A_SURROGATE.search(raw):
            # A lone surrogate ("\ud800") parses but cannot be forwarded as UTF-8; only bodies
            # that could hold one pay for the check.
            json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeError, RecursionError):
        raise InvalidRequest("Request body is not valid JSON", code="invalid_json") from None
    return validate(endpoint, body)


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON: forwarding them would send an upstream invalid JSON."""
    raise ValueError(f"{name} is not valid JSON")
