"""The command-line contract: serve, explain, policy check — run as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest
from conftest import ROOT, LoopThread, wait_ready
from upstream import RecordingUpstream

SAMPLE = {
    "model": "gpt-4o-mini",
    "messages": [
        {"role": "system", "content": "You are a helpful support agent."},
        {"role": "user", "content": "お客様の田中太郎様 (tanaka@example.co.jp) に返信を書いて"},
    ],
}


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "proxy", *args], input=stdin, capture_output=True, text=True,
        cwd=ROOT, timeout=120, check=False,
    )


def test_policy_check_accepts_the_shipped_policy() -> None:
    result = run_cli("policy", "check", "policies/default.yaml")
    assert result.returncode == 0, result.stderr
    assert "policies/default.yaml: ok" in result.stdout


def test_policy_check_reports_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("default:\n  route: cloud\nrules:\n  - name: x\n    when: {}\n    route: sky\n")
    result = run_cli("policy", "check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:6: rules[0].route: expected cloud|local|block" in result.stderr


def test_explain_json_shows_paths_entities_rules_and_forwarded_body() -> None:
    result = run_cli("explain", "--json", stdin=json.dumps(SAMPLE, ensure_ascii=False))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["route"] == "local"
    assert report["rule"] == "contact-details"
    assert [i["path"] for i in report["inspected"]] == ["messages[0].content",
                                                      "messages[1].content"]
    types = {e["type"] for e in report["entities"]}
    assert {"EMAIL_ADDRESS", "PERSON"} <= types
    for entity in report["entities"]:
        assert "tanaka@example.co.jp" not in entity["masked"]
        assert "田中太郎" not in json.dumps(entity, ensure_ascii=False)
    assert [r["rule"] for r in report["rules"]][:4] == [
        "credentials", "government-ids", "financial", "contact-details"
    ]
    assert report["forwarded_body"]["messages"] == SAMPLE["messages"]


def test_explain_text_output_and_invalid_input(tmp_path: Path) -> None:
    sample = tmp_path / "req.json"
    sample.write_text(json.dumps({"model": "m", "messages": [{"role": "user",
                                                             "content": "Hello!"}]}))
    result = run_cli("explain", str(sample))
    assert result.returncode == 0
    assert "route    cloud  (rule default)" in result.stdout
    assert run_cli("explain", stdin="{nope").returncode == 1
    missing = run_cli("explain", str(tmp_path / "missing.json"))
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: cannot read") and "Traceback" not in missing.stderr
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"model": "m", "prompt": "café"}'.encode("latin-1"))
    garbled = run_cli("explain", str(latin1))
    assert garbled.returncode == 1 and "not UTF-8" in garbled.stderr
    ghost = run_cli("explain", "--tenant", "ghost", str(sample))
    assert ghost.returncode == 1 and "unknown tenant 'ghost'" in ghost.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_flags_override_env_and_route_real_traffic(loop_thread: LoopThread,
                                                        tmp_path: Path) -> None:
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen"])
    loop_thread.run(cloud.start())
    loop_thread.run(local.start())
    port = _free_port()
    env = dict(os.environ)
    env.update({
        "SEKISHO_CLOUD_URL": "http://127.0.0.1:9/v1",  # overridden by the flag below
        "OPENAI_API_KEY": "sk-proxy-from-env",
        "SEKISHO_LOCAL_API_KEY": "local-from-env",
    })
    # No metrics listener: the default port (9464) may be another process's on this machine.
    config = tmp_path / "sekisho.yaml"
    config.write_text("metrics_port: null\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--port", str(port), "--config", str(config),
         "--cloud-url", cloud.base_url, "--local-url", local.base_url,
         "--policy", "policies/default.yaml"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="client",
                           max_retries=0) as client:
            clean = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi there"}])
            sensitive = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": "Mail bob@corp.example.com"}])
        assert clean.choices[0].message.content == "reply from cloud"
        assert sensitive.choices[0].message.content == "reply from local"
        assert cloud.requests[0].headers["authorization"] == "Bearer sk-proxy-from-env"
        posts = [r for r in local.requests if r.method == "POST"]
        assert posts[0].headers["authorization"] == "Bearer local-from-env"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        loop_thread.run(cloud.stop())
        loop_thread.run(local.stop())
    assert "bob@corp.example.com" not in out + err


def test_sighup_reloads_the_policy(loop_thread: LoopThread, tmp_path: Path) -> None:
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen"])
    loop_thread.run(cloud.start())
    loop_thread.run(local.start())
    policy = tmp_path / "policy.yaml"
    policy.write_text("default: {route: cloud}\n")
    config = tmp_path / "sekisho.yaml"
    config.write_text(f"policy: {policy}\npolicy_poll_s: 0\nmetrics_port: null\n"
                      f"cloud_url: {cloud.base_url}\nlocal_url: {local.base_url}\n")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--config", str(config), "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="c",
                           max_retries=0) as client:
            def route() -> str:
                raw = client.chat.completions.with_raw_response.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
                return str(raw.headers["x-sekisho-route"])

            assert route() == "cloud"
            policy.write_text("default: {route: local}\n")
            time.sleep(0.3)
            assert route() == "cloud"  # polling is off: only SIGHUP reloads
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while route() != "local":
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
        loop_thread.run(cloud.stop())
        loop_thread.run(local.stop())


def test_explain_uses_the_tenants_policy_and_keys_hash(tmp_path: Path) -> None:
    digest = run_cli("keys", "hash", "tenant-key").stdout.strip()
    assert len(digest) == 64
    lockdown = tmp_path / "lockdown.yaml"
    lockdown.write_text("default: {route: local}\n")
    keys = tmp_path / "keys.yaml"
    keys.write_text(f"tenants:\n  er:\n    keys: [{digest}]\n    policy: {lockdown}\n")
    config = tmp_path / "sekisho.yaml"
    config.write_text(f"keys_file: {keys}\n")
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    result = run_cli("explain", "--json", "--config", str(config), "--tenant", "er", stdin=body)
    assert json.loads(result.stdout)["route"] == "local"
    result = run_cli("explain", "--json", "--config", str(config), stdin=body)
    assert json.loads(result.stdout)["route"] == "cloud"
    result = run_cli("explain", "--config", str(config), "--tenant", "typo", stdin=body)
    assert result.returncode == 1 and "unknown tenant 'typo'" in result.stderr


def test_policy_test_command_fails_on_a_wrong_expectation(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "default: {route: cloud}\ntests:\n  - name: wrong on purpose\n"
        "    request: {model: m, messages: [{role: user, content: hi}]}\n"
        "    expect: {route: local}\n"
    )
    result = run_cli("policy", "test", str(policy))
    assert result.returncode == 1
    assert "FAIL  wrong on purpose: expected local, got cloud by default" in result.stdout
    assert run_cli("policy", "test", "policies/default.yaml").returncode == 0


def test_workers_share_the_port_and_metrics_are_aggregated(
    loop_thread: LoopThread, tmp_path: Path
) -> None:
    cloud = RecordingUpstream("cloud", models=["gpt-4o-mini"])
    local = RecordingUpstream("local", models=["qwen"])
    loop_thread.run(cloud.start())
    loop_thread.run(local.start())
    port, metrics_port = _free_port(), _free_port()
    config = tmp_path / "sekisho.yaml"
    # One detection process per worker keeps this test light on two cores.
    config.write_text(f"detection_workers: 1\nmetrics_port: {metrics_port}\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--workers", "2", "--port", str(port),
         "--config", str(config), "--cloud-url", cloud.base_url, "--local-url", local.base_url],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        # Either worker may answer a new connection: only many ready answers in a row, each on
        # a fresh connection, say that both have loaded their models.
        deadline = time.monotonic() + 120
        ready_in_a_row = 0
        while ready_in_a_row < 20:
            assert time.monotonic() < deadline, "workers did not become ready"
            assert proc.poll() is None
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                    ready_in_a_row += 1
            except (urllib.error.URLError, ConnectionError):
                ready_in_a_row = 0
                time.sleep(0.2)
        for i in range(12):
            # A new connection each time so the kernel can pick either worker.
            with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="c",
                               max_retries=0) as client:
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=[{"role": "user", "content": f"q{i}"}])
        for _ in range(3):
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics",
                                        timeout=5) as resp:
                text = resp.read().decode()
            total = sum(
                float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                if line.startswith("sekisho_routing_decisions_total{")
            )
            assert total == 12
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
        loop_thread.run(cloud.stop())
        loop_thread.run(local.stop())
    assert proc.returncode == 0


def test_the_sekisho_console_script_is_installed_and_works(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "sekisho"
    assert script.exists(), "pip install did not create the sekisho command"
    result = subprocess.run([str(script), "policy", "check", str(ROOT / "policies/default.yaml")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_explain_shows_the_pseudonymized_body_and_placeholders_per_kind() -> None:
    policy = ROOT / "policies" / "examples" / "customer-support.yaml"
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content":
               "山田花子様（yamada.hanako@example-shop.jp）への返信を書いて。山田花子様は常連です。"}]}
    result = run_cli("explain", "--json", "--policy", str(policy),
                     stdin=json.dumps(request, ensure_ascii=False))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["route"], report["action"]) == ("cloud", "pseudonymize")
    assert report["pseudonyms"] == {"EMAIL": 1, "PERSON": 1}
    sent = report["forwarded_body"]["messages"][0]["content"]
    assert sent == "[[PERSON_1]]様（[[EMAIL_1]]）への返信を書いて。[[PERSON_1]]様は常連です。"
    text = run_cli("explain", "--policy", str(policy),
                   stdin=json.dumps(request, ensure_ascii=False))
    assert "placeholders (restored in the answer): EMAIL 1, PERSON 1" in text.stdout
    assert "山田花子" not in text.stdout


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        children = {p for p, pp in parents.items() if pp == parent}
        found |= children
        todo.extend(children)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids: set[int], seconds: float, parent: str) -> None:
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in pids):
        left = sorted(p for p in pids if _alive(p))
        assert time.monotonic() < deadline, f"still running after {parent}: {left}"
        time.sleep(0.2)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_no_process_outlives_a_supervisor_killed_outright(tmp_path: Path) -> None:
    port = _free_port()
    config = tmp_path / "sekisho.yaml"
    config.write_text("detection_workers: 1\nmetrics_port: null\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--workers", "2", "--port", str(port),
         "--config", str(config), "--cloud-url", "http://127.0.0.1:9/v1",
         "--local-url", "http://127.0.0.1:9/v1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    children: set[int] = set()
    try:
        # Two serving workers, each with its detection process (and multiprocessing's resource
        # tracker): wait until they all exist and a worker is ready.
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "workers did not start"
            assert proc.poll() is None
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                    pass
                workers = _descendants(proc.pid) - set().union(
                    *(_descendants(w) for w in _descendants(proc.pid)))
                if len(workers) == 2 and all(_descendants(w) for w in workers):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.3)
        children = _descendants(proc.pid)
        proc.kill()
        proc.wait(10)
        _wait_gone(children, 30, "the supervisor")
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in children | _descendants(proc.pid):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_detection_processes_do_not_outlive_a_serving_process_killed_outright(
    tmp_path: Path,
) -> None:
    port = _free_port()
    config = tmp_path / "sekisho.yaml"
    config.write_text("detection_workers: 1\nmetrics_port: null\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxy", "serve", "--port", str(port), "--config", str(config),
         "--cloud-url", "http://127.0.0.1:9/v1", "--local-url", "http://127.0.0.1:9/v1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    children: set[int] = set()
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        children = _descendants(proc.pid)
        assert children, "no detection process"
        proc.kill()
        proc.wait(10)
        _wait_gone(children, 15, "the server")
    finally:
        if proc.poll() is None:
            proc.kill()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
