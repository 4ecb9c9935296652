"""Every dashboard query and every alert, evaluated by a real Prometheus scraping real Sekisho.

Two stacks run on loopback: ``main`` (a policy with a block rule and a contact rule, a shadow
policy that sends everything local, fast policy polling) and ``slow`` (a detector that takes
longer than the detection deadline: every request fails closed with detection_timeout and Sekisho
adds > 500 ms). A Prometheus started by the test scrapes both every second and evaluates
deploy/prometheus/alerts.yml every second. Traffic covers every panel: cloud, local, blocked,
streamed with usage, Japanese, completions, embeddings, cloud 5xx with fallback, fail-closed
because local is down, detection timeouts, rejected policy edits. Then every PromQL expression of
every panel (variables set as Grafana's "All" does) and every alert expression must return data
through /api/v1/query, every metric they name must be in a /metrics scrape, and every alert must
be active (pending or firing; their `for:` is minutes) in /api/v1/alerts.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from conftest import Stack, StackFactory
from observe_support import (
    ALERTS,
    DASHBOARD_JSON,
    alert_rules,
    dashboard_targets,
    exported_series_names,
    grafana_substitute,
    tool,
    unknown_names,
)

from proxy.detection.detector import Detector

pytestmark = pytest.mark.slow

PROMETHEUS = os.environ.get("PROMETHEUS_BIN") or tool("prometheus")

POLICY = """\
version: 1
default: {route: cloud}
rules:
  - name: no-secrets
    when: {entities: ["SECRET_*"]}
    route: block
  - name: contact-details
    when: {entities: [EMAIL_ADDRESS]}
    route: local
