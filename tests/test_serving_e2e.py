"""The listener's bounds, driven over raw sockets: slow request heads and bodies, the
connection limit, TLS on the listener and towards an upstream with its own CA, and a graceful
stop on SIGTERM with a stream in flight."""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from conftest import ROOT, LoopThread, Stack, StackFactory, wait_ready
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from upstream import RecordingUpstream

from proxy import serving

CHAT = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}'


def connect(stack: Stack) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", stack.port), timeout=10)
    return sock


def read_all(sock: socket.socket, timeout: float = 10) -> bytes:
    """Everything the server sends until it closes the connection."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk


def status_and_body(answer: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, json.loads(body) if body else None


def request_head(length: int) -> bytes:
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: sekisho\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(length).encode()
            + b"\r\n\r\n")


def serves(stack: Stack) -> bool:
    reply = stack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello"}])
    return bool(reply.choices[0].message.content == "reply from cloud")


def test_a_request_head_dribbled_slowly_gets_408_and_the_connection_closes(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(header_timeout_s=0.6)
    with connect(stack) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: sekisho\r\n")
        for i in range(4):  # each line well inside the timeout, the head never complete
            time.sleep(0.25)
            try:
                sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = read_all(sock)
        elapsed = time.monotonic() - started
    status, headers, body = status_and_body(answer)
    assert status == 408 and body["error"]["code"] == "header_timeout"
    assert headers["connection"] == "close"
    assert 0.5 < elapsed < 3
    assert stack.metric('sekisho_connections_refused_total{reason="header_timeout"}') == 1
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []
    assert serves(stack)


def test_a_connection_that_sends_nothing_is_closed_at_the_header_timeout(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(header_timeout_s=0.5)
    with connect(stack) as sock:
        started = time.monotonic()
        answer = read_all(sock)
        assert time.monotonic() - started < 3
    assert status_and_body(answer)[0] == 408


def test_a_keep_alive_connection_between_requests_is_not_cut_by_the_header_timeout(
    make_stack: StackFactory,
) -> None:
    stack = make_stack(header_timeout_s=0.4)
    with connect(stack) as sock:
        for _ in range(2):
            sock.sendall(request_head(len(CHAT)) + CHAT)
            sock.settimeout(5)
            answer = sock.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200")
            time.sleep(0.8)  # idle past the header timeout: keep-alive governs idle time


def test_a_body_sent_too_slowly_gets_408(make_stack: StackFactory) -> None:
    stack = make_stack(body_timeout_s=0.6)
    with connect(stack) as sock:
        sock.sendall(request_head(len(CHAT)) + CHAT[:10])
        started = time.monotonic()
        answer = read_all(sock)
        assert 0.5 < time.monotonic() - started < 3
    status, headers, body = status_and_body(answer)
    assert status == 408 and body["error"]["code"] == "body_timeout"
    assert headers["connection"] == "close"
    assert stack.metric('sekisho_connections_refused_total{reason="body_timeout"}') == 1
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []
    assert serves(stack)


def test_connections_beyond_the_limit_get_503_with_retry_after(
    make_stack: StackFactory, monkeypatch: pytest.MonkeyPatch,
) -> None:
    stack = make_stack(max_connections=2, header_timeout_s=10)
    held = [connect(stack) for _ in range(2)]
    try:
        time.sleep(0.2)
        with connect(stack) as extra:
            extra.sendall(request_head(len(CHAT)) + CHAT)
            status, headers, body = status_and_body(read_all(extra))
        assert status == 503 and headers["retry-after"] == "1"
        assert body["error"]["code"] == "too_many_connections"
        # Refused connections that never send a request are bounded too: past the margin
        # a new one is closed at once, without an answer.
        monkeypatch.setattr(serving, "REFUSAL_MARGIN", 1)
        with connect(stack) as waiting, connect(stack) as dropped:
            started = time.monotonic()
            assert read_all(dropped) == b""
            assert time.monotonic() - started < 2
            waiting.sendall(request_head(len(CHAT)) + CHAT)
            assert status_and_body(read_all(waiting))[0] == 503
        assert stack.metric('sekisho_connections_refused_total{reason="limit"}') == 3
        assert stack.posts(stack.cloud) == []
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 5
    while True:  # the held connections' close reaches the server asynchronously
        try:
            assert serves(stack)
            break
        except openai.APIStatusError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


# --- TLS --------------------------------------------------------------------------------------

class Certificates:
    """A test CA and a certificate it signed for 127.0.0.1 and localhost."""

    def __init__(self, directory: Path) -> None:
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sekisho test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost")]), critical=False)
                .sign(ca_key, hashes.SHA256()))
        self.ca = directory / "ca.pem"
        self.cert = directory / "cert.pem"
        self.key = directory / "key.pem"
        self.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture
def certs(tmp_path: Path) -> Certificates:
    return Certificates(tmp_path)


def test_the_listener_speaks_tls_with_the_configured_certificate(
    make_stack: StackFactory, certs: Certificates,
) -> None:
    stack = make_stack(tls_cert=certs.cert, tls_key=certs.key)
    base_url = f"https://127.0.0.1:{stack.port}/v1"
    with openai.OpenAI(base_url=base_url, api_key="c", max_retries=0,
                       http_client=httpx.Client(verify=ssl.create_default_context(
                           cafile=str(certs.ca)))) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Mail bob@corp.example.com"}])
    assert raw.headers["x-sekisho-route"] == "local"
    # Without the CA the client refuses the certificate; plain HTTP gets no answer.
    with openai.OpenAI(base_url=base_url, api_key="c", max_retries=0) as client, \
            pytest.raises(openai.APIConnectionError):
        client.models.list()
    with connect(stack) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not read_all(sock, timeout=5).startswith(b"HTTP/1.1 200")


def test_the_on_prem_certificate_is_verified_against_the_configured_ca_bundle(
    make_stack: StackFactory, loop_thread: LoopThread, certs: Certificates,
) -> None:
    tls_local = RecordingUpstream("local", models=["qwen"])
    loop_thread.run(tls_local.start(ssl_context=certs.server_context()))
    try:
        sensitive = [{"role": "user", "content": "Mail bob@corp.example.com about the invoice"}]
        trusted = make_stack(local_url=tls_local.base_url, local_ca_bundle=certs.ca)
        reply = trusted.openai().chat.completions.create(model="gpt-4o-mini",
                                                         messages=sensitive)
        assert reply.choices[0].message.content == "reply from local"
        received = len(tls_local.requests)
        # The same server without its CA configured: verification fails, the sensitive
        # request is refused (never sent to the cloud instead), nothing reaches the server.
        untrusted = make_stack(local_url=tls_local.base_url)
        with pytest.raises(openai.APIStatusError) as refused:
            untrusted.openai().chat.completions.create(model="gpt-4o-mini", messages=sensitive)
        assert refused.value.status_code in (502, 503)
        assert untrusted.posts(untrusted.cloud) == []
        assert len(tls_local.requests) == received
    finally:
        loop_thread.run(tls_local.stop())


# --- graceful stop ----------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readyz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_sigterm_drains_then_finishes_the_stream_in_flight_and_exits_0(
    loop_thread: LoopThread, tmp_path: Path,
) -> None:
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen"])
    cloud.pieces_fn = lambda text: [f"part{i} " for i in range(8)]
    cloud.stream_pause = 0.3  # the stream takes ~2 s
    loop_thread.run(cloud.start())
    loop_thread.run(local.start())
    port = _free_port()
    config = tmp_path / "sekisho.yaml"
    config.write_text(f"detection_workers: 1\nmetrics_port: null\nshutdown_delay_s: 0.8\n"
                      f"shutdown_timeout_s: 20\ncloud_url: {cloud.base_url}\n"
                      f"local_url: {local.base_url}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc, 90)
        pieces: list[str] = []
        first = threading.Event()

        def stream() -> None:
            with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="c",
                               max_retries=0) as client:
                for chunk in client.chat.completions.create(
                        model="gpt-4o-mini", stream=True,
                        messages=[{"role": "user", "content": "tell me a story"}]):
                    if chunk.choices and chunk.choices[0].delta.content:
                        pieces.append(chunk.choices[0].delta.content)
                        first.set()

        reader = threading.Thread(target=stream)
        reader.start()
        assert first.wait(30)
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        assert _readyz(port) == 503  # draining, while still answering
        reader.join(30)
        assert not reader.is_alive()
        assert "".join(pieces) == "".join(f"part{i} " for i in range(8))
        assert proc.wait(30) == 0
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
        loop_thread.run(cloud.stop())
        loop_thread.run(local.stop())


def test_sigterm_right_after_a_request_failed_closed_at_its_deadline_stops_at_once(
    loop_thread: LoopThread, tmp_path: Path,
) -> None:
    """The request's detection job may still run when the stop begins: it is not waited for
    (``test_closing_the_pool_abandons_a_running_job`` shows the mechanism)."""
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen"])
    loop_thread.run(cloud.start())
    loop_thread.run(local.start())
    port = _free_port()
    config = tmp_path / "sekisho.yaml"
    config.write_text(f"detection_workers: 1\nmetrics_port: null\ndetection_deadline_ms: 300\n"
                      f"detection_deadline_ms_per_1000_chars: 0\n"
                      f"detection_cache_size: 0\ncloud_url: {cloud.base_url}\n"
                      f"local_url: {local.base_url}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc, 90)
        # Prose of many sentences (each its own work for the detector), about 1.5 MB.
        text = " ".join(f"Meeting note {i}: the supplier in Osaka moved delivery {i % 28 + 1}"
                        " days, and the design review asked for a second sample."
                        for i in range(12000))
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="c",
                           max_retries=0, timeout=60) as client:
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": text}])
        assert raw.headers["x-sekisho-action"] == "fail_closed"  # the job outlives its request
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        assert time.monotonic() - started < 6
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)
        loop_thread.run(cloud.stop())
        loop_thread.run(local.stop())


def test_closing_the_pool_abandons_a_running_job() -> None:
    """``DetectorPool.close`` stops its processes even mid-job; the interpreter's exit would
    otherwise wait for the job (here two minutes)."""
    code = (
        "import concurrent.futures, multiprocessing, time\n"
        "from proxy.detection.runner import DetectorPool\n"
        "pool = DetectorPool(1)\n"
        "pool._executor = concurrent.futures.ProcessPoolExecutor(\n"
        "    1, mp_context=multiprocessing.get_context('spawn'))\n"
        "pool._executor.submit(time.sleep, 120)\n"
        "time.sleep(1.5)\n"
        "pool.close()\n"
    )
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=90, check=True)
    assert time.monotonic() - started < 20
