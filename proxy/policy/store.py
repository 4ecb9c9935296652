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
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from proxy.policy.loader import (
    PolicyError,
    load_policy,
    read_regular,
    read_yaml,
    validation_errors,
)
from proxy.policy.model import Policy, field_errors
from proxy.values import RateLimits

log = logging.getLogger("sekisho.policy")

DEFAULT_TENANT = "default"
_HASH = re.compile(r"^[0-9a-f]{64}$")
_TENANT = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")


class LimitsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    requests_per_minute: int | None = Field(default=None, ge=0)
    tokens_per_minute: int | None = Field(default=None, ge=0)
    max_concurrent: int | None = Field(default=None, ge=0)
    """0 means unlimited for this tenant, whatever the default."""


class TenantSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    keys: list[str] = Field(min_length=1)
    """SHA-256 hex digests of the tenant's API keys (``sekisho keys hash KEY`` prints one)."""
    policy: Path | None = None
    """The tenant's policy file; unset means the proxy's default policy."""
    limits: LimitsSpec | None = None
    """The tenant's own rate limits; unset fields take the proxy's defaults (settings)."""

    @field_validator("keys")
    @classmethod
    def _hashes(cls, keys: list[str]) -> list[str]:
        # The message never repeats the value: it may be a real API key pasted by mistake.
        bad = [((i,), "must be the SHA-256 hex digest of an API key (`sekisho keys hash KEY`"
                      " prints it), never the key itself")
               for i, key in enumerate(keys) if not _HASH.match(key)]
        if bad:
            raise field_errors("TenantSpec.keys", bad)
        return keys


class KeysSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    tenants: dict[str, TenantSpec]

    @model_validator(mode="after")
    def _unique(self) -> KeysSpec:
        errors: list[tuple[tuple[str | int, ...], str]] = []
        owner: dict[str, str] = {}
        for name, spec in self.tenants.items():
            if not _TENANT.fullmatch(name):
                errors.append((("tenants", name), "a tenant name may only use a-z, 0-9, '-'"
                                                  " and '_' (at most 64 characters)"))
            for i, key in enumerate(spec.keys):
                if key in owner:
                    where = ("twice for this tenant" if owner[key] == name
                             else f"for tenant {owner[key]!r} too: a key must belong to one"
                                  " tenant")
                    errors.append((("tenants", name, "keys", i),
                                   f"this key hash is listed {where}"))
                owner.setdefault(key, name)
        if errors:
            raise field_errors("KeysSpec", errors)
        return self


