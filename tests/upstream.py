"""A real HTTP server speaking the OpenAI wire protocol, recording every request.

Used by end-to-end tests as the "cloud" and "local vLLM" upstreams behind the proxy.
It listens on 127.0.0.1 (free port by default) and answers:

* POST /v1/chat/completions  (stream and non-stream, ``stream_options.include_usage``)
* POST /v1/completions       (stream and non-stream)
* POST /v1/embeddings        (``encoding_format`` float or base64, optional ``dimensions``)
* POST /v1/responses         (stream and non-stream)
* GET  /v1/models, GET /v1/models/{id}

Anything else is a 404 with an OpenAI error JSON body. Every request (including 404s
and requests answered with an injected failure) is recorded *before* any delay or
failure is applied.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import re
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

__all__ = ["RecordedRequest", "RecordingUpstream", "json_strings"]

_ERROR_TYPES: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", None),
    404: ("invalid_request_error", "not_found"),
    408: ("timeout", None),
    409: ("conflict_error", None),
    422: ("invalid_request_error", None),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
}


@dataclass
class RecordedRequest:
    method: str
    path: str  # path only, without query string
    headers: dict[str, str]  # keys lower-cased; repeated headers joined with ", "
    body: Any  # parsed JSON, or None if the body is empty / not JSON
    raw: bytes


class _Stopped(Exception):
    """Raised inside a handler when stop() interrupts a delay, gate or pause."""


def json_strings(value: Any) -> list[str]:
    """Every string value (not keys) inside a JSON-like value, depth first."""
    out: list[str] = []
    stack: list[Any] = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, dict):
            stack.extend(reversed(list(v.values())))
        elif isinstance(v, list):
            stack.extend(reversed(v))
    return out


def _count_tokens(value: Any) -> int:
    """Plausible token count: whitespace-separated words in every string value."""
    return sum(len(s.split()) for s in json_strings(value))


def _split_text(text: str, pieces: int = 3) -> list[str]:
    """Split text into >= ``pieces`` parts whose concatenation is ``text``."""
    parts = re.findall(r"\s*\S+\s*", text) if text.strip() else []
    if len(parts) >= pieces and "".join(parts) == text:
        return parts
    step = max(1, -(-len(text) // pieces))
    parts = [text[i : i + step] for i in range(0, len(text), step)]
    while len(parts) < pieces:
        parts.append("")
    return parts


def _embedding(item: Any, dims: int) -> list[float]:
    """Deterministic vector from the input; values are exact in float32."""
    seed = json.dumps(item, ensure_ascii=False, sort_keys=True).encode()
    digest = b""
    counter = 0
    while len(digest) < dims:
        digest += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return [(b - 128) / 128.0 for b in digest[:dims]]


def _sse_data(obj: Any) -> bytes:
    return b"data: " + json.dumps(obj, ensure_ascii=False).encode() + b"\n\n"


def _sse_event(obj: dict[str, Any]) -> bytes:
    head = f"event: {obj['type']}\n".encode()
    return head + _sse_data(obj)


def _error(status: int, message: str, code: str | None = None,
           headers: dict[str, str] | None = None) -> web.Response:
    etype, default_code = _ERROR_TYPES.get(
        status, ("server_error" if status >= 500 else "invalid_request_error", None)
    )
    payload = {
        "error": {"message": message, "type": etype, "param": None, "code": code or default_code}
    }
    return web.json_response(payload, status=status, headers=headers)


class RecordingUpstream:
    """Fake OpenAI-compatible upstream. Knobs are plain attributes read per request."""

    def __init__(self, name: str, models: list[str] | None = None) -> None:
        self.name = name
        self.models: list[str] = list(models) if models is not None else []
        self.requests: list[RecordedRequest] = []
        self.base_url = ""
        self.port = 0
        # behaviour knobs
        self.fail_status: int | None = None
        self.fail_body: str | None = None
        self.fail_code: str | None = None
        self.fail_headers: dict[str, str] = {}
        # Content type of ``fail_body`` (application/json: a 200 whose JSON is malformed).
        self.fail_content_type = "text/plain"
        # Headers on every answer to a POST (rate limits, say), streamed ones included.
        self.reply_headers: dict[str, str] = {}
        # Streams whose reader went away before the end (a proxy cancelling the request).
        self.stream_disconnects = 0
        # Send this body as a 200 event stream instead of a well-formed one.
        self.stream_body: bytes | None = None
        # Close the connection after this many events of a stream (an upstream crashing).
        self.stream_abort_after: int | None = None
        # JSON (non-stream) answers: send the first half of the body, then wait this long
        # before the rest (an upstream stalling mid-answer), or close the connection there
        # (an upstream crashing mid-answer). The Content-Length announces the whole body.
        self.body_pause: float = 0.0
        self.body_abort: bool = False
        # Answer POSTs with a 200 JSON body of this many bytes, written 1 MiB at a time and
        # never held whole (an upstream answering more than any client should get).
        self.oversize_bytes: int | None = None
        self.delay: float = 0.0
        self.stream_gate: threading.Event | None = None
        self.stream_pause: float = 0.0
        self.reply_text: str | None = None
        # Compute the reply from the request body (an echo of what was received, say).
        self.reply_fn: Callable[[dict[str, Any]], str] | None = None
        # How a streamed reply (or tool-call arguments) is cut into pieces.
        self.pieces_fn: Callable[[str], list[str]] | None = None
        # Write every byte of a stream separately, yielding in between.
        self.byte_writes: bool = False
        # Answer with a tool call (name, arguments JSON) instead of text when this returns one.
        self.tool_call: Callable[[dict[str, Any]], tuple[str, str] | None] | None = None
        # Answer POSTs with a 307 to this URL (but not those already carrying ?redirected=1).
        self.redirect_to: str | None = None
        # internals
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    # ------------------------------------------------------------------ lifecycle
    async def start(self, port: int = 0, ssl_context: ssl.SSLContext | None = None) -> None:
        """Start listening on 127.0.0.1:port (0 = free port), by https with ``ssl_context``.
        Restartable after stop(): pass ``port=up.port`` to come back on the same address."""
        if self._runner is not None:
            raise RuntimeError(f"upstream {self.name!r} already started")
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        scheme = "https" if ssl_context is not None else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}/v1"

    async def stop(self) -> None:
        """Stop listening (connections are refused afterwards). In-flight delays, gates
        and stream pauses are interrupted and their connections aborted."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self._stopping.set()
        await runner.cleanup()

    # ------------------------------------------------------------------ helpers
    def texts_received(self) -> str:
        """Every JSON string value of every recorded body, joined by newlines. Bodies
        that are not JSON contribute their raw text (utf-8, errors replaced)."""
        out: list[str] = []
        for req in list(self.requests):
            if req.body is None:
                if req.raw:
                    out.append(req.raw.decode("utf-8", "replace"))
            else:
                out.extend(json_strings(req.body))
        return "\n".join(out)

    def clear(self) -> None:
        self.requests.clear()

    def _reply(self, body: dict[str, Any] | None = None) -> str:
        if self.reply_fn is not None and body is not None:
            return self.reply_fn(body)
        return self.reply_text if self.reply_text is not None else f"reply from {self.name}"

    def _pieces(self, text: str) -> list[str]:
        return self.pieces_fn(text) if self.pieces_fn is not None else _split_text(text)

    def _tool(self, body: dict[str, Any]) -> tuple[str, str] | None:
        return self.tool_call(body) if self.tool_call is not None else None

    def _next_id(self) -> int:
        return next(self._ids)

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            try:
                await asyncio.wait_for(self._stopping.wait(), seconds)
            except TimeoutError:
                pass
        if self._stopping.is_set():
            raise _Stopped

    async def _wait_gate(self, gate: threading.Event) -> None:
        while not gate.is_set():
            await self._sleep(0.005)

    @staticmethod
    def _abort(request: web.Request) -> None:
        if request.transport is not None:
            request.transport.abort()

    # ------------------------------------------------------------------ dispatch
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                body = None
        headers: dict[str, str] = {}
        for key, value in request.headers.items():
            k = key.lower()
            headers[k] = f"{headers[k]}, {value}" if k in headers else value
        self.requests.append(RecordedRequest(request.method, request.path, headers, body, raw))

        try:
            await self._sleep(self.delay)
        except _Stopped:
            self._abort(request)
            return web.Response(status=503)

        if (self.redirect_to is not None and request.method == "POST"
                and "redirected" not in request.query):
            return web.Response(status=307, headers={"Location": self.redirect_to})
        if self.fail_body is not None:
            status = self.fail_status if self.fail_status is not None else 200
            return web.Response(status=status, text=self.fail_body,
                                content_type=self.fail_content_type)
        if self.fail_status is not None:
            return _error(self.fail_status, f"injected failure from upstream {self.name}",
                          self.fail_code, {**self.reply_headers, **self.fail_headers})

        method, path = request.method, request.path
        if method == "GET" and path == "/v1/models":
            return web.json_response(
                {"object": "list", "data": [self._model_obj(m) for m in self.models]}
            )
        if method == "GET" and path.startswith("/v1/models/"):
            model_id = path[len("/v1/models/") :]
            if model_id in self.models:
                return web.json_response(self._model_obj(model_id))
            return _error(404, f"The model '{model_id}' does not exist", "model_not_found")
        handlers = {
            "/v1/chat/completions": self._chat,
            "/v1/completions": self._completions,
            "/v1/embeddings": self._embeddings,
            "/v1/responses": self._responses,
        }
        if method == "POST" and path in handlers:
            if not isinstance(body, dict):
                return _error(400, "We could not parse the JSON body of your request.")
            if not isinstance(body.get("model"), str):
                return _error(400, "you must provide a model parameter", "missing_model")
            if self.oversize_bytes is not None:
                return await self._oversize(request, self.oversize_bytes)
            answer = await handlers[path](request, body)
            if not answer.prepared:
                answer.headers.update(self.reply_headers)
                if isinstance(answer, web.Response) and (self.body_pause or self.body_abort):
                    return await self._halves(request, answer)
            return answer
        return _error(404, f"Unknown request URL: {method} {path}.", "unknown_url")

    def _model_obj(self, model_id: str) -> dict[str, Any]:
        return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": self.name}

    async def _halves(self, request: web.Request, answer: web.Response) -> web.StreamResponse:
        """``answer``'s body in two writes, with ``body_pause`` or ``body_abort`` between."""
        body = answer.body if isinstance(answer.body, bytes) else b""
        resp = web.StreamResponse(status=answer.status, headers=answer.headers)
        resp.content_length = len(body)
        await resp.prepare(request)
        half = len(body) // 2
        try:
            await resp.write(body[:half])
            if self.body_abort:
                self._abort(request)
                return resp
            await self._sleep(self.body_pause)
            await resp.write(body[half:])
            await resp.write_eof()
        except _Stopped:
            self._abort(request)
        except ConnectionResetError:  # the reader gave up waiting
            pass
        return resp

    async def _oversize(self, request: web.Request, size: int) -> web.StreamResponse:
        """A 200 JSON object of exactly ``size`` bytes (``{"pad":"xxx…"}``)."""
        head, tail = b'{"pad":"', b'"}'
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json",
                                                       **self.reply_headers})
        resp.content_length = size
        await resp.prepare(request)
        piece = b"x" * (1 << 20)
        left = size - len(head) - len(tail)
        try:
            await resp.write(head)
            while left > 0:
                await resp.write(piece[:left])
                left -= len(piece)
            await resp.write(tail)
            await resp.write_eof()
        except ConnectionResetError:  # the reader refused the rest
            pass
        return resp

    async def _stream(self, request: web.Request, events: list[bytes]) -> web.StreamResponse:
        """Send each SSE event with its own write. Waits on stream_gate after the first."""
        gate, pause = self.stream_gate, self.stream_pause
        if self.stream_body is not None:
            events = [self.stream_body]
        resp = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
                **self.reply_headers,
            },
        )
        await resp.prepare(request)
        try:
            for i, event in enumerate(events):
                if self.stream_abort_after is not None and i == self.stream_abort_after:
                    self._abort(request)
                    return resp
                if i == 1 and gate is not None:
                    await self._wait_gate(gate)
                if i > 0:
                    await self._sleep(pause)
                if self.byte_writes:
                    for k in range(len(event)):
                        await resp.write(event[k:k + 1])
                        await asyncio.sleep(0)
                else:
                    await resp.write(event)
            await resp.write_eof()
        except _Stopped:
            self._abort(request)
        except ConnectionResetError:  # client went away mid-stream
            self.stream_disconnects += 1
        return resp

    # ------------------------------------------------------------------ endpoints
    async def _chat(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if not isinstance(body.get("messages"), list):
            return _error(400, "'messages' is a required property")
        n = self._next_id()
        cid, created = f"chatcmpl-{self.name}-{n}", int(time.time())
        tool = self._tool(body)
        model, text = body["model"], self._reply(body) if tool is None else ""
        choices = body.get("n") if isinstance(body.get("n"), int) and body["n"] > 1 else 1
        texts = [text] if choices == 1 else [f"({i}) {text}" for i in range(choices)]
        prompt_tokens = max(1, _count_tokens(body["messages"]))
        completion_tokens = _count_tokens(text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        if not body.get("stream"):
            def message(i: int) -> dict[str, Any]:
                if tool is None:
                    return {"role": "assistant", "content": texts[i], "refusal": None}
                return {"role": "assistant", "content": None, "refusal": None, "tool_calls": [
                    {"id": f"call_{n}", "type": "function",
                     "function": {"name": tool[0], "arguments": tool[1]}}]}

            return web.json_response(
                {
                    "id": cid,
                    "object": "chat.completion",
                    "created": created,
                    "model": model,
                    "choices": [
                        {
                            "index": i,
                            "message": message(i),
                            "logprobs": None,
                            "finish_reason": "stop" if tool is None else "tool_calls",
                        }
                        for i in range(choices)
                    ],
                    "usage": usage,
                }
            )
        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and opts.get("include_usage") is True

        def chunk(delta: dict[str, Any], finish: str | None, index: int = 0) -> bytes:
            obj: dict[str, Any] = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [
                    {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                obj["usage"] = None
            return _sse_data(obj)

        events: list[bytes] = []
        if tool is not None:
            first, *rest = self._pieces(tool[1]) or [""]
            events.append(chunk({"role": "assistant", "content": None, "tool_calls": [
                {"index": 0, "id": f"call_{n}", "type": "function",
                 "function": {"name": tool[0], "arguments": first}}]}, None))
            events += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]},
                             None) for piece in rest]
            events.append(chunk({}, "tool_calls"))
        else:
            streams = [[chunk({"role": "assistant", "content": ""}, None, i)]
                       + [chunk({"content": piece}, None, i) for piece in self._pieces(t)]
                       for i, t in enumerate(texts)]
            for step in itertools.zip_longest(*streams):  # choices interleaved
                events += [e for e in step if e is not None]
            events += [chunk({}, "stop", i) for i in range(choices)]
        if include_usage:
            events.append(
                _sse_data(
                    {
                        "id": cid,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": usage,
                    }
                )
            )
        events.append(b"data: [DONE]\n\n")
        return await self._stream(request, events)

    async def _completions(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        if "prompt" not in body:
            return _error(400, "'prompt' is a required property")
        n = self._next_id()
        cid, created = f"cmpl-{self.name}-{n}", int(time.time())
        model, text = body["model"], self._reply(body)
        prompt_tokens = max(1, _count_tokens(body["prompt"]))
        completion_tokens = _count_tokens(text)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

        def obj(piece: str, finish: str | None, with_usage: bool) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": cid,
                "object": "text_completion",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "text": piece, "logprobs": None, "finish_reason": finish}],
            }
            if with_usage:
                out["usage"] = usage
            return out

        if not body.get("stream"):
            return web.json_response(obj(text, "stop", True))
        opts = body.get("stream_options")
        include_usage = isinstance(opts, dict) and opts.get("include_usage") is True
        events = [_sse_data(obj(piece, None, False)) for piece in self._pieces(text)]
        events.append(_sse_data(obj("", "stop", False)))
        if include_usage:
            last = obj("", None, True)
            last["choices"] = []
            events.append(_sse_data(last))
        events.append(b"data: [DONE]\n\n")
        return await self._stream(request, events)

    async def _embeddings(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        inp = body.get("input")
        items: list[Any]
        if isinstance(inp, str):
            items = [inp]
        elif isinstance(inp, list) and inp and all(isinstance(x, int) for x in inp):
            items = [inp]  # a single pre-tokenized input
        elif isinstance(inp, list) and inp and all(isinstance(x, str | list) for x in inp):
            items = list(inp)
        else:
            return _error(400, "'input' must be a string, list of strings or token lists")
        dims = body.get("dimensions")
        dims = dims if isinstance(dims, int) and dims > 0 else 8
        b64 = body.get("encoding_format") == "base64"
        data: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            vec = _embedding(item, dims)
            emb: Any = base64.b64encode(struct.pack(f"<{dims}f", *vec)).decode() if b64 else vec
            data.append({"object": "embedding", "index": index, "embedding": emb})
        tokens = sum(len(it) if isinstance(it, list) else max(1, len(it.split())) for it in items)
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body["model"],
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    async def _responses(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        n = self._next_id()
        rid, mid = f"resp_{self.name}_{n}", f"msg_{self.name}_{n}"
        tool = self._tool(body)
        created, text = int(time.time()), self._reply(body) if tool is None else ""
        input_tokens = max(
            1, _count_tokens(body.get("input")) + _count_tokens(body.get("instructions"))
        )
        output_tokens = _count_tokens(text)
        usage = {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": input_tokens + output_tokens,
        }
        part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        message = {
            "type": "message",
            "id": mid,
            "role": "assistant",
            "status": "completed",
            "content": [part],
        }

        def response(status: str, output: list[Any], with_usage: bool) -> dict[str, Any]:
            return {
                "id": rid,
                "object": "response",
                "created_at": created,
                "completed_at": int(time.time()) if status == "completed" else None,
                "status": status,
                "background": False,
                "error": None,
                "incomplete_details": None,
                "instructions": body.get("instructions"),
                "max_output_tokens": body.get("max_output_tokens"),
                "metadata": body.get("metadata") or {},
                "model": body["model"],
                "output": output,
                "parallel_tool_calls": body.get("parallel_tool_calls", True),
                "previous_response_id": body.get("previous_response_id"),
                "temperature": body.get("temperature", 1.0),
                "text": {"format": {"type": "text"}},
                "tool_choice": body.get("tool_choice", "auto"),
                "tools": body.get("tools") or [],
                "top_p": body.get("top_p", 1.0),
                "truncation": body.get("truncation", "disabled"),
                "usage": usage if with_usage else None,
                "user": body.get("user"),
                # As OpenAI does: a response in a conversation names it.
                **({"conversation": {"id": conv if isinstance(conv, str) else conv.get("id")}}
                   if (conv := body.get("conversation")) else {}),
            }

        call = None
        if tool is not None:
            call = {"type": "function_call", "id": f"fc_{self.name}_{n}", "call_id": f"call_{n}",
                    "name": tool[0], "arguments": tool[1], "status": "completed"}
        output = [message] if call is None else [call]
        if not body.get("stream"):
            return web.json_response(response("completed", output, True))

        seq = itertools.count()
        if call is not None:
            fc = {"item_id": call["id"], "output_index": 0}
            tool_events: list[dict[str, Any]] = [
                {"type": "response.created", "response": response("in_progress", [], False)},
                {"type": "response.output_item.added", "output_index": 0,
                 "item": {**call, "arguments": "", "status": "in_progress"}},
                *[{"type": "response.function_call_arguments.delta", **fc, "delta": piece}
                  for piece in self._pieces(call["arguments"])],
                {"type": "response.function_call_arguments.done", **fc,
                 "arguments": call["arguments"]},
                {"type": "response.output_item.done", "output_index": 0, "item": call},
                {"type": "response.completed", "response": response("completed", output, True)},
            ]
            return await self._stream(request, [_sse_event({**ev, "sequence_number": next(seq)})
                                                 for ev in tool_events])
        base = {"item_id": mid, "output_index": 0, "content_index": 0}
        raw_events: list[dict[str, Any]] = [
            {"type": "response.created", "response": response("in_progress", [], False)},
            {"type": "response.in_progress", "response": response("in_progress", [], False)},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**message, "status": "in_progress", "content": []},
            },
            {
                "type": "response.content_part.added",
                **base,
                "part": {**part, "text": ""},
            },
        ]
        for piece in self._pieces(text):
            raw_events.append(
                {"type": "response.output_text.delta", **base, "delta": piece, "logprobs": []}
            )
        raw_events += [
            {"type": "response.output_text.done", **base, "text": text, "logprobs": []},
            {"type": "response.content_part.done", **base, "part": part},
            {"type": "response.output_item.done", "output_index": 0, "item": message},
            {"type": "response.completed", "response": response("completed", [message], True)},
        ]
        events = [_sse_event({**ev, "sequence_number": next(seq)}) for ev in raw_events]
        return await self._stream(request, events)
