"""Upstream hygiene: what reaches an upstream is built from configuration, never from the client.

The real application on loopback in front of the recording "cloud" and "local" upstreams, and
a third recording server, "evil", whose address the client puts everywhere it can: in ``Host``,
in the request target, in body fields. The assertions are on what each server received: the
exact header set (the allow-list of ``Upstream._headers``, the proxy's own credentials, and
what the HTTP client needs for the connection), the exact path (the configured base path and the
endpoint's canonical path), and nothing at all at "evil".
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import LoopThread, Stack, StackFactory
from upstream import RecordedRequest, RecordingUpstream

from proxy.config import ConfigError, load_settings
from proxy.upstream import Upstream

CLOUD_KEY = "sk-proxy-cloud-key"  # the conftest stack's upstream keys
LOCAL_KEY = "proxy-local-key"
CLIENT_KEY = "sk-client-key-never-forwarded"
# Every value a client sends in a header below: none may appear in anything an upstream gets.
CLIENT_VALUES = {
    "authorization": f"Bearer {CLIENT_KEY}",
    "cookie": "session=client-cookie-value",
    "openai-organization": "org-client-own",
    "openai-project": "proj-client-own",
    "proxy-authorization": "Basic Y2xpZW50OnByb3h5",
    "x-forwarded-for": "203.0.113.7",
    "x-forwarded-host": "evil.example",
    "forwarded": "for=203.0.113.7;host=evil.example",
    "x-request-id": "req-client-chosen",
    "x-client-hop": "hop-by-hop-value",
    "keep-alive": "timeout=99, max=1000",
    "upgrade": "h2c",
    "te": "trailers",
    "proxy-connection": "keep-alive",
    "x-real-ip": "203.0.113.8",
    "openai-beta": "assistants=v2",
}
# What the proxy's HTTP client sends by itself besides the allow-list (for the connection).
CONNECTION_HEADERS = {"host", "content-length", "accept-encoding"}
ALLOW_LIST = {"content-type", "accept", "user-agent", "authorization"}
CLEAN = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hello there"}]}
SENSITIVE = {"model": "gpt-4o-mini",
             "messages": [{"role": "user", "content": "Mail taro.yamada@example.co.jp today"}]}


@pytest.fixture
def evil(loop_thread: LoopThread) -> Iterator[RecordingUpstream]:
    server = RecordingUpstream("evil", models=["gpt-4o-mini"])
    loop_thread.run(server.start())
    yield server
    loop_thread.run(server.stop())


def raw_request(stack: Stack, target: str, headers: list[tuple[str, str]], body: bytes, *,
                chunked: bool = False) -> tuple[int, Any]:
    """One request written byte for byte on a socket (nothing normalises the target or the
    headers), and its answer."""
    lines = [f"POST {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers)]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        payload = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    else:
        lines.append(f"Content-Length: {len(body)}")
        payload = body
    with socket.create_connection(("127.0.0.1", stack.port), timeout=30) as sock:
        sock.sendall("\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + payload)
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        data = answer.read()
    return answer.status, json.loads(data) if data else None


def posts(upstream: RecordingUpstream) -> list[RecordedRequest]:
    return [r for r in upstream.requests if r.method == "POST"]


def assert_built_from_configuration(
    request: RecordedRequest, upstream: RecordingUpstream, key: str, *,
    organization: str | None = None, project: str | None = None,
) -> None:
    """Exactly the allow-list, the proxy's credentials, and the connection's own headers."""
    identity = {"openai-organization": organization, "openai-project": project}
    expected = ALLOW_LIST | CONNECTION_HEADERS | {name for name, v in identity.items() if v}
    assert set(request.headers) == expected
    assert request.headers["host"] == f"127.0.0.1:{upstream.port}"
    assert request.headers["authorization"] == f"Bearer {key}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("sekisho/")
    assert request.headers["content-length"] == str(len(request.raw))
    encodings = {e.strip() for e in request.headers["accept-encoding"].split(",")}
    assert encodings <= {"gzip", "deflate", "br", "zstd"}
    for name, value in identity.items():
        assert request.headers.get(name) == value


def assert_no_client_value_reached(*upstreams: RecordingUpstream) -> None:
    for upstream in upstreams:
        for request in upstream.requests:
            for value in request.headers.values():
                assert not any(sent in value for sent in CLIENT_VALUES.values()), value
                assert "evil" not in value and CLIENT_KEY not in value, value


def assert_went_where_configured(stack: Stack, evil: RecordingUpstream, path: str,
                                 *, cloud: int, local: int) -> None:
    """``cloud`` and ``local`` POSTs arrived, each at its configured base path + ``path``;
    evil got none."""
    for upstream, count in ((stack.cloud, cloud), (stack.local, local)):
        expected = urlsplit(upstream.base_url).path + path
        assert [r.path for r in posts(upstream)] == [expected] * count
    assert evil.requests == []


# --- headers -------------------------------------------------------------------------------


def test_the_clients_identity_and_headers_never_reach_an_upstream(
    stack: Stack, evil: RecordingUpstream,
) -> None:
    client = stack.openai(organization=CLIENT_VALUES["openai-organization"],
                          project=CLIENT_VALUES["openai-project"],
                          default_headers={"Cookie": CLIENT_VALUES["cookie"],
                                           "X-Forwarded-For": CLIENT_VALUES["x-forwarded-for"],
                                           "Host": f"127.0.0.1:{evil.port}"})
    client.chat.completions.create(**CLEAN)
    client.chat.completions.create(**SENSITIVE)
    assert_went_where_configured(stack, evil, "/chat/completions", cloud=1, local=1)
    assert_built_from_configuration(posts(stack.cloud)[0], stack.cloud, CLOUD_KEY)
    assert_built_from_configuration(posts(stack.local)[0], stack.local, LOCAL_KEY)
    assert_no_client_value_reached(stack.cloud, stack.local)


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_hop_by_hop_forwarding_and_credential_headers_are_not_forwarded(
    stack: Stack, evil: RecordingUpstream, chunked: bool,
) -> None:
    headers = [*CLIENT_VALUES.items(), ("Host", f"127.0.0.1:{evil.port}"),
               ("Content-Type", "application/json"),
               ("Connection", "keep-alive, X-Client-Hop, Keep-Alive"),
               ("Accept-Encoding", "x-client-encoding")]
    status, _ = raw_request(stack, "/v1/chat/completions", headers,
                            json.dumps(CLEAN).encode(), chunked=chunked)
    assert status == 200
    status, _ = raw_request(stack, "/v1/chat/completions", headers,
                            json.dumps(SENSITIVE).encode(), chunked=chunked)
    assert status == 200
    assert_went_where_configured(stack, evil, "/chat/completions", cloud=1, local=1)
    assert_built_from_configuration(posts(stack.cloud)[0], stack.cloud, CLOUD_KEY)
    assert_built_from_configuration(posts(stack.local)[0], stack.local, LOCAL_KEY)
    assert_no_client_value_reached(stack.cloud, stack.local)


def test_a_configured_organization_and_project_reach_only_their_upstream(
    make_stack: StackFactory, evil: RecordingUpstream,
) -> None:
    stack = make_stack(cloud_organization="org-proxy", cloud_project="proj-proxy")
    client = stack.openai(organization=CLIENT_VALUES["openai-organization"],
                          project=CLIENT_VALUES["openai-project"])
    client.chat.completions.create(**CLEAN)
    client.chat.completions.create(**SENSITIVE)
    assert_went_where_configured(stack, evil, "/chat/completions", cloud=1, local=1)
    assert_built_from_configuration(posts(stack.cloud)[0], stack.cloud, CLOUD_KEY,
                                    organization="org-proxy", project="proj-proxy")
    assert_built_from_configuration(posts(stack.local)[0], stack.local, LOCAL_KEY)
    assert_no_client_value_reached(stack.cloud, stack.local)


async def test_an_upstream_sends_its_configured_organization_and_project_only() -> None:
    server = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    await server.start()
    try:
        for organization, project in (("org-proxy", "proj-proxy"), (None, None)):
            server.clear()
            upstream = Upstream("cloud", server.base_url, CLOUD_KEY, connect_timeout=2,
                                read_timeout=5, organization=organization, project=project)
            await upstream.start()
            try:
                (await upstream.send("/chat/completions", CLEAN, stream=False)).release()
                await upstream.models(5)
            finally:
                await upstream.close()
            post, models = server.requests
            assert_built_from_configuration(post, server, CLOUD_KEY,
                                            organization=organization, project=project)
            assert models.path == "/v1/models"
            assert models.headers.get("openai-organization") == organization
            assert models.headers.get("openai-project") == project
    finally:
        await server.stop()


@pytest.mark.parametrize("name", ["cloud_organization", "cloud_project", "local_organization",
                                  "local_project"])
@pytest.mark.parametrize("value", ["org-a\r\nX-Injected: 1", "", "org-\u00e9"])
def test_an_organization_or_project_that_is_not_one_header_line_is_refused_at_start(
    name: str, value: str,
) -> None:
    with pytest.raises(ConfigError, match=f"^settings: {name}: .*printable ASCII"):
        load_settings(flags={name: value}, environ={})


# --- where a request goes ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "forwarded"),
    [
        ("/v1/chat/completions", True),
        # The absolute form names a host: only the path counts, the request goes where
        # configured.
        ("http://EVIL/v1/chat/completions", True),
        ("http://evil.example/v1/chat/completions", True),
        # Dot segments and encoded slashes are not resolved into an endpoint: refused.
        ("/v1/../v1/chat/completions", False),
        ("/v1/./chat/completions", False),
        ("/v1/chat/completions/..%2F..%2Fadmin", False),
        ("/v1/chat/completions/../../admin", False),
        ("/v1/%2e%2e/models", False),
        ("/v1/chat%2Fcompletions", False),
        ("/v1/chat/completions%00", False),
        ("//EVIL/v1/chat/completions", False),
        ("//evil.example/v1/chat/completions", False),
    ],
)
def test_no_request_target_changes_where_a_request_goes(
    stack: Stack, evil: RecordingUpstream, target: str, forwarded: bool,
) -> None:
    target = target.replace("EVIL", f"127.0.0.1:{evil.port}")
    headers = [("Host", f"127.0.0.1:{evil.port}"), ("Content-Type", "application/json")]
    status, body = raw_request(stack, target, headers, json.dumps(CLEAN).encode())
    if forwarded:
        assert status == 200, body
        assert_built_from_configuration(posts(stack.cloud)[0], stack.cloud, CLOUD_KEY)
    else:
        assert 400 <= status < 500 and body["error"]["message"], body
    assert_went_where_configured(stack, evil, "/chat/completions", cloud=int(forwarded),
                                 local=0)


def test_no_body_field_changes_where_a_request_goes(stack: Stack, evil: RecordingUpstream
                                                     ) -> None:
    elsewhere = evil.base_url
    client = stack.openai()
    fields = {"base_url": elsewhere, "api_base": elsewhere, "url": f"{elsewhere}/chat/completions",
              "endpoint": "/admin", "path": "../../admin",
              "extra_headers": {"Host": f"127.0.0.1:{evil.port}",
                                "Authorization": "Bearer sk-evil"},
              "extra_query": {"api-version": "x"}, "headers": {"OpenAI-Organization": "org-x"}}
    client.chat.completions.create(**CLEAN, extra_body=fields)
    client.chat.completions.create(model=f"{elsewhere}/x", messages=CLEAN["messages"])
    client.embeddings.create(model="text-embedding-3-small", input="hello",
                             extra_body={"base_url": elsewhere})
    assert sorted(r.path for r in posts(stack.cloud) + posts(stack.local)) == [
        "/v1/chat/completions", "/v1/chat/completions", "/v1/embeddings"]
    assert evil.requests == []
    assert_no_client_value_reached(stack.cloud, stack.local)
    for request in posts(stack.cloud):
        assert_built_from_configuration(request, stack.cloud, CLOUD_KEY)
    for request in posts(stack.local):
        assert_built_from_configuration(request, stack.local, LOCAL_KEY)
