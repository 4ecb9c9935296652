"""Shared state across replicas: two ``sekisho serve`` processes on two ports share one real
``redis-server`` (started here on loopback): a Responses conversation started on one continues on
the other, by ``previous_response_id``, ``item_reference`` or ``conversation``; tenant limits
are one budget; and with Redis killed, follow-ups are routed by content alone (never a
sensitive one to the cloud), counted, and said in ``/readyz`` — no 500."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from conftest import ROOT, LoopThread
from leakcheck import assert_cloud_never_saw
from upstream import RecordingUpstream

from proxy.policy.store import hash_key

REDIS = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(
    REDIS is None, reason="redis-server is not installed (Debian package redis-server;"
                          " .ci/run installs it)")

SENSITIVE = "Draft a reply to bob.tanaka@corp-mail.example.com about his overdue invoice."
SENSITIVE_TOO = "His card 4111 1111 1111 1111 was declined: explain the next step."
CLEAN = "Thanks. Could you make it shorter?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    port: int
    metrics_port: int
    process: subprocess.Popen[bytes]

    def client(self, key: str = "team-key") -> Any:
        return openai.OpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key=key,
                             max_retries=0)

    def readyz(self) -> dict[str, Any]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz",
                                        timeout=2) as resp:
                return dict(json.loads(resp.read()))
        except urllib.error.HTTPError as err:
            return dict(json.loads(err.read()))

    def metric(self, name: str) -> float:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics",
                                    timeout=5) as resp:
            for line in resp.read().decode().splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        return 0.0


@dataclass
class Cluster:
    redis: subprocess.Popen[bytes]
    cloud: RecordingUpstream
    local: RecordingUpstream
    a: Replica
    b: Replica


@pytest.fixture(scope="module")
def cluster(loop_thread: LoopThread, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    work = tmp_path_factory.mktemp("redis-state")
    redis_port = free_port()
    assert REDIS is not None
    redis = subprocess.Popen([REDIS, "--port", str(redis_port), "--bind", "127.0.0.1",
                              "--save", "", "--appendonly", "no", "--dir", str(work)],
                             stdout=subprocess.DEVNULL)
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen2.5-7b-instruct"])
    loop_thread.run(cloud.start())
    loop_thread.run(local.start())
    keys = work / "keys.yaml"
    keys.write_text(f"tenants:\n  team:\n    keys: [{hash_key('team-key')}]\n"
                    f"  limited:\n    keys: [{hash_key('limited-key')}]\n"
                    f"    limits: {{requests_per_minute: 3}}\n")
    replicas = []
    try:
        for _ in range(2):
            port, metrics_port = free_port(), free_port()
            config = work / f"sekisho-{port}.yaml"
            config.write_text(json.dumps({
                "port": port, "metrics_port": metrics_port, "keys_file": str(keys),
                "cloud_url": cloud.base_url, "local_url": local.base_url,
                "state_backend": f"redis://127.0.0.1:{redis_port}/0", "state_backoff_s": 0.5,
                "detection_workers": 0, "log_level": "WARNING",
            }))
            process = subprocess.Popen(
                [sys.executable, "-m", "proxy", "serve", "--config", str(config)],
                cwd=ROOT, stdout=subprocess.DEVNULL)
            replicas.append(Replica(port, metrics_port, process))
        deadline = time.monotonic() + 120
        for replica in replicas:
            while not (_listening(replica) and replica.readyz().get("status") == "ready"):
                assert replica.process.poll() is None, "sekisho serve exited"
                assert time.monotonic() < deadline, "sekisho serve did not become ready"
                time.sleep(0.2)
        yield Cluster(redis, cloud, local, replicas[0], replicas[1])
    finally:
        for replica in replicas:
            replica.process.terminate()
        for replica in replicas:
            try:
                replica.process.wait(30)
            except subprocess.TimeoutExpired:
                replica.process.kill()
        redis.kill()
        redis.wait(10)
        loop_thread.run(cloud.stop())
        loop_thread.run(local.stop())


def _listening(replica: Replica) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", replica.port), timeout=1):
            return True
    except OSError:
        return False


def route(raw: Any) -> str:
    return str(raw.headers["x-sekisho-route"])


def posts(upstream: RecordingUpstream) -> list[Any]:
    return [r for r in upstream.requests if r.method == "POST"]


def test_a_conversation_started_on_one_replica_continues_on_the_other(cluster: Cluster) -> None:
    with cluster.a.client() as a, cluster.b.client() as b:
        first = a.responses.with_raw_response.create(model="gpt-4o-mini", input=SENSITIVE)
        assert route(first) == "local"
        started = first.parse()
        before = len(posts(cluster.cloud))
        # A clean follow-up on the other replica stays with the conversation's owner.
        follow = b.responses.with_raw_response.create(
            model="gpt-4o-mini", input=CLEAN, previous_response_id=started.id)
        assert route(follow) == "local"
        assert posts(cluster.local)[-1].body["previous_response_id"] == started.id
        # So does one that refers to its output item (the Vercel AI SDK's store: true).
        by_item = b.responses.with_raw_response.create(
            model="gpt-4o-mini",
            input=[{"type": "item_reference", "id": started.output[0].id},
                   {"role": "user", "content": CLEAN}])
        assert route(by_item) == "local"
        assert len(posts(cluster.cloud)) == before
    assert_cloud_never_saw(cluster.cloud, "bob.tanaka@corp-mail.example.com")


def test_a_conversation_id_is_owned_too(cluster: Cluster) -> None:
    with cluster.a.client() as a, cluster.b.client() as b:
        first = a.responses.with_raw_response.create(
            model="gpt-4o-mini", input=SENSITIVE, extra_body={"conversation": "conv_case_7"})
        assert route(first) == "local"
        follow = b.responses.with_raw_response.create(
            model="gpt-4o-mini", input=CLEAN, extra_body={"conversation": {"id": "conv_case_7"}})
        assert route(follow) == "local"


def test_a_cloud_conversation_refuses_sensitive_input_on_any_replica(cluster: Cluster) -> None:
    with cluster.a.client() as a, cluster.b.client() as b:
        first = a.responses.create(model="gpt-4o-mini", input="Name three rivers in Japan.")
        assert posts(cluster.cloud)[-1].body["input"] == "Name three rivers in Japan."
        with pytest.raises(openai.PermissionDeniedError) as refused:
            b.responses.create(model="gpt-4o-mini", input=SENSITIVE_TOO,
                               previous_response_id=first.id)
        assert refused.value.body["code"] == "conversation_on_cloud"
    assert_cloud_never_saw(cluster.cloud, "4111 1111 1111 1111")


def test_tenant_limits_are_one_budget_across_replicas(cluster: Cluster) -> None:
    with cluster.a.client("limited-key") as a, cluster.b.client("limited-key") as b:
        for client in (a, b, a):
            client.chat.completions.create(model="gpt-4o-mini",
                                           messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.RateLimitError):
            b.chat.completions.create(model="gpt-4o-mini",
                                      messages=[{"role": "user", "content": "hi"}])


def test_with_redis_gone_follow_ups_are_routed_by_content_and_counted(cluster: Cluster) -> None:
    with cluster.a.client() as a, cluster.b.client() as b:
        started = a.responses.create(model="gpt-4o-mini", input=SENSITIVE)
        cluster.redis.kill()
        cluster.redis.wait(10)
        # The owner cannot be looked up: a sensitive follow-up goes local by its content...
        sensitive = b.responses.with_raw_response.create(
            model="gpt-4o-mini", input=SENSITIVE_TOO, previous_response_id=started.id)
        assert route(sensitive) == "local"
        # ...and a clean one goes where its content may (the cloud, which does not know the
        # conversation: its answer is relayed, never a 500 of Sekisho's).
        clean = b.responses.with_raw_response.create(
            model="gpt-4o-mini", input=CLEAN, previous_response_id=started.id)
        assert route(clean) == "cloud" and clean.status_code == 200
        # Limits fall back to each process's own buckets.
        b.chat.completions.create(model="gpt-4o-mini",
                                  messages=[{"role": "user", "content": "hi"}])
    assert cluster.b.metric('sekisho_state_errors_total{operation="lookup"}') >= 1
    assert cluster.b.readyz()["state"] == {"backend": "redis", "status": "unreachable"}
    assert cluster.b.readyz()["status"] == "ready"
    assert_cloud_never_saw(cluster.cloud, "bob.tanaka@corp-mail.example.com",
                           "4111 1111 1111 1111")
