"""``Upstream.send`` against real loopback servers: status as data, failures classified.

What matters for every later decision: an answer of any status is a ``Reply`` (never an
exception); a failure says whether the body may have reached the upstream — a refused
connection did not, a read timeout or a connection closed after the request may have.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from proxy.upstream import Upstream, UpstreamFailure

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Start = Callable[[Handler], Awaitable[str]]


async def serve(handler: Handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/v1"


@pytest.fixture
async def servers() -> AsyncIterator[Start]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        runner, url = await serve(handler)
        runners.append(runner)
        return url

    yield start
    for runner in runners:
        await runner.cleanup()


async def upstream(url: str, *, read_timeout: float = 5.0, follow: bool = False
                   ) -> Upstream:
    up = Upstream("cloud", url, "sk-proxy", connect_timeout=1.0, read_timeout=read_timeout,
                  follow_same_origin_redirects=follow)
    await up.start()
    return up


async def test_every_status_is_a_reply_and_only_the_proxy_key_is_sent(
    servers: Start,
) -> None:
    seen: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        status = int(request.match_info["tail"].rsplit("/", 1)[-1])
        return web.json_response({"error": {"message": "x"}}, status=status)

    up = await upstream(await servers(handler))
    try:
        for status in (200, 400, 429, 500, 503):
            reply = await up.send(f"/status/{status}", {"a": 1}, stream=False)
            assert reply.status == status
            assert b"error" in await reply.read(1024)
            reply.release()
    finally:
        await up.close()
    assert seen == ["Bearer sk-proxy"] * 5


async def test_a_refused_connection_delivered_nothing() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    up = await upstream(f"http://127.0.0.1:{port}/v1")
    try:
        with pytest.raises(UpstreamFailure) as info:
            await up.send("/chat/completions", {}, stream=False)
    finally:
        await up.close()
    assert (info.value.kind, info.value.delivered) == ("connect", False)


async def test_no_answer_in_time_may_have_been_delivered(
    servers: Start,
) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.json_response({})

    up = await upstream(await servers(slow), read_timeout=0.2)
    try:
        with pytest.raises(UpstreamFailure) as info:
            await up.send("/chat/completions", {}, stream=False)
    finally:
        await up.close()
    assert (info.value.kind, info.value.delivered) == ("timeout", True)


async def test_a_connection_closed_after_the_request_may_have_been_delivered(
    servers: Start,
) -> None:
    async def hang_up(request: web.Request) -> web.Response:
        await request.read()
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.5)
        return web.json_response({})

    up = await upstream(await servers(hang_up))
    try:
        with pytest.raises(UpstreamFailure) as info:
            await up.send("/chat/completions", {"x": 1}, stream=False)
    finally:
        await up.close()
    assert (info.value.kind, info.value.delivered) == ("connect", True)


async def test_a_body_that_stops_midway_or_is_too_large_is_a_delivered_failure(
    servers: Start,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        out = web.StreamResponse()
        out.content_length = 1000
        await out.prepare(request)
        await out.write(b"x" * 100)
        if request.path.endswith("cut"):
            assert request.transport is not None
            request.transport.close()
            return out
        await out.write(b"y" * 900)
        return out

    up = await upstream(await servers(handler))
    try:
        reply = await up.send("/cut", {}, stream=False)
        with pytest.raises(UpstreamFailure) as info:
            await reply.read(10_000)
        assert (info.value.kind, info.value.delivered) == ("protocol", True)
        reply.release()
        reply = await up.send("/big", {}, stream=False)
        with pytest.raises(UpstreamFailure) as info:
            await reply.read(500)
        assert info.value.message == "The upstream response is too large"
        reply.release()
    finally:
        await up.close()


async def test_redirects_are_answers_unless_same_origin_following_is_allowed(
    servers: Start,
) -> None:
    elsewhere_hits: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        elsewhere_hits.append(request.path)
        return web.json_response({"where": "elsewhere"})

    other = await servers(elsewhere)

    async def handler(request: web.Request) -> web.Response:
        if request.path == "/v1/moved":
            raise web.HTTPPermanentRedirect("/v1/here")
        if request.path == "/v1/away":
            raise web.HTTPTemporaryRedirect(other + "/stolen")
        return web.json_response({"where": request.path})

    url = await servers(handler)
    strict, following = await upstream(url), await upstream(url, follow=True)
    try:
        reply = await strict.send("/moved", {}, stream=False)
        assert reply.status == 308
        reply.release()
        reply = await following.send("/moved", {}, stream=False)
        assert (reply.status, await reply.read(100)) == (200, b'{"where": "/v1/here"}')
        reply.release()
        reply = await following.send("/away", {}, stream=False)
        assert reply.status == 307  # another origin: never followed
        reply.release()
    finally:
        await strict.close()
        await following.close()
    assert elsewhere_hits == []
