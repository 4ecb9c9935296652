"""``Upstream``: one backend (the cloud or the local vLLM) behind an OpenAI-compatible base URL.

Each upstream owns one ``ClientSession`` for the application's lifetime and sends only the
proxy's own credentials: requests are built from scratch, so no client header (``Authorization``,
``x-request-id``, cookies) can ever reach an upstream. Failures are classified so the pipeline
can decide about fallback: ``UpstreamUnreachable`` means nothing was delivered.

Redirects are never followed by default: a 307 or 308 from the local upstream (or an ingress in
front of it) would re-send a sensitive body to wherever ``Location`` points — the cloud, say —
while the client is told ``x-sekisho-route: local``. The 3xx answer reaches the pipeline, which
refuses it as an upstream error. With ``follow_same_origin_redirects`` an upstream may redirect
within its own origin (scheme, host and port of its base URL), three times at most.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from yarl import URL

from proxy import __version__
from proxy.errors import UpstreamError, UpstreamTimeout

_MAX_REDIRECTS = 3


class UpstreamUnreachable(UpstreamError):
    """The connection could not be made: the request reached no upstream."""

    code = "upstream_unreachable"


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
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.follow_same_origin_redirects = follow_same_origin_redirects
        self._api_key = api_key
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout, sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            auto_decompress=True,
            # Environment proxies and .netrc must not redirect or authenticate our traffic.
            trust_env=False,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self, stream: bool) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": f"sekisho/{__version__}",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    async def post(
        self, path: str, body: dict[str, Any], *, stream: bool
    ) -> aiohttp.ClientResponse:
        """Send a request; return the open response (the caller reads and releases it)."""
        assert self._session is not None, "start() first"
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        url = URL(self.base_url + path)
        try:
            for _hop in range(_MAX_REDIRECTS + 1):
                resp = await self._session.post(
                    url, data=data, headers=self._headers(stream), allow_redirects=False
                )
                target = self._same_origin_target(resp, url)
                if target is None:
                    return resp
                resp.release()
                url = target
            return resp
        except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
            raise UpstreamUnreachable(
                f"The {self.name} upstream is unreachable", param=None
            ) from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(f"The {self.name} upstream did not answer in time") from exc
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"The {self.name} upstream failed") from exc

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
                    raise UpstreamError(f"The {self.name} upstream answered {resp.status}")
                payload = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise UpstreamError(f"The {self.name} upstream's model list is unavailable") from exc
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list):
            raise UpstreamError(f"The {self.name} upstream's model list is malformed")
        return [m for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]


async def read_limited(resp: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read a whole upstream body, refusing absurd sizes instead of exhausting memory."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in resp.content.iter_any():
            size += len(chunk)
            if size > limit:
                raise UpstreamError("The upstream response is too large")
            chunks.append(chunk)
    except TimeoutError as exc:
        raise UpstreamTimeout("The upstream did not finish its answer in time") from exc
    except aiohttp.ClientError as exc:
        raise UpstreamError("The upstream connection failed mid-answer") from exc
    return b"".join(chunks)


