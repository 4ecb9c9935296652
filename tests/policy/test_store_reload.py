"""Hot reload of the keys file and the policies it names (``PolicyStore.reload``), directly and
over HTTP."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import openai

from proxy.policy.store import PolicyStore, hash_key

ROOT = Path(__file__).resolve().parents[2]
BROKEN = ("default: {route: local}\nrules:\n  - name: x\n    when: {entities: [NOPE]}\n"
          "    route: local\n")
LOCKDOWN = "default: {route: local}\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def settled(store: PolicyStore) -> list[tuple[str, bool, list[str]]]:
    """Two polls: new content applies once it reads the same twice in a row."""
    assert store.reload() == [], "applied before it was read twice"
    return store.reload()


def keys_file(path: Path, tenants: dict[str, tuple[str, Path | None]]) -> Path:
    lines = ["tenants:"]
    for name, (key, policy) in tenants.items():
        lines += [f"  {name}:", f"    keys: [{hash_key(key)}]"]
        if policy is not None:
            lines.append(f"    policy: {policy}")
    return write(path, "\n".join(lines) + "\n")


def test_keys_file_rejected_for_a_broken_policy_is_rechecked_when_the_policy_is_fixed(
    tmp_path: Path,
) -> None:
    keys = keys_file(tmp_path / "keys.yaml", {"a": ("key-a", None)})
    store = PolicyStore(ROOT / "policies" / "default.yaml", keys_path=keys)
    policy_b = write(tmp_path / "b.yaml", BROKEN)
    keys_file(keys, {"a": ("key-a", None), "b": ("key-b", policy_b)})
    assert [(name, ok) for name, ok, _ in settled(store)] == [(str(keys), False)]
    assert store.tenant_for("key-b") is None
    # Nothing changed: no re-check, no repeated error on every poll.
    assert store.reload() == []
    write(policy_b, BROKEN + "# still broken\n")
    assert [(name, ok) for name, ok, _ in settled(store)] == [(str(keys), False)]
    write(policy_b, LOCKDOWN)
    assert settled(store) == [(str(keys), True, [])]
    assert store.tenant_for("key-b") == "b"
    assert store.policy_for("b").default_route.value == "local"
    assert store.reload() == []


def test_keys_file_naming_a_missing_policy_applies_once_the_policy_is_created(
    tmp_path: Path,
) -> None:
    keys = keys_file(tmp_path / "keys.yaml", {"a": ("key-a", None)})
    store = PolicyStore(ROOT / "policies" / "default.yaml", keys_path=keys)
    policy_b = tmp_path / "b.yaml"
    keys_file(keys, {"a": ("key-a", None), "b": ("key-b", policy_b)})
    [(_, ok, errors)] = settled(store)
    assert not ok and errors == [f"{policy_b}:1: cannot read policy: No such file or directory"]
    write(policy_b, LOCKDOWN)
    assert settled(store) == [(str(keys), True, [])]
    assert store.tenant_for("key-b") == "b"


def errors_counted(stack: Any) -> float:
    async def go() -> str:
        async with aiohttp.ClientSession() as session:
            async with session.get(stack.metrics_url) as resp:
                return await resp.text()

    for line in stack.loop.run(go()).splitlines():
        if line.startswith('sekisho_policy_reloads_total{result="error"}'):
            return float(line.split()[-1])
    return 0.0


def wait_until(predicate: Any, seconds: float = 3.0) -> None:
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "not applied in time"
        time.sleep(0.05)


def test_tenant_is_accepted_once_the_policy_its_keys_entry_names_is_fixed(
    make_stack: Any, tmp_path: Path
) -> None:
    keys = keys_file(tmp_path / "keys.yaml", {"a": ("key-a", None)})
    stack = make_stack(keys_file=keys, policy_poll_s=0.1)
    tenant_b = stack.openai(api_key="key-b")

    def chat() -> Any:
        return tenant_b.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello"}])

    policy_b = write(tmp_path / "b.yaml", BROKEN)
    keys_file(keys, {"a": ("key-a", None), "b": ("key-b", policy_b)})
    wait_until(lambda: errors_counted(stack) == 1.0)
    time.sleep(0.5)  # several polls: the rejection is reported once, not on every poll
    assert errors_counted(stack) == 1.0
    try:
        chat()
        raise AssertionError("tenant b was accepted with a broken policy")
    except openai.AuthenticationError:
        pass

    write(policy_b, LOCKDOWN)  # only the policy is fixed; the keys file is not touched

    def accepted() -> bool:
        try:
            chat()
        except openai.AuthenticationError:
            return False
        return True

    wait_until(accepted)
    raw = chat()
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_a_policy_caught_half_written_is_never_applied(tmp_path: Path) -> None:
    full = ("default: {route: cloud}\nrules:\n  - name: ids-stay-local\n"
            "    when: {entities: [JP_MY_NUMBER]}\n    route: local\n")
    policy = write(tmp_path / "p.yaml", full)
    store = PolicyStore(policy)
    half = "default: {route: cloud}\n"  # the rules cut off: valid, and weaker
    write(policy, half)  # an editor rewriting in place, caught mid-write by a poll
    assert store.reload() == []
    write(policy, full.replace("ids-stay-local", "ids-stay-on-prem"))
    assert store.reload() == []  # new content again: wait for it to settle
    assert store.reload() == [(str(policy), True, [])]
    assert [rule.name for rule in store.default.rules] == ["ids-stay-on-prem"]