@dataclass(frozen=True, slots=True)
class TenantKeys:
    by_hash: dict[str, str]
    policies: dict[str, Path]
    limits: dict[str, LimitsSpec] = field(default_factory=dict)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def load_keys(path: Path) -> TenantKeys:
    """Parse and validate a keys file; ``PolicyError`` (``file:line: field: problem``) if not."""
    try:
        text = read_regular(path).decode("utf-8")
    except OSError as exc:
        raise PolicyError([f"{path}:1: cannot read keys file: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise PolicyError([f"{path}:1: keys file is not UTF-8 text"]) from None
    data, lines = read_yaml(text, str(path))
    if not isinstance(data, dict):
        raise PolicyError([f"{path}:1: a keys file must be a mapping with 'tenants'"])
    try:
        spec = KeysSpec.model_validate(data)
    except ValidationError as err:
        raise PolicyError(validation_errors(err, lines, str(path), KeysSpec)) from None
    by_hash = {key: name for name, t in spec.tenants.items() for key in t.keys}
    policies = {name: t.policy for name, t in spec.tenants.items() if t.policy is not None}
    limits = {name: t.limits for name, t in spec.tenants.items() if t.limits is not None}
    return TenantKeys(by_hash, policies, limits)


_UNSEEN = b"unseen"  # no fingerprint (they are SHA-256 digests or None) is ever this


def _fingerprint(path: Path) -> bytes | None:
    try:
        return hashlib.sha256(read_regular(path)).digest()
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
        self._settling: dict[Path, bytes | None] = {}
        self._waiting_settling: tuple[bytes | None, ...] | None = None
        """New content seen once, applied if the next poll reads it again."""
        # A keys file rejected because a policy it newly names does not load: those policies'
        # fingerprints when it was rejected. Fixing one of them re-checks the keys file, so the
        # tenant is not refused until someone happens to touch the keys file too.
        self._keys_waiting_on: dict[Path, bytes | None] = {}
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
        """The policies in force: the default and those the keys file names now (a policy no
        tenant uses any more stays loaded but is not in force)."""
        return [self._policies[path] for path in self.policy_paths() if path in self._policies]

    def policy_for(self, tenant: str) -> Policy:
        if self.keys is not None and tenant in self.keys.policies:
            return self._policies[self.keys.policies[tenant]]
        return self.default

    def limits_for(self, tenant: str, defaults: RateLimits) -> RateLimits:
        """The tenant's rate limits: the keys file's, field by field over ``defaults``."""
        spec = self.keys.limits.get(tenant) if self.keys is not None else None
        if spec is None:
            return defaults
        return RateLimits(
            defaults.requests_per_minute if spec.requests_per_minute is None
            else spec.requests_per_minute,
            defaults.tokens_per_minute if spec.tokens_per_minute is None
            else spec.tokens_per_minute,
            defaults.max_concurrent if spec.max_concurrent is None else spec.max_concurrent)

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
        if self.keys_path is not None and (
            self._changed(self.keys_path, force) or self._keys_waiting_changed()
        ):
            results.append(self._reload_keys(self.keys_path))
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

    def _reload_keys(self, keys_path: Path) -> tuple[str, bool, list[str]]:
        self._keys_waiting_on = {}
        try:
            keys = load_keys(keys_path)
        except PolicyError as err:
            return str(keys_path), False, err.errors
        new_paths = [p for p in dict.fromkeys(keys.policies.values()) if p not in self._policies]
        # Fingerprints taken before loading: an edit landing mid-load is seen by the next poll.
        prints = {p: _fingerprint(p) for p in new_paths}
        try:
            fresh = {p: load_policy(p) for p in new_paths}
        except PolicyError as err:
            self._keys_waiting_on = prints
            return str(keys_path), False, err.errors
        self._policies.update(fresh)
        self._seen.update(prints)
        self.keys = keys
        return str(keys_path), True, []

    def _keys_waiting_changed(self) -> bool:
        """Whether a policy the rejected keys file waits for has changed (and settled, as in
        ``_changed``)."""
        now = tuple(_fingerprint(p) for p in self._keys_waiting_on)
        if now == tuple(self._keys_waiting_on.values()):
            self._waiting_settling = None
            return False
        if self._waiting_settling != now:
            self._waiting_settling = now
            return False
        self._waiting_settling = None
        return True

    def _reload_policy(self, path: Path) -> tuple[str, bool, list[str]]:
        try:
            policy = load_policy(path)
        except PolicyError as err:
            return str(path), False, err.errors
        self._policies[path] = policy
        return str(path), True, []

    def _changed(self, path: Path, force: bool) -> bool:
        """Whether ``path`` has new content to apply. Polled, new content must read the same
        twice in a row: an editor that rewrites a file in place leaves it half-written for a
        moment, and half a policy can be a valid, weaker one (rules cut off). A forced reload
        (SIGHUP: the operator says the edit is done) applies at once."""
        fingerprint = _fingerprint(path)
        if force:
            self._settling.pop(path, None)
        elif fingerprint == self._seen.get(path):
            self._settling.pop(path, None)
            return False
        elif self._settling.get(path, _UNSEEN) != fingerprint:
            self._settling[path] = fingerprint
            return False
        else:
            del self._settling[path]
        self._seen[path] = fingerprint
        return True
