"""The policies in force, the tenants' keys, and their hot reload.

Compliance staff edit policy files; operators edit the keys file. Both are watched (polled a few
times a second, and re-read at once on ``SIGHUP``). A changed file is parsed and validated
completely before anything changes; then one reference is swapped. An invalid edit is logged with
its file:line errors and counted, and the last good version stays in force — a typo never opens a
leak and never takes the proxy down.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from proxy.policy.loader import PolicyError, load_policy
from proxy.policy.model import Policy

log = logging.getLogger("sekisho.policy")

DEFAULT_TENANT = "default"
_HASH = re.compile(r"^[0-9a-f]{64}$")


class TenantSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    keys: list[str] = Field(min_length=1)
    """SHA-256 hex digests of the tenant's API keys (``sekisho keys hash KEY`` prints one)."""
    policy: Path | None = None
    """The tenant's policy file; unset means the proxy's default policy."""

    @field_validator("keys")
    @classmethod
    def _hashes(cls, keys: list[str]) -> list[str]:
        for key in keys:
            if not _HASH.match(key):
                raise ValueError("each key must be the SHA-256 hex digest of an API key, "
                                 "never the key itself")
        return keys


class KeysSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenants: dict[str, TenantSpec]

    @field_validator("tenants")
    @classmethod
    def _unique(cls, tenants: dict[str, TenantSpec]) -> dict[str, TenantSpec]:
        owner: dict[str, str] = {}
        for name, spec in tenants.items():
            if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]{0,63}", name):
                raise ValueError(f"tenant name {name!r}: use a-z, 0-9, '-' and '_'")
            for key in spec.keys:
                if key in owner:
                    raise ValueError(f"a key hash is listed for both {owner[key]!r} and {name!r}")
                owner[key] = name
        return tenants


@dataclass(frozen=True, slots=True)
class TenantKeys:
    by_hash: dict[str, str]
    policies: dict[str, Path]


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load_keys(path: Path) -> TenantKeys:
    try:
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise PolicyError([f"{path}:1: cannot read keys file: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise PolicyError([f"{path}:1: invalid YAML: {exc}"]) from None
    try:
        spec = KeysSpec.model_validate(data)
    except ValidationError as err:
        raise PolicyError([
            f"{path}: {'.'.join(str(p) for p in e['loc'])}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in err.errors()
        ]) from None
    by_hash = {key: name for name, t in spec.tenants.items() for key in t.keys}
    policies = {name: t.policy for name, t in spec.tenants.items() if t.policy is not None}
    return TenantKeys(by_hash, policies)


def _fingerprint(path: Path) -> bytes | None:
    try:
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


class PolicyStore:
    """Every policy in force, by file, plus the tenants and the optional shadow policy."""

    def __init__(
        self,
        default_path: Path,
        *,
        keys_path: Path | None = None,
        shadow_path: Path | None = None,
        default_policy: Policy | None = None,
    ) -> None:
        self.default_path = default_path
        self.keys_path = keys_path
        self.shadow_path = shadow_path
        self.keys: TenantKeys | None = None
        self.shadow: Policy | None = None
        self._policies: dict[Path, Policy] = {}
        self._seen: dict[Path, bytes | None] = {}
        # Load everything now: an invalid file at start-up is fatal (raises PolicyError).
        if keys_path is not None:
            self.keys = load_keys(keys_path)
            self._seen[keys_path] = _fingerprint(keys_path)
        for path in self.policy_paths():
            if path == default_path and default_policy is not None:
                self._policies[path] = default_policy
            else:
                self._policies[path] = load_policy(path)
            self._seen[path] = _fingerprint(path)
        if shadow_path is not None:
            self.shadow = load_policy(shadow_path)
            self._seen[shadow_path] = _fingerprint(shadow_path)

    def policy_paths(self) -> list[Path]:
        paths = [self.default_path]
        if self.keys is not None:
            paths += [p for p in self.keys.policies.values() if p not in paths]
        return paths

    @property
    def default(self) -> Policy:
        return self._policies[self.default_path]

    def policies(self) -> list[Policy]:
        return list(self._policies.values())

    def policy_for(self, tenant: str) -> Policy:
        if self.keys is not None and tenant in self.keys.policies:
            return self._policies[self.keys.policies[tenant]]
        return self.default

    @property
    def tenants(self) -> list[str]:
        names = {DEFAULT_TENANT}
        if self.keys is not None:
            names |= set(self.keys.by_hash.values())
        return sorted(names)

    def tenant_for(self, api_key: str | None) -> str | None:
        """The tenant owning ``api_key``; ``default`` when no keys are configured."""
        if self.keys is None:
            return DEFAULT_TENANT
        if not api_key:
            return None
        digest = hash_key(api_key)
        for known, tenant in self.keys.by_hash.items():
            if hmac.compare_digest(known, digest):
                return tenant
        return None

    def reload(self, *, force: bool = False) -> list[tuple[str, bool, list[str]]]:
        """Re-read changed files. Returns (file, ok, errors) per file that changed.

        Each file applies whole or not at all. A new keys file that names a new policy file
        only takes effect once that policy loads too.
        """
        results: list[tuple[str, bool, list[str]]] = []
        if self.keys_path is not None and self._changed(self.keys_path, force):
            try:
                keys = load_keys(self.keys_path)
                fresh = {
                    p: load_policy(p) for p in keys.policies.values() if p not in self._policies
                }
            except PolicyError as err:
                results.append((str(self.keys_path), False, err.errors))
            else:
                self._policies.update(fresh)
                for p in fresh:
                    self._seen[p] = _fingerprint(p)
                self.keys = keys
                results.append((str(self.keys_path), True, []))
        for path in self.policy_paths():
            if self._changed(path, force):
                results.append(self._reload_policy(path))
        if self.shadow_path is not None and self._changed(self.shadow_path, force):
            try:
                self.shadow = load_policy(self.shadow_path)
            except PolicyError as err:
                results.append((str(self.shadow_path), False, err.errors))
            else:
                results.append((str(self.shadow_path), True, []))
        for name, ok, errors in results:
            if ok:
                log.info("policy reloaded: %s", name)
            else:
                log.error("policy reload rejected, last good version stays in force:\n%s",
                          "\n".join(errors))
        return results

    def _reload_policy(self, path: Path) -> tuple[str, bool, list[str]]:
        try:
            policy = load_policy(path)
        except PolicyError as err:
            return str(path), False, err.errors
        self._policies[path] = policy
        return str(path), True, []

    def _changed(self, path: Path, force: bool) -> bool:
        fingerprint = _fingerprint(path)
        if not force and fingerprint == self._seen.get(path):
            return False
        self._seen[path] = fingerprint
        return True
