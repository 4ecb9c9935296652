"""Policy values: the YAML schema (strict pydantic models) and the compiled, immutable policy."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from proxy.detection import entities
from proxy.exchange import Endpoint


class Route(StrEnum):
    CLOUD = "cloud"
    LOCAL = "local"
    BLOCK = "block"


class Action(StrEnum):
    """What happened to the request on its route (a bounded metric label)."""

    FORWARD = "forward"
    FALLBACK = "fallback"
    FAIL_CLOSED = "fail_closed"


RESERVED_RULE_NAMES = frozenset({"default", "fail_closed"})
_Strict = ConfigDict(extra="forbid", frozen=True)


class MatchSpec(BaseModel):
    """``when:`` — every condition given must hold (an empty ``when`` matches everything)."""

    model_config = _Strict
    entities: list[str] = Field(default_factory=list)
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    min_count: int = Field(default=1, ge=1)
    endpoints: list[Literal["chat", "completions", "embeddings", "responses"]] | None = None

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, names: list[str]) -> list[str]:
        for name in names:
            if not entities.expand(name):
                raise ValueError(
                    f"unknown entity type {name!r} (see the entity vocabulary in the README)"
                )
        return names


class RuleSpec(BaseModel):
    model_config = _Strict
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    description: str | None = None
    when: MatchSpec
    route: Route
    message: str | None = None
    """For ``block``: the message returned to the client (names data kinds, never data)."""

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name in RESERVED_RULE_NAMES:
            raise ValueError(f"rule name {name!r} is reserved")
        return name


class DefaultSpec(BaseModel):
    model_config = _Strict
    route: Route
    message: str | None = None


class PolicySpec(BaseModel):
    model_config = _Strict
    version: Literal[1] = 1
    description: str | None = None
    default: DefaultSpec
    rules: list[RuleSpec] = Field(default_factory=list)

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        seen: set[str] = set()
        for rule in rules:
            if rule.name in seen:
                raise ValueError(f"duplicate rule name {rule.name!r}")
            seen.add(rule.name)
        return rules


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    entity_types: frozenset[str]
    min_score: float
    min_count: int
    endpoints: frozenset[Endpoint] | None
    route: Route
    message: str | None


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy: immutable, so a reload swaps one reference and nothing else."""

    path: str
    version: str
    rules: tuple[Rule, ...]
    default_route: Route
    default_message: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    route: Route
    rule: str
    action: Action
    policy_version: str
    entity_types: frozenset[str]
    """The entity types that made the deciding rule match (empty for the default)."""
    message: str | None = None
