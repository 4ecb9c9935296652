"""Settings from a YAML file, environment variables and flags, merged into one frozen object.

Precedence: command-line flags > environment variables > config file > defaults. Secrets (the
upstream API keys) come only from the environment so that no key ever sits in a file in the repo.
Validation happens once at start-up and names the field (and file) that is wrong.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from proxy.detection.budget import DEFAULT_RECOGNIZER_BUDGET_MS
from proxy.pseudonyms import DEFAULT_FORMAT, FormatError, PlaceholderFormat
from proxy.resilience import BreakerSettings
from proxy.values import Limits, RateLimits

DEFAULT_CLOUD_URL = "https://api.openai.com/v1"
DEFAULT_LOCAL_URL = "http://127.0.0.1:8000/v1"


class ConfigError(Exception):
    """The configuration is invalid; the message names the place."""


class ModelAlias(BaseModel):
    """What a client-facing model name becomes on each route."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cloud: str | None = None
    local: str | None = None


class ModelPrice(BaseModel):
    """List price in USD per million tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    prompt: float = Field(ge=0)
    completion: float = Field(default=0.0, ge=0)

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for that many tokens."""
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000


# OpenAI list prices (USD per 1M tokens) when this table was written; configure `prices` to
# match your contract. Used only for the cost metrics, never for routing.
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(prompt=2.50, completion=10.00),
    "gpt-4o-mini": ModelPrice(prompt=0.15, completion=0.60),
    "gpt-4.1": ModelPrice(prompt=2.00, completion=8.00),
    "gpt-4.1-mini": ModelPrice(prompt=0.40, completion=1.60),
    "gpt-4.1-nano": ModelPrice(prompt=0.10, completion=0.40),
    "text-embedding-3-small": ModelPrice(prompt=0.02),
    "text-embedding-3-large": ModelPrice(prompt=0.13),
}


