"""Policies over HTTP: redaction, tenants and keys, hot reload under load, shadow mode, admin."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from conftest import Stack

from proxy.policy.store import hash_key

EMAIL = "michiko.ito@example-shop.jp"
NAME = "Michiko Ito"
OPENAI_KEY = "sk-proj-Q3vT9xLm2Rk8ZpW4nYb7HcJd5FgA1sUe6oKi0tVw"

REDACTING = """
default: {route: cloud}
rules:
  - name: ids-stay-local
    when: {entities: [JP_MY_NUMBER, CREDIT_CARD]}
    route: local
  - name: secrets-blocked
    when: {entities: ["SECRET_*"]}
    route: block
  - name: redact-contacts
    when: {entities: [EMAIL_ADDRESS, PERSON], min_score: 0.4}
    route: cloud
    action: redact
"""
LOCKDOWN = "default: {route: local}\n"
CLOUD_ONLY = "default: {route: cloud}\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def metrics_text(stack: Stack) -> str:
    async def go() -> str:
        async with aiohttp.ClientSession() as session:
            async with session.get(stack.metrics_url) as resp:
                return await resp.text()

    return stack.loop.run(go())


def chat(client: Any, text: str, **kwargs: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **kwargs
    )


def test_redaction_sends_placeholders_and_never_the_values(make_stack: Any, tmp_path: Path
                                                          ) -> None:
    stack = make_stack(policy=write(tmp_path / "p.yaml", REDACTING))
    client = stack.openai()
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": f"Customer: {NAME}"},
            {"role": "user", "content": f"Please answer {NAME} at {EMAIL} about the delay."},
            {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "mail", "arguments": json.dumps({"to": EMAIL})}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "queued"},
        ],
        metadata={EMAIL: "owner"},
        store=True,
    )
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert raw.headers["x-sekisho-rule"] == "redact-contacts"
    sent = stack.posts(stack.cloud)[0]
    received = sent.raw.decode()
    assert EMAIL not in received and NAME not in received
    assert "Michiko" not in received and "michiko" not in received
    assert sent.body["messages"][1]["content"] == (
        "Please answer <PERSON> at <EMAIL_ADDRESS> about the delay."
    )
    assert json.loads(sent.body["messages"][2]["tool_calls"][0]["function"]["arguments"]) == {
        "to": "<EMAIL_ADDRESS>"
    }
    assert "<EMAIL_ADDRESS>" in sent.body["metadata"]
    assert 'action="redact"' in metrics_text(stack)


def test_redacted_stream_and_fallback_gets_the_original_locally(make_stack: Any, tmp_path: Path
                                                                ) -> None:
    stack = make_stack(policy=write(tmp_path / "p.yaml", REDACTING))
    client = stack.openai()
    stream = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"Mail {EMAIL}"}],
        stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert EMAIL not in stack.cloud.texts_received()
    stack.stop_cloud()
    raw = chat(client, f"Mail {EMAIL} again")
    assert raw.headers["x-sekisho-route"] == "local"
    assert EMAIL in stack.posts(stack.local)[-1].body["messages"][0]["content"]


def test_block_names_the_kind_of_data_never_the_data(make_stack: Any, tmp_path: Path) -> None:
    stack = make_stack(policy=write(tmp_path / "p.yaml", REDACTING))
    with pytest.raises(openai.PermissionDeniedError) as info:
        chat(stack.openai(), f"Debug this: OPENAI_API_KEY={OPENAI_KEY}")
    assert "SECRET_OPENAI_KEY" in info.value.message
    assert OPENAI_KEY not in info.value.message and "Q3vT9x" not in json.dumps(
        info.value.body)
    assert info.value.response.headers["x-sekisho-route"] == "block"
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []


def keys_file(path: Path, tenants: dict[str, tuple[list[str], Path | None]]) -> Path:
    lines = ["tenants:"]
    for name, (keys, policy) in tenants.items():
        lines.append(f"  {name}:")
        lines.append("    keys: [" + ", ".join(hash_key(k) for k in keys) + "]")
        if policy is not None:
            lines.append(f"    policy: {policy}")
    return write(path, "\n".join(lines) + "\n")


def test_tenants_by_key_with_their_own_policy_and_401_for_unknown_keys(
    make_stack: Any, tmp_path: Path
) -> None:
    lockdown = write(tmp_path / "lockdown.yaml", LOCKDOWN)
    keys = keys_file(tmp_path / "keys.yaml", {
        "support": (["support-key-1"], None),
        "radiology": (["radiology-key-1", "radiology-key-2"], lockdown),
    })
    stack = make_stack(keys_file=keys)
    support = stack.openai(api_key="support-key-1")
    radiology = stack.openai(api_key="radiology-key-2")
    assert chat(support, "Hello").headers["x-sekisho-route"] == "cloud"
    raw = chat(radiology, "Hello")
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "default"
    # The version header names the policy that decided: the tenant's own, not the default.
    lockdown_version = raw.headers["x-sekisho-policy-version"]
    assert lockdown_version != chat(support, "Hello").headers["x-sekisho-policy-version"]
    assert f'policy_version="{lockdown_version}"' in metrics_text(stack)
    with pytest.raises(openai.AuthenticationError) as info:
        chat(stack.openai(api_key="nobody"), "Hello")
    assert info.value.response.headers["x-sekisho-route"] == "block"
    assert "nobody" not in json.dumps(info.value.body)
    text = metrics_text(stack)
    assert 'tenant="radiology"' in text and 'tenant="support"' in text
    assert 'tenant="nobody"' not in text
    # The tenants' own keys never reach an upstream.
    for request in stack.posts(stack.cloud) + stack.posts(stack.local):
        assert "support-key-1" not in json.dumps(request.headers)
        assert "radiology-key-2" not in json.dumps(request.headers)


def wait_until(predicate: Any, seconds: float = 2.0) -> float:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "not applied in time"
        time.sleep(0.05)
    return time.monotonic() - started


def test_hot_reload_applies_within_two_seconds_without_dropping_streams(
    make_stack: Any, tmp_path: Path
) -> None:
    policy = write(tmp_path / "p.yaml", CLOUD_ONLY)
    stack = make_stack(policy=policy)
    client = stack.openai()
    gate = threading.Event()
    stack.cloud.stream_gate = gate
    results: list[str] = []

    def stream_one() -> None:
        s = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Tell a story"}],
            stream=True,
        )
        results.append("".join(c.choices[0].delta.content or "" for c in s if c.choices))

    threads = [threading.Thread(target=stream_one) for _ in range(3)]
    for t in threads:
        t.start()
    wait_until(lambda: len(stack.posts(stack.cloud)) == 3, 10)
    old_version = chat(client, "ping").headers["x-sekisho-policy-version"]
    write(policy, LOCKDOWN)
    wait_until(lambda: chat(client, "ping").headers["x-sekisho-route"] == "local")
    assert chat(client, "ping").headers["x-sekisho-policy-version"] != old_version
    gate.set()
    for t in threads:
        t.join(10)
    assert results == ["reply from cloud"] * 3
    assert 'sekisho_policy_reloads_total{result="success"} 1.0' in metrics_text(stack)


def test_invalid_edit_is_rejected_and_the_last_good_policy_stays(
    make_stack: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = write(tmp_path / "p.yaml", LOCKDOWN)
    stack = make_stack(policy=policy)
    client = stack.openai()
    version = chat(client, "ping").headers["x-sekisho-policy-version"]
    write(policy, "default: {route: cloud}\nrules:\n  - name: x\n    when: {entities: [NOPE]}\n"
                  "    route: cloud\n")
    wait_until(lambda: 'sekisho_policy_reloads_total{result="error"} 1.0' in metrics_text(stack))
    assert f"{policy}:4: rules[0].when.entities: unknown entity type 'NOPE'" in caplog.text
    raw = chat(client, "ping")
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-policy-version"] == version

    async def ready() -> int:
        async with aiohttp.ClientSession() as session:
            async with session.get(stack.root_url + "/readyz") as resp:
                return resp.status

    assert stack.loop.run(ready()) == 200
    write(policy, "default: {route: local\n")  # broken YAML
    wait_until(lambda: 'sekisho_policy_reloads_total{result="error"} 2.0' in metrics_text(stack))
    assert chat(client, "ping").headers["x-sekisho-route"] == "local"
    # An action that cannot apply is refused at reload as it is at start.
    write(policy, "default: {route: cloud}\nrules:\n  - name: p\n    when: {entities: [PERSON]}\n"
                  "    route: local\n    action: pseudonymize\n")
    wait_until(lambda: 'sekisho_policy_reloads_total{result="error"} 3.0' in metrics_text(stack))
    assert "action 'pseudonymize' only applies to route 'cloud'" in caplog.text
    assert chat(client, "ping").headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_a_rule_can_name_the_tenants_it_applies_to(make_stack: Any, tmp_path: Path) -> None:
    policy = write(tmp_path / "p.yaml", "default: {route: cloud}\nrules:\n"
                   "  - name: finance-stays-home\n    when: {tenants: [finance]}\n"
                   "    route: local\n")
    keys = keys_file(tmp_path / "keys.yaml", {"finance": (["fin-key"], None),
                                               "sales": (["sales-key"], None)})
    stack = make_stack(policy=policy, keys_file=keys)
    raw = chat(stack.openai(api_key="fin-key"), "Quarterly numbers?")
    assert (raw.headers["x-sekisho-route"], raw.headers["x-sekisho-rule"]) == (
        "local", "finance-stays-home")
    raw = chat(stack.openai(api_key="sales-key"), "Quarterly numbers?")
    assert (raw.headers["x-sekisho-route"], raw.headers["x-sekisho-rule"]) == ("cloud", "default")


def test_keys_file_reloads_too(make_stack: Any, tmp_path: Path) -> None:
    keys = keys_file(tmp_path / "keys.yaml", {"a": (["key-a"], None)})
    stack = make_stack(keys_file=keys)
    with pytest.raises(openai.AuthenticationError):
        chat(stack.openai(api_key="key-b"), "Hello")
    keys_file(keys, {"a": (["key-a"], None), "b": (["key-b"], None)})

    def accepted() -> bool:
        try:
            chat(stack.openai(api_key="key-b"), "Hello")
        except openai.AuthenticationError:
            return False
        return True

    wait_until(accepted)


def test_shadow_policy_counts_disagreements_and_never_acts(make_stack: Any, tmp_path: Path
                                                          ) -> None:
    stack = make_stack(shadow_policy=write(tmp_path / "shadow.yaml", LOCKDOWN))
    raw = chat(stack.openai(), "What is a monad?")
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert stack.posts(stack.local) == []
    assert ('sekisho_shadow_disagreements_total{active_route="cloud",rule="default",'
            'shadow_route="local"} 1.0') in metrics_text(stack)
    chat(stack.openai(), f"Mail {EMAIL}")
    assert 'active_route="local"' not in metrics_text(stack)


def test_admin_explain_over_http(make_stack: Any) -> None:
    stack = make_stack(admin_key="admin-secret")
    request = {"model": "gpt-4o-mini",
               "messages": [{"role": "user", "content": f"Reply to {EMAIL}"}]}

    async def post(headers: dict[str, str], query: str = "") -> tuple[int, Any]:
        async with aiohttp.ClientSession() as session:
            async with session.post(stack.root_url + "/sekisho/explain" + query,
                                    json=request, headers=headers) as resp:
                return resp.status, await resp.json()

    status, body = stack.loop.run(post({}))
    assert status == 401 and set(body) == {"error"}
    status, body = stack.loop.run(post({"Authorization": "Bearer wrong"}))
    assert status == 401
    status, body = stack.loop.run(post({"Authorization": "Bearer admin-secret"}))
    assert status == 200
    assert body["route"] == "local" and body["rule"] == "contact-details"
    assert body["entities"][0]["type"] == "EMAIL_ADDRESS"
    assert EMAIL not in json.dumps(body["entities"])
    assert body["forwarded_body"]["messages"] == request["messages"]
    status, body = stack.loop.run(post({"Authorization": "Bearer admin-secret"},
                                       "?tenant=ghost"))
    assert status == 400
    assert stack.posts(stack.cloud) == [] and stack.posts(stack.local) == []


def test_allow_listed_values_do_not_keep_a_request_local(make_stack: Any, tmp_path: Path
                                                        ) -> None:
    policy = write(tmp_path / "p.yaml", """
