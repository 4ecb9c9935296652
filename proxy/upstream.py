"""``Upstream``: one backend (the cloud or the local vLLM) behind an OpenAI-compatible base URL.

Each upstream owns one ``ClientSession`` for the application's lifetime and sends only the
proxy's own credentials: requests are built from scratch (``_headers``), so no client header —
``Authorization``, cookies, ``OpenAI-Organization`` / ``OpenAI-Project``, ``x-request-id``,
hop-by-hop (``Connection``, ``Keep-Alive``, ``TE``, ``Upgrade``, ``Proxy-*``) or forwarding
(``Host``, ``X-Forwarded-*``) headers — can ever reach an upstream. A request's URL is the
configured base URL and the endpoint's canonical path: nothing of the client's request (its
path, headers or body fields) takes part in it.

``send`` returns a ``Reply`` whatever the status (status is data: a 429 or a 500 is an answer,
for the caller to relay or to fall back on). What goes wrong before an answer is an
``UpstreamFailure`` that says whether the request may have been delivered: a refused connection
or a connect timeout delivered nothing (safe to send elsewhere or again); a read timeout or a
connection lost after sending may have reached the upstream (never retried on it).

Redirects are never followed by default: a 307 or 308 from the local upstream (or an ingress in
front of it) would re-send a sensitive body to wherever ``Location`` points — the cloud, say —
while the client is told ``x-sekisho-route: local``. The 3xx answer is the reply, which the
pipeline refuses. With ``follow_same_origin_redirects`` an upstream may redirect within its own
origin (scheme, host and port of its base URL), three times at most.
"""

from __future__ import annotations

import json
import ssl as ssl_module
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from proxy import __version__

_MAX_REDIRECTS = 3


class UpstreamFailure(Exception):
    """No (whole) answer came: ``kind`` is connect, timeout or protocol; ``delivered`` says
    whether the request may have reached the upstream; ``message`` is for the client."""

    def __init__(self, upstream: str, kind: str, *, delivered: bool, message: str) -> None:
        super().__init__(message)
        self.upstream = upstream
        self.kind = kind
        self.delivered = delivered
        self.message = message


class UpstreamModelsUnavailable(Exception):
    """The upstream's model list could not be had."""


