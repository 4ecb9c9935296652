"""Golden files: each invalid policy or keys file in ``invalid/`` and its exact error text.

``invalid/NAME.yaml`` is loaded from inside its folder (so messages name it as ``NAME.yaml``) and
must fail with exactly the text of ``invalid/NAME.err``; ``invalid/keys/`` holds keys files. To
add a case, add both files; to see a new message, load the file with ``sekisho policy check``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from proxy.policy import PolicyError, load_policy
from proxy.policy.store import load_keys

INVALID = Path(__file__).resolve().parent / "invalid"
POLICIES = sorted(INVALID.glob("*.yaml"))
KEYS = sorted((INVALID / "keys").glob("*.yaml"))


def check_golden(path: Path, load: Callable[[Path], Any], monkeypatch: pytest.MonkeyPatch
                 ) -> None:
    monkeypatch.chdir(path.parent)
    with pytest.raises(PolicyError) as info:
        load(Path(path.name))
    expected = path.with_suffix(".err").read_text(encoding="utf-8")
    assert str(info.value) + "\n" == expected


@pytest.mark.parametrize("path", POLICIES, ids=[p.stem for p in POLICIES])
def test_invalid_policy_fails_with_its_golden_error(path: Path, monkeypatch: pytest.MonkeyPatch
                                                    ) -> None:
    check_golden(path, load_policy, monkeypatch)


@pytest.mark.parametrize("path", KEYS, ids=[p.stem for p in KEYS])
def test_invalid_keys_file_fails_with_its_golden_error(path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    check_golden(path, load_keys, monkeypatch)


def test_every_golden_error_has_its_file_and_every_error_kind_is_covered() -> None:
    errs = sorted(INVALID.rglob("*.err"))
    assert [e.with_suffix(".yaml") for e in errs] == sorted(POLICIES + KEYS)
    kinds = {p.stem for p in POLICIES}
    assert {
        "yaml-syntax", "unknown-top-level-key", "misspelt-rule-key", "unknown-entity",
        "bad-route", "pseudonymize", "duplicate-key", "min-count-without-entities",
        "empty-entities", "entity-actions-on-local-rule", "bad-regex",
    } <= kinds
    assert {"plain-text-key", "shared-hash", "bad-tenant-name"} <= {p.stem for p in KEYS}


def test_a_plain_text_key_is_never_repeated_in_the_error() -> None:
    text = (INVALID / "keys" / "plain-text-key.err").read_text(encoding="utf-8")
    assert "sk-support-team-key-1" not in text