"""
SHADOW_POLICY = "version: 1\ndefault: {route: local}\n"
API_KEY_TEXT = (
    "Why does this fail? OpenAI(api_key='sk-proj-Q3vT9xLm2Rk8ZpW4nYb7HcJd5FgA1sUe6oKi0tVw')"
)

WAIT_S = 15.0  # upper bound for each wait on Prometheus


class SlowDetector:
    """The session detector behind a delay longer than the stack's detection deadline."""

    def __init__(self, inner: Detector, delay: float) -> None:
        self.inner = inner
        self.delay = delay

    @property
    def loaded(self) -> bool:
        return True

    def analyze(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.delay)
        return self.inner.analyze(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Prometheus:
    def __init__(self, binary: str, workdir: Path, targets: list[str]) -> None:
        self.workdir = workdir
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [str(ALERTS)],
            "scrape_configs": [{"job_name": "sekisho",
                                "static_configs": [{"targets": targets}]}],
        }
        self.config_path = workdir / "prometheus.yml"
        self.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log_path = workdir / "prometheus.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        for _attempt in range(3):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            with self.log_path.open("ab") as log:
                self.proc = subprocess.Popen(
                    [binary, f"--config.file={self.config_path}",
                     f"--storage.tsdb.path={workdir / 'data'}",
                     f"--web.listen-address=127.0.0.1:{port}",
                     "--storage.tsdb.retention.time=1h", "--log.level=warn"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                )
            self.http = httpx.Client(base_url=self.url, timeout=5.0)
            if self._ready():
                return
            self.stop()
        raise AssertionError(f"Prometheus did not start:\n{self.log()}")

    def _ready(self) -> bool:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            try:
                if self.http.get("/-/ready").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        return False

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None
        self.http.close()

    def api(self, path: str, **params: str) -> Any:
        resp = self.http.get(f"/api/v1/{path}", params=params)
        body = resp.json()
        assert resp.status_code == 200 and body.get("status") == "success", (
            f"{path} {params}: {resp.status_code} {body}"
        )
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", data
        result: list[dict[str, Any]] = data["result"]
        return result

    def wait_for(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.25)
        raise AssertionError(f"timed out after {WAIT_S}s waiting for {what}\n{self.log()}")

    def wait_scraped(self, count: int) -> None:
        """Wait until every target has been scraped after now (so recent traffic is stored)."""
        since = time.time() + 0.05

        def done() -> bool:
            rows = self.query('timestamp(up{job="sekisho"} == 1)')
            return len(rows) == count and all(float(r["value"][1]) >= since for r in rows)

        self.wait_for(f"a fresh scrape of {count} targets", done)


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[Callable[[list[str]], Prometheus]]:
    if PROMETHEUS is None:
        pytest.skip("prometheus binary not installed (Debian package: prometheus)")
    started: list[Prometheus] = []

    def start(targets: list[str]) -> Prometheus:
        workdir = tmp_path / f"prometheus{len(started)}"
        workdir.mkdir()
        prom = Prometheus(str(PROMETHEUS), workdir, targets)
        started.append(prom)
        return prom

    yield start
    for prom in started:
        prom.stop()


def status_of(call: Callable[[], Any]) -> int:
    try:
        call()
    except openai.APIStatusError as err:
        return err.status_code
    return 200


def traffic_round(client: Any, n: int) -> None:
    """One of everything on the main stack; ``n`` keeps texts apart from the detection cache."""
    chat = client.chat.completions.create
    assert status_of(lambda: chat(model="gpt-4o-mini", messages=[
        {"role": "user", "content": f"What are good practices for code review? ({n})"}])) == 200
    assert status_of(lambda: chat(model="gpt-4o-mini", messages=[
        {"role": "user", "content": f"コードレビューのコツを{n}つ教えてください。"}])) == 200
    assert status_of(lambda: chat(model="gpt-4o-mini", messages=[
        {"role": "user",
         "content": f"Please draft a reply to hanako.sato{n}@example.com about the invoice."}],
    )) == 200
    assert status_of(lambda: chat(model="gpt-4o-mini", messages=[
        {"role": "user", "content": API_KEY_TEXT}])) == 403
    for text in (f"Summarise the plot of Hamlet in {n + 2} lines.",
                 f"Write to taro.yamada{n}@example.com that the meeting moved."):
        with chat(model="gpt-4o-mini", stream=True, stream_options={"include_usage": True},
                  messages=[{"role": "user", "content": text}]) as stream:
            chunks = list(stream)
        assert chunks and chunks[-1].usage is not None
    client.completions.create(model="gpt-4o-mini", prompt=f"Count to {n + 3}.")
    client.embeddings.create(model="text-embedding-3-small", input=f"release notes {n}")


def wait_for_reload_errors(stack: Stack, count: int) -> None:
    """Until the proxy itself has counted ``count`` rejected policy edits (polled, bounded)."""
    line = f'sekisho_policy_reloads_total{{result="error"}} {float(count)}'
    deadline = time.monotonic() + 10
    while line not in httpx.get(stack.metrics_url, timeout=5).text:
        assert time.monotonic() < deadline, f"the proxy did not count {count} reload errors"
        time.sleep(0.05)


def test_every_dashboard_query_and_alert_has_data(
    make_stack: StackFactory,
    prometheus_factory: Callable[[list[str]], Prometheus],
    detector: Detector,
    tmp_path: Path,
) -> None:
    started = time.monotonic()
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY, encoding="utf-8")
    shadow = tmp_path / "shadow.yaml"
    shadow.write_text(SHADOW_POLICY, encoding="utf-8")
    main = make_stack(policy=policy, shadow_policy=shadow, policy_poll_s=0.2,
                      health_interval_s=0.5, audit_log=str(tmp_path / "audit.jsonl"))
    slow = make_stack(detector_override=SlowDetector(detector, 0.8),
                      detection_deadline_ms=600, health_interval_s=0.5)
    prom = prometheus_factory([main.metrics_address, slow.metrics_address])
    prom.wait_scraped(2)
    client, slow_client = main.openai(), slow.openai()

    def slow_request(i: int) -> int:
        return status_of(lambda: slow_client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": f"Hello number {i}"}]))

    def cloud_failure(i: int) -> None:
        main.cloud.fail_status = 500
        try:  # a clean request: the cloud answers 500, Sekisho falls back to local
            assert status_of(lambda: client.chat.completions.create(model="gpt-4o-mini", messages=[
                {"role": "user", "content": f"Explain HTTP caching, part {i}."}])) == 200
        finally:
            main.cloud.fail_status = None

    def sensitive(i: int) -> int:
        return status_of(lambda: client.chat.completions.create(model="gpt-4o-mini", messages=[
            {"role": "user", "content": f"Forward this to jiro{i}@example.org please."}]))

    # Phase 1 creates every series (a counter series appears with its first increment, which
    # increase() cannot see), phase 2 increments them after Prometheus has a first sample.
    traffic_round(client, 1)
    cloud_failure(0)
    assert slow_request(0) == 200  # detection timed out: fail closed to the local upstream
    policy.write_text("rules: [\n  - name: broken\n", encoding="utf-8")  # not YAML
    wait_for_reload_errors(main, 1)
    prom.wait_scraped(2)

    traffic_round(client, 2)
    for i in range(1, 4):
        cloud_failure(i)
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(slow_request, range(1, 9))) == [200] * 8
    policy.write_text("default: {route: nowhere}\n", encoding="utf-8")  # schema error
    wait_for_reload_errors(main, 2)
    main.stop_local()
    assert [sensitive(i) for i in range(2)] == [503, 503]
    prom.wait_scraped(2)
    assert [sensitive(i) for i in range(2, 4)] == [503, 503]
    prom.wait_scraped(2)

    # Every metric a dashboard or alert query names is exported by Sekisho.
    exported: set[str] = set()
    for stack in (main, slow):
        exported |= exported_series_names(httpx.get(stack.metrics_url, timeout=5).text)
    dashboard = json.loads(DASHBOARD_JSON.read_text(encoding="utf-8"))
    panel_exprs = [(f"panel {title!r} {ref}", grafana_substitute(expr))
                   for title, ref, expr in dashboard_targets(dashboard)]
    alert_exprs = [(f"alert {rule['alert']}", str(rule["expr"])) for rule in alert_rules()]
    missing = unknown_names(panel_exprs + alert_exprs, exported)
    assert not missing, "queries name metrics Sekisho does not export:\n" + "\n".join(missing)

    # Every panel query returns data with at least one number, every alert expression holds.
    def empty_queries() -> list[str]:
        out = []
        for where, expr in panel_exprs + alert_exprs:
            rows = prom.query(expr)
            if not any(math.isfinite(float(r["value"][1])) for r in rows):
                out.append(f"{where}: {expr}  -> {rows}")
        return out

    problems: list[str] = []

    def all_have_data() -> bool:
        problems[:] = empty_queries()
        return not problems

    try:
        prom.wait_for("data for every query", all_have_data)
    except AssertionError:
        raise AssertionError("queries without data:\n" + "\n".join(problems)) from None

    # The template variables' label_values() find the tenant and the rules.
    def label_values(label: str) -> set[str]:
        return set(prom.api(f"label/{label}/values", **{"match[]":
                                                        "sekisho_routing_decisions_total"}))

    assert label_values("tenant") == {"default"}
    assert {"default", "no-secrets", "contact-details", "fail_closed"} <= label_values("rule")

    # The traffic produced what each panel is about.
    def labels(expr: str, label: str) -> set[str]:
        return {r["metric"].get(label, "") for r in prom.query(expr)}

    decisions = "sekisho_routing_decisions_total"
    assert labels(f"sum by (route) ({decisions})", "route") == {"cloud", "local", "block"}
    assert {"forward", "fallback", "fail_closed"} <= labels(
        f"sum by (action) ({decisions})", "action")
    assert labels("sum by (reason) (sekisho_fail_closed_total)", "reason") >= {
        "detection_timeout", "local_unavailable"}
    assert "EMAIL_ADDRESS" in labels("sum by (entity_type) (sekisho_pii_entities_total)",
                                     "entity_type")
    assert {"en", "ja", "all"} <= labels(
        "sum by (language) (sekisho_detection_duration_seconds_count)", "language")
    assert labels("sum by (upstream) (sekisho_tokens_total)", "upstream") == {"cloud", "local"}
    assert labels("sum by (upstream) (sekisho_upstream_ttft_seconds_count)", "upstream") == {
        "cloud", "local"}
    assert {"status_5xx", "connect"} <= labels(
        "sum by (kind) (sekisho_upstream_errors_total)", "kind")
    assert prom.query('sum(sekisho_fallbacks_total{from="cloud", to="local"}) > 0')
    assert prom.query('sekisho_policy_reloads_total{result="error"} >= 2')
    assert prom.query("sum(sekisho_cloud_cost_usd_total) > 0")
    assert prom.query("sum(sekisho_cloud_cost_avoided_usd_total) > 0")
    assert prom.query(f'{decisions}{{route="block", rule="no-secrets"}} > 0')
    assert prom.query('sekisho_shadow_disagreements_total{shadow_route="local"} > 0')
    assert prom.query(f'sekisho_upstream_up{{upstream="local", instance="{main.metrics_address}"}}'
                      " == 0")
    (policy_info,) = prom.query(
        f'sekisho_policy_info{{instance="{main.metrics_address}"}} == 1')
    assert policy_info["metric"]["path"].endswith("policy.yaml")

    # Every alert is active in Prometheus' rule evaluation, on the instance it is about.
    main_port, slow_port = (int(s.metrics_address.rsplit(":", 1)[1]) for s in (main, slow))
    expected = {
        "SekishoLocalUpstreamDownWithSensitiveTraffic": main_port,
        "SekishoCloudErrorRateHigh": main_port,
        "SekishoPolicyReloadFailed": main_port,
        "SekishoFailClosedSpike": slow_port,
        "SekishoOverheadP99High": slow_port,
    }
    assert set(expected) == {rule["alert"] for rule in alert_rules()}
    active: dict[str, set[int]] = {}

    def all_active() -> bool:
        active.clear()
        for alert in prom.api("alerts")["alerts"]:
            if alert["state"] in ("pending", "firing"):
                port = int(alert["labels"]["instance"].rsplit(":", 1)[1])
                active.setdefault(alert["labels"]["alertname"], set()).add(port)
        return all(port in active.get(name, set()) for name, port in expected.items())

    try:
        prom.wait_for("every alert to be active", all_active)
    except AssertionError:
        raise AssertionError(f"active alerts {active}, expected {expected}") from None
    assert time.monotonic() - started < 60