@dataclass
class Reply:
    """An upstream's answer, its body not read yet (``read`` it or iterate ``chunks``)."""

    upstream: str
    status: int
    headers: CIMultiDictProxy[str]
    connect_seconds: float
    _response: aiohttp.ClientResponse

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "application/json")

    @property
    def is_stream(self) -> bool:
        return self.status == 200 and "text/event-stream" in self.content_type

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (``iter_any``: whatever the socket gave, no re-chunking)."""
        async for chunk in self._response.content.iter_any():
            yield chunk

    async def read(self, limit: int) -> bytes:
        """The whole body; refuses more than ``limit`` bytes instead of exhausting memory.
        Raises ``UpstreamFailure`` (delivered, of course) when the body does not come whole."""
        parts: list[bytes] = []
        size = 0
        try:
            async for chunk in self.chunks():
                size += len(chunk)
                if size > limit:
                    raise UpstreamFailure(self.upstream, "protocol", delivered=True,
                                          message="The upstream response is too large")
                parts.append(chunk)
        except TimeoutError:
            raise UpstreamFailure(self.upstream, "timeout", delivered=True,
                                  message="The upstream did not finish its answer in time"
                                  ) from None
        except aiohttp.ClientError:
            raise UpstreamFailure(self.upstream, "protocol", delivered=True,
                                  message="The upstream connection failed mid-answer") from None
        return b"".join(parts)

    def release(self) -> None:
        self._response.release()

    def abort(self) -> None:
        """Close the connection mid-answer: the upstream sees the client gone and stops
        generating (vLLM aborts a request whose connection closes)."""
        self._response.close()


class Upstream:
    def __init__(
        self,
        name: str,
        base_url: str,
        api_key: str | None,
        *,
        connect_timeout: float,
        read_timeout: float,
        follow_same_origin_redirects: bool = False,
        pool_size: int = 256,
        pool_timeout: float = 30.0,
        on_pool_wait: Callable[[], None] | None = None,
        ssl: ssl_module.SSLContext | bool = True,
        organization: str | None = None,
        project: str | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.follow_same_origin_redirects = follow_same_origin_redirects
        self._api_key = api_key
        self._organization = organization
        self._project = project
        # ``connect`` bounds waiting for a free pooled connection plus connecting;
        # ``sock_connect`` the connecting alone. Either passing delivered nothing.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=pool_timeout + connect_timeout, sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self._pool_size = pool_size
        self._on_pool_wait = on_pool_wait
        self._ssl = ssl
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        trace = aiohttp.TraceConfig()
        if self._on_pool_wait is not None:
            on_wait = self._on_pool_wait

            async def queued(*_args: Any) -> None:
                on_wait()

            trace.on_connection_queued_start.append(queued)
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            auto_decompress=True,
            connector=aiohttp.TCPConnector(limit=self._pool_size,
                                           limit_per_host=self._pool_size, ssl=self._ssl),
            trace_configs=[trace],
            # Environment proxies and .netrc must not redirect or authenticate our traffic.
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, stream: bool) -> dict[str, str]:
        """Every header of a request to this upstream — the allow-list, built from scratch
        from the configuration, never from the client's request:

        - ``Content-Type: application/json`` and ``Accept`` (``text/event-stream`` for a
          stream, else ``application/json``);
        - ``User-Agent: sekisho/<version>``;
        - ``Authorization: Bearer <the proxy's key for this upstream>``, when one is configured;
        - ``OpenAI-Organization`` and ``OpenAI-Project``, only when configured for this
          upstream (the client's own values are never forwarded).

        The HTTP client adds only what the connection itself needs: ``Host`` (of the configured
        base URL), ``Content-Length`` and ``Accept-Encoding``.
        """
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": f"sekisho/{__version__}",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if self._organization:
            headers["OpenAI-Organization"] = self._organization
        if self._project:
            headers["OpenAI-Project"] = self._project
        return headers

    async def send(self, path: str, body: dict[str, Any], *, stream: bool) -> Reply:
        """POST ``body``; the reply whatever its status, or ``UpstreamFailure``."""
        assert self._session is not None, "start() first"
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        url = URL(self.base_url + path)
        started = time.perf_counter()
        try:
            for _hop in range(_MAX_REDIRECTS + 1):
                resp = await self._session.post(
                    url, data=data, headers=self._headers(stream), allow_redirects=False
                )
                target = self._same_origin_target(resp, url)
                if target is None:
                    break
                resp.release()
                url = target
        except aiohttp.ConnectionTimeoutError:
            # No connection in time (or no free pooled one): nothing was sent.
            raise UpstreamFailure(self.name, "timeout", delivered=False,
                                  message=f"The {self.name} upstream did not answer in time"
                                  ) from None
        except aiohttp.ClientConnectorError:
            # Refused or unreachable: no connection, nothing sent.
            raise UpstreamFailure(self.name, "connect", delivered=False,
                                  message=f"The {self.name} upstream is unreachable") from None
        except aiohttp.ServerDisconnectedError:
            # Closed without an answer: a stale pooled connection, or a server that went down
            # after reading the request — which cannot be told apart, so it may have been.
            raise UpstreamFailure(self.name, "connect", delivered=True,
                                  message=f"The {self.name} upstream is unreachable") from None
        except aiohttp.ClientOSError:
            # Reset or broken while sending: a pooled connection the upstream closed as it
            # went down (a restart), or one that broke after the request left — may have been.
            raise UpstreamFailure(self.name, "connect", delivered=True,
                                  message=f"The {self.name} upstream is unreachable") from None
        except TimeoutError:
            raise UpstreamFailure(self.name, "timeout", delivered=True,
                                  message=f"The {self.name} upstream did not answer in time"
                                  ) from None
        except aiohttp.ClientError:
            raise UpstreamFailure(self.name, "protocol", delivered=True,
                                  message=f"The {self.name} upstream failed") from None
        return Reply(self.name, resp.status, resp.headers, time.perf_counter() - started, resp)

    def _same_origin_target(self, resp: aiohttp.ClientResponse, url: URL) -> URL | None:
        """Where to re-send after a 307/308 within the upstream's own origin, if allowed."""
        if not self.follow_same_origin_redirects or resp.status not in (307, 308):
            return None
        location = resp.headers.get("Location")
        if not location:
            return None
        target = url.join(URL(location))
        base = URL(self.base_url)
        if (target.scheme, target.host, target.port) != (base.scheme, base.host, base.port):
            return None
        return target

    async def models(self, timeout: float) -> list[dict[str, Any]]:
        assert self._session is not None, "start() first"
        try:
            async with self._session.get(
                self.base_url + "/models",
                headers=self._headers(False),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as resp:
                if resp.status != 200:
                    raise UpstreamModelsUnavailable(self.name)
                payload = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise UpstreamModelsUnavailable(self.name) from exc
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise UpstreamModelsUnavailable(self.name)
        return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]