def default_policy_path() -> Path:
    """``policies/default.yaml`` of the checkout (or working directory), else the copy
    ``pip install .`` put under ``<prefix>/share/sekisho/policies``."""
    local = Path("policies/default.yaml")
    installed = Path(sys.prefix, "share", "sekisho", "policies", "default.yaml")
    return installed if not local.exists() and installed.exists() else local


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8787, ge=0, le=65535)
    workers: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] = 1
    """Worker processes sharing the port; metrics are aggregated across them. ``auto``: one
    per core this process may run on."""
    policy: Path = Field(default_factory=default_policy_path)
    keys_file: Path | None = None
    """Tenants and their API keys (SHA-256 hashes); unset means no client authentication."""
    shadow_policy: Path | None = None
    """A policy evaluated alongside the active one, counting disagreements, never acting."""
    policy_poll_s: float = Field(default=0.5, ge=0)
    """How often policy and keys files are checked for edits; 0 means only on SIGHUP."""
    cloud_url: str = DEFAULT_CLOUD_URL
    local_url: str = DEFAULT_LOCAL_URL
    cloud_organization: str | None = None
    """Sent to the cloud as ``OpenAI-Organization``, only when set: a client's own
    ``OpenAI-Organization`` header is never forwarded."""
    cloud_project: str | None = None
    """Sent to the cloud as ``OpenAI-Project``, only when set (never the client's own)."""
    local_organization: str | None = None
    """``OpenAI-Organization`` for the local upstream (a gateway in front of it may want one)."""
    local_project: str | None = None
    """``OpenAI-Project`` for the local upstream, only when set."""
    # Secrets: filled from the environment only (see load_settings), never from the file.
    cloud_api_key: str | None = Field(default=None, repr=False)
    local_api_key: str | None = Field(default=None, repr=False)
    admin_key: str | None = Field(default=None, repr=False)
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=9464, ge=0, le=65535)
    """The unauthenticated metrics listener for Prometheus (None: none; ``/metrics`` on the
    API port always needs the admin key)."""
    allow_unauthenticated: bool = False
    """Listen on a non-loopback address without a keys file (every client is tenant
    ``default``, unauthenticated)."""
    audit_hmac_key: str | None = Field(default=None, repr=False)
    """When set, audit lines carry a keyed hash of each detected value (for correlation)."""
    tls_cert: Path | None = None
    """PEM certificate (chain) of the API listener; with ``tls_key``, clients connect by https."""
    tls_key: Path | None = None

    max_connections: int = Field(default=1024, ge=1)
    """Open client connections per serving process; one more gets 503 and ``Retry-After``."""
    header_timeout_s: float = Field(default=10.0, ge=0)
    """A request head must be complete this long after its first byte, else 408 and the
    connection closes (slow clients; 0 turns the bound off)."""
    body_timeout_s: float = Field(default=60.0, gt=0)
    """A request body must be complete this long after its head, else 408."""
    keepalive_timeout_s: float = Field(default=75.0, gt=0)
    """An idle keep-alive connection is closed after this long."""
    shutdown_delay_s: float = Field(default=0.0, ge=0)
    """On SIGTERM, how long ``/readyz`` answers 503 while still serving, before the listener
    stops accepting (a load balancer's readiness period)."""
    shutdown_timeout_s: float = Field(default=30.0, ge=0)
    """On SIGTERM, how long requests and streams in flight may take to finish."""

    local_model: str | None = None
    """Model sent to the local upstream; when unset, the first model the local upstream lists."""
    local_embedding_model: str | None = None
    """Embedding model on the local upstream; when unset, sensitive embeddings get a 503."""
    model_aliases: dict[str, ModelAlias] = Field(default_factory=dict)

    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_json_depth: int = Field(default=64, ge=4, le=256)
    max_messages: int = Field(default=4096, ge=1)
    """Messages of a chat request, or input items of a Responses request."""
    max_content_parts: int = Field(default=4096, ge=1)
    max_text_chars: int = Field(default=2_000_000, ge=1)
    """Characters of all strings of a request together (keys included)."""
    detection_deadline_ms: int = Field(default=5000, ge=0)
    """Detection deadline of a request, plus ``detection_deadline_ms_per_1000_chars`` for each
    1,000 characters it holds, up to ``detection_deadline_max_ms``."""
    detection_deadline_ms_per_1000_chars: int = Field(default=20, ge=0)
    detection_deadline_max_ms: int = Field(default=30000, ge=0)
    ja_engine: Literal["sudachi", "ginza"] = "sudachi"
    en_ner: Literal["cascade", "always"] = "cascade"
    """English NER only on sentences holding a known name (cascade), or on every English text
    (always: slower; for policies that route on place names or unconfirmed name guesses)."""
    detection_cache_size: int = Field(default=4096, ge=0)
    detection_workers: int = Field(default=2, ge=0, le=64)
    """Detection processes (each loads the models once); 0 runs detection in a thread of the
    serving process instead."""
    detection_max_pending: int = Field(default=128, ge=1)
    """Analyses running or waiting at once; one more is refused at once with 503 and
    ``Retry-After`` (load shedding) instead of waiting until it fails closed at its deadline."""
    detection_recognizer_budget_ms: int = Field(default=DEFAULT_RECOGNIZER_BUDGET_MS, ge=1)
    """CPU time one recognizer may spend on one request, over all its texts; one that spends
    more stops the analysis and the request fails closed (reason ``budget``): a recognizer is
    never skipped. Every recognizer is linear in its text; this bounds the cost of a crafted
    input nobody has measured yet (libphonenumber alone spends up to 2 ms a character on runs
    of digits and separators)."""

    tenant_requests_per_minute: int = Field(default=0, ge=0)
    """Requests per minute per tenant (0: unlimited); a tenant's ``limits`` in the keys file
    override the three tenant defaults."""
    tenant_tokens_per_minute: int = Field(default=0, ge=0)
    """Estimated tokens per minute per tenant (0: unlimited; see ``proxy.limits``)."""
    tenant_max_concurrent: int = Field(default=0, ge=0)
    """Requests of one tenant in flight at once (0: unlimited)."""

    connect_timeout_s: float = Field(default=5.0, gt=0)
    upstream_timeout_s: float = Field(default=600.0, gt=0)
    cloud_fallback_to_local: bool = True
    upstream_retries: int = Field(default=2, ge=0, le=10)
    """Times a request is sent again to the same upstream after a failure that delivered
    nothing (refused connection, no connection in time); never after it may have arrived."""
    upstream_retry_backoff_s: float = Field(default=0.05, ge=0)
    upstream_pool_size: int = Field(default=256, ge=1)
    """Connections per upstream; one more request waits (counted) up to upstream_pool_timeout_s."""
    upstream_pool_timeout_s: float = Field(default=30.0, gt=0)
    breaker_window_s: float = Field(default=30.0, gt=0)
    breaker_min_failures: int = Field(default=5, ge=1)
    breaker_failure_rate: float = Field(default=0.5, gt=0, le=1)
    breaker_open_s: float = Field(default=10.0, gt=0)
    cloud_ca_bundle: Path | None = None
    local_ca_bundle: Path | None = None
    """A CA bundle for the on-prem server's certificate (certificates are always verified)."""
    follow_same_origin_redirects: bool = False
    """Follow an upstream's 307/308 to the same scheme, host and port (never elsewhere)."""
    pseudonym_format: str = DEFAULT_FORMAT
    """Placeholders of pseudonymized values: ``prefix{type}separator{n}suffix``."""
    state_backend: str = "memory"
    """Where conversation ownership and tenant limits live: ``memory`` (this process) or a
    ``redis://`` / ``rediss://`` URL (Redis or Valkey, shared by every worker and replica)."""
    state_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    """How long a conversation's owner is remembered in Redis (OpenAI keeps stored responses
    30 days)."""
    state_timeout_s: float = Field(default=0.25, gt=0)
    """Longest wait for Redis; then the request goes on without it (counted)."""
    state_backoff_s: float = Field(default=2.0, ge=0)
    """After a Redis failure, how long it is not asked again."""
    response_memory: int = Field(default=10000, ge=0)
    models_cache_s: float = Field(default=30.0, ge=0)

    prices: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    """Cloud prices per model for sekisho_cloud_cost_usd_total and the cost avoided."""
    health_interval_s: float = Field(default=10.0, gt=0)
    """How often each upstream's /models is probed for sekisho_upstream_up."""

    audit_log: str | None = None
    """Path of the JSON-lines audit log, ``-`` for stdout, unset for none."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def detection_deadline_s(self, chars: int) -> tuple[float, bool]:
        """The detection deadline of a request of ``chars`` characters, in seconds, and whether
        the cap cut it (the text asked for more time than any request gets)."""
        wanted = self.detection_deadline_ms + self.detection_deadline_ms_per_1000_chars * (
            chars / 1000)
        cap = max(self.detection_deadline_max_ms, self.detection_deadline_ms)
        return min(wanted, cap) / 1000, wanted > cap

    def configured_models(self) -> frozenset[str]:
        """Model names the configuration knows: prices, aliases and what they map to, the
        local models."""
        names = set(self.prices) | set(self.model_aliases)
        for alias in self.model_aliases.values():
            names |= {m for m in (alias.cloud, alias.local) if m}
        names |= {m for m in (self.local_model, self.local_embedding_model) if m}
        return frozenset(names)

    def cloud_model(self, requested: str | None) -> str | None:
        """The model name the cloud receives for a requested one (aliases applied)."""
        alias = self.model_aliases.get(requested) if requested is not None else None
        return alias.cloud if alias is not None and alias.cloud else requested

    @property
    def worker_count(self) -> int:
        if self.workers == "auto":
            return max(1, min(64, len(os.sched_getaffinity(0))))
        return self.workers

    @property
    def breaker(self) -> BreakerSettings:
        return BreakerSettings(self.breaker_window_s, self.breaker_min_failures,
                               self.breaker_failure_rate, self.breaker_open_s)

    @property
    def limits(self) -> Limits:
        return Limits(self.max_body_bytes, self.max_json_depth, self.max_messages,
                      self.max_content_parts, self.max_text_chars)

    @property
    def rate_limits(self) -> RateLimits:
        return RateLimits(self.tenant_requests_per_minute, self.tenant_tokens_per_minute,
                          self.tenant_max_concurrent)

    @property
    def placeholder_format(self) -> PlaceholderFormat:
        return _placeholder_format(self.pseudonym_format)

    @field_validator("pseudonym_format")
    @classmethod
    def _restorable(cls, value: str) -> str:
        try:
            _placeholder_format(value)
        except FormatError as err:
            raise ValueError(str(err)) from None
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    @field_validator("cloud_organization", "cloud_project", "local_organization",
                     "local_project")
    @classmethod
    def _header_value(cls, value: str | None) -> str | None:
        if value is not None and not (value and value.isascii() and value.isprintable()):
            raise ValueError("must be a non-empty line of printable ASCII (it is sent as a header)")
        return value

    @field_validator("state_backend")
    @classmethod
    def _state_backend(cls, value: str) -> str:
        if value != "memory" and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be memory or a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("cloud_url", "local_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        if not value.endswith("/v1"):
            raise ValueError("must be a base URL ending in /v1, as the openai SDK's base_url")
        return value


def exposure_problem(settings: Settings) -> str | None:
    """Why the proxy must not start as configured: listening beyond this machine with no
    client authentication, unless that is asked for explicitly."""
    if settings.keys_file is not None or settings.allow_unauthenticated:
        return None
    host = settings.host.strip("[]")
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return None
    return (f"refusing to listen on {settings.host} without client authentication: any client"
            " that can reach it could use the proxy. Configure a keys file (keys_file /"
            " SEKISHO_KEYS_FILE), listen on 127.0.0.1, or pass --allow-unauthenticated.")


@functools.lru_cache(maxsize=8)
def _placeholder_format(template: str) -> PlaceholderFormat:
    return PlaceholderFormat(template)


ENV_VARS: Mapping[str, str] = {
    "SEKISHO_CLOUD_URL": "cloud_url",
    "SEKISHO_LOCAL_URL": "local_url",
    "SEKISHO_POLICY": "policy",
    "SEKISHO_KEYS_FILE": "keys_file",
    "SEKISHO_SHADOW_POLICY": "shadow_policy",
    "SEKISHO_LOCAL_MODEL": "local_model",
    "SEKISHO_AUDIT_LOG": "audit_log",
    "SEKISHO_STATE_BACKEND": "state_backend",
}
SECRET_ENV_VARS: Mapping[str, str] = {
    "OPENAI_API_KEY": "cloud_api_key",
    "SEKISHO_LOCAL_API_KEY": "local_api_key",
    "SEKISHO_ADMIN_KEY": "admin_key",
    "SEKISHO_AUDIT_HMAC_KEY": "audit_hmac_key",
}


def _format_errors(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(root)"
        lines.append(f"{source}: {where}: {e['msg']}")
    return "\n".join(lines)


def load_settings(
    config_file: Path | None = None,
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    source = "settings"
    if config_file is not None:
        source = str(config_file)
        try:
            loaded = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{config_file}: cannot read: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{config_file}: invalid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{config_file}: expected a mapping of settings")
        for secret in SECRET_ENV_VARS.values():
            if secret in loaded:
                raise ConfigError(
                    f"{config_file}: {secret}: secrets are read from the environment only"
                )
        merged.update(loaded)
    for var, field in ENV_VARS.items():
        if env.get(var):
            merged[field] = env[var]
    for var, field in SECRET_ENV_VARS.items():
        if env.get(var):
            merged[field] = env[var]
    for key, value in (flags or {}).items():
        if value is not None:
            merged[key] = value
    try:
        return Settings.model_validate(merged)
    except ValidationError as err:
        raise ConfigError(_format_errors(err, source)) from None