default: {route: cloud}
allow:
  - patterns: ['[^@]+@example\\.(com|org|net)']
rules:
  - name: contacts
    when: {entities: [EMAIL_ADDRESS]}
    route: local
""")
    audit = tmp_path / "audit.jsonl"
    stack = make_stack(policy=policy, audit_log=str(audit))
    client = stack.openai()
    assert chat(client, "In the docs, use alice@example.com as the sample address."
                ).headers["x-sekisho-route"] == "cloud"
    assert chat(client, f"Mail {EMAIL}").headers["x-sekisho-route"] == "local"
    first = json.loads(audit.read_text().splitlines()[0])
    assert first["allowed_entities"] == {"EMAIL_ADDRESS": 1}
    assert "EMAIL_ADDRESS" not in first["entities"]


def test_a_policy_no_tenant_uses_any_more_is_no_longer_in_force(
    make_stack: Any, tmp_path: Path
) -> None:
    lockdown = write(tmp_path / "lockdown.yaml", LOCKDOWN)
    keys = keys_file(tmp_path / "keys.yaml", {"er": (["key-er"], lockdown)})
    stack = make_stack(keys_file=keys)
    in_force = f'path="{lockdown}"'

    def listed() -> bool:
        """Whether the policy file reads 1 (in force) in sekisho_policy_info."""
        return any(line.startswith("sekisho_policy_info{") and in_force in line
                   and line.endswith(" 1.0") for line in metrics_text(stack).splitlines())

    assert listed()
    keys_file(keys, {"er": (["key-er"], None)})
    wait_until(lambda: not listed())


class ConfigMapVolume:
    """A directory laid out as the kubelet lays out a ConfigMap or Secret volume: each file a
    symlink into ``..data``, itself a symlink to a timestamped directory. An update writes a new
    directory and swaps ``..data`` atomically (rename of a new symlink over it): the file's path
    never changes, its content does."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        self.version = 0

    def publish(self, files: dict[str, str]) -> None:
        self.version += 1
        data = self.root / f"..2026_12_02_00_00_0{self.version}.000000001"
        data.mkdir()
        for name, text in files.items():
            (data / name).write_text(text, encoding="utf-8")
        previous = (self.root / "..data").resolve() if (self.root / "..data").exists() else None
        (self.root / "..data_tmp").symlink_to(data.name)
        (self.root / "..data_tmp").rename(self.root / "..data")
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(Path("..data") / name)
        if previous is not None:
            for old in previous.iterdir():
                old.unlink()
            previous.rmdir()


def test_a_configmap_update_by_symlink_swap_reloads_policy_and_keys(
    make_stack: Any, tmp_path: Path
) -> None:
    volume = ConfigMapVolume(tmp_path / "config")
    keys = f"tenants:\n  team:\n    keys: [{hash_key('team-key')}]\n    policy: {{policy}}\n"
    volume.publish({"policy.yaml": CLOUD_ONLY,
                    "keys.yaml": keys.replace("{policy}", str(volume.root / "policy.yaml"))})
    stack = make_stack(policy=volume.root / "policy.yaml", keys_file=volume.root / "keys.yaml")
    client = stack.openai(api_key="team-key")
    assert chat(client, "ping").headers["x-sekisho-route"] == "cloud"
    volume.publish({"policy.yaml": LOCKDOWN,
                    "keys.yaml": keys.replace("{policy}", str(volume.root / "policy.yaml"))
                    + f"  other:\n    keys: [{hash_key('other-key')}]\n"})
    wait_until(lambda: chat(client, "ping").headers["x-sekisho-route"] == "local")
    # The keys file's edit arrived by the same swap: the new tenant's key is known.
    assert chat(stack.openai(api_key="other-key"), "ping").status_code == 200


def test_a_fifo_put_where_the_policy_was_is_refused_without_blocking(
    make_stack: Any, tmp_path: Path
) -> None:
    import os

    policy = write(tmp_path / "p.yaml", LOCKDOWN)
    stack = make_stack(policy=policy, policy_poll_s=0.05)
    client = stack.openai(timeout=20)
    policy.unlink()
    os.mkfifo(policy)  # reading it would wait for a writer: on the event loop, forever
    time.sleep(0.3)
    # Answered at all (the loop is not stuck in a read), by the last good policy.
    assert chat(client, "ping").headers["x-sekisho-route"] == "local"
    assert 'sekisho_policy_reloads_total{result="error"}' in metrics_text(stack)
