"""Policy values: the YAML schema (strict pydantic models) and the compiled, immutable policy."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from proxy import vocabulary as entities
from proxy.values import Endpoint, Route


class EntityAction(StrEnum):
    """What a rule does with one entity type found in the request. Precedence, whatever the
    order they are written in: block > local > pseudonymize > redact."""

    REDACT = "redact"
    PSEUDONYMIZE = "pseudonymize"
    LOCAL = "local"
    BLOCK = "block"


RESERVED_RULE_NAMES = frozenset({"default", "fail_closed", "none", "uninspectable"})
_Strict = ConfigDict(extra="forbid", frozen=True)
EndpointName = Literal["chat", "completions", "embeddings", "responses"]

# Conditions see the request's text folded (NFKC, lower-case; ``text.fold``), so a pattern is
# matched ignoring case: ``PRJ-[0-9]{4}`` as written must still find "PRJ-1234". Without the
# flag an upper-case pattern would silently never match and the data would go to the cloud.
REGEX_FLAGS = re.IGNORECASE


def field_errors(
    title: str, errors: Iterable[tuple[tuple[str | int, ...], str]]
) -> ValidationError:
    """A ``ValidationError`` placing each message at its own field (relative to the model).

    Raised from a model validator, so a check across fields names the field at fault (and the
    loader its line) rather than the whole rule.
    """
    return ValidationError.from_exception_data(title, [
        InitErrorDetails(type=PydanticCustomError("policy", "{message}", {"message": message}),
                         loc=loc, input=None)
        for loc, message in errors
    ])


def _check_entity_names(names: list[str]) -> list[str]:
    for name in names:
        if not entities.expand(name):
            raise ValueError(
                f"unknown entity type {name!r} (see the entity vocabulary in the README)"
            )
    return names


def _check_patterns(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern, REGEX_FLAGS)
        except re.error as exc:
            raise ValueError(f"invalid regex '{pattern}': {exc}") from None
        # The text is NFKC-normalised before matching, so a full-width or other compatibility
        # character in a pattern can never match: say so rather than never match.
        for ch in pattern:
            if unicodedata.normalize("NFKC", ch) != ch:
                raise ValueError(
                    f"regex '{pattern}' contains '{ch}', which never appears in the normalised"
                    f" text: write '{unicodedata.normalize('NFKC', ch)}' instead"
                )
    return patterns


class MatchSpec(BaseModel):
    """``when:`` — every condition given must hold (an empty ``when`` matches everything)."""

    model_config = _Strict
    entities: list[str] = Field(default_factory=list)
    """Any of these entity types (names or globs) found at least ``min_count`` times."""
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)
    min_count: int = Field(default=1, ge=1)
    tenants: list[str] | None = None
    headers: dict[str, str | list[str]] | None = None
    """Request header values (names case-insensitive; a list means any of them)."""
    models: list[str] | None = None
    """Requested model names (globs allowed, e.g. ``gpt-4o*``)."""
    endpoints: list[EndpointName] | None = None
    non_text: bool | None = None
    """True: the request carries images, audio, files or unknown parts; false: it does not."""
    keywords: list[str] | None = None
    """Any of these words or phrases in the text (case-insensitive, width-insensitive)."""
    regex: list[str] | None = None
    """Any of these regular expressions matching the text (Python syntax, case-insensitive)."""
    min_tokens: int | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, ge=0)
    """Bounds on the estimated prompt tokens."""

    @field_validator("entities")
    @classmethod
    def _known_entities(cls, names: list[str]) -> list[str]:
        if not names:
            # An empty list is no condition at all: the rule would match every request.
            raise ValueError("an empty list matches every request, not none: list the entity"
                             " types, or remove 'entities'")
        return _check_entity_names(names)

    @field_validator("regex")
    @classmethod
    def _compiles(cls, patterns: list[str] | None) -> list[str] | None:
        return _check_patterns(patterns) if patterns is not None else None

    @field_validator("keywords")
    @classmethod
    def _non_empty(cls, words: list[str] | None) -> list[str] | None:
        if words is not None and any(not w.strip() for w in words):
            raise ValueError("keywords must not be empty")
        return words

    @model_validator(mode="after")
    def _coherent(self) -> MatchSpec:
        """Conditions that would be silently ignored, or could never hold, are errors."""
        errors: list[tuple[tuple[str | int, ...], str]] = []
        if not self.entities:
            for name in ("min_score", "min_count"):
                if name in self.model_fields_set:
                    errors.append(((name,), f"{name} applies to the findings of 'entities', and"
                                            f" this rule lists none: add entities or remove"
                                            f" {name}"))
        if (self.min_tokens is not None and self.max_tokens is not None
                and self.min_tokens > self.max_tokens):
            errors.append((("max_tokens",), f"max_tokens ({self.max_tokens}) is below min_tokens"
                                            f" ({self.min_tokens}): no request could match"))
        if errors:
            raise field_errors("MatchSpec", errors)
        return self


class RuleSpec(BaseModel):
    model_config = _Strict
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]{0,63}$")
    description: str | None = None
    when: MatchSpec
    route: Route
    action: Literal["forward", "redact", "pseudonymize"] = "forward"
    """``redact``: replace every entity of the rule's types with ``<TYPE>`` before forwarding;
    ``pseudonymize``: with a placeholder that is put back in the answer (``[[PERSON_1]]``)."""
    entity_actions: dict[str, EntityAction] = Field(default_factory=dict)
    """Per entity type (or glob): ``redact`` or ``pseudonymize`` it, or force the request
    ``local`` or ``block``."""
    message: str | None = None
    """For ``block``: the message returned to the client (names data kinds, never data)."""

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, name: str) -> str:
        if name in RESERVED_RULE_NAMES:
            raise ValueError(f"rule name {name!r} is reserved")
        return name

    @field_validator("entity_actions")
    @classmethod
    def _known_entity_actions(cls, actions: dict[str, EntityAction]) -> dict[str, EntityAction]:
        _check_entity_names(list(actions))
        return actions

    @model_validator(mode="after")
    def _coherent(self) -> RuleSpec:
        errors: list[tuple[tuple[str | int, ...], str]] = []
        if self.action != "forward" and self.route is not Route.CLOUD:
            errors.append((("action",), f"action '{self.action}' only applies to route 'cloud'"))
        elif self.action != "forward" and not self.when.entities:
            errors.append((("action",), f"action '{self.action}' needs when.entities: the types"
                                        f" to {self.action}"))
        for name, action in self.entity_actions.items():
            problem = _idle_entity_action(self.route, action)
            if problem:
                errors.append((("entity_actions", name), problem))
        if errors:
            raise field_errors("RuleSpec", errors)
        return self


def _idle_entity_action(route: Route, action: EntityAction) -> str | None:
    """Why ``action`` would do nothing on a rule routing to ``route`` (None: it does something).

    On a block rule every entity action is moot (and 'local' would even soften the block); on a
    local rule nothing is sent to the cloud to redact, and 'local' is the rule's own route. Only
    'block' escalates a local rule.
    """
    if route is Route.BLOCK:
        return ("entity_actions do nothing on a rule with route 'block': the request is blocked"
                " whatever is found")
    if route is Route.LOCAL and action is not EntityAction.BLOCK:
        return (f"'{action.value}' does nothing on a rule with route 'local' (only 'block' does):"
                " the request already stays on-prem")
    return None


class AllowSpec(BaseModel):
    """Values that are not personal data even though they look like it."""

    model_config = _Strict
    values: list[str] = Field(default_factory=list)
    """Exact values (compared NFKC-normalised and case-folded), e.g. a public support address."""
    patterns: list[str] = Field(default_factory=list)
    """Regular expressions a whole value must match (same folding), e.g. RFC 2606 domains."""
    entities: list[str] | None = None
    """The entity types the allow-list applies to (names or globs); unset: all."""
    fictional_phone_numbers: bool = False
    """North American 555-0100..555-0199 numbers, reserved for fiction, are not contacts."""

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        return _check_patterns(patterns)

    @field_validator("entities")
    @classmethod
    def _known(cls, names: list[str] | None) -> list[str] | None:
        return _check_entity_names(names) if names is not None else None


class DefaultSpec(BaseModel):
    model_config = _Strict
    route: Route
    message: str | None = None


class TestExpect(BaseModel):
    model_config = _Strict
    route: Route
    rule: str | None = None


class PolicyTestSpec(BaseModel):
    """An example request and the route (and rule) the policy must give it."""

    model_config = _Strict
    name: str
    request: dict[str, Any]
    endpoint: EndpointName = "chat"
    tenant: str = "default"
    headers: dict[str, str] = Field(default_factory=dict)
    expect: TestExpect


class PolicySpec(BaseModel):
    model_config = _Strict
    version: Literal[1] = 1
    description: str | None = None
    default: DefaultSpec
    allow: list[AllowSpec] = Field(default_factory=list)
    """Allow-lists, each for its own entity types."""
    thresholds: dict[str, float] = Field(default_factory=dict)
    """Per entity type (or glob): findings scoring below this do not count for any rule."""
    rules: list[RuleSpec] = Field(default_factory=list)
    tests: list[PolicyTestSpec] = Field(default_factory=list)

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, thresholds: dict[str, float]) -> dict[str, float]:
        _check_entity_names(list(thresholds))
        for name, value in thresholds.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"threshold for {name} must be between 0 and 1")
        return thresholds

    @field_validator("rules")
    @classmethod
    def _unique_names(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        first: dict[str, int] = {}
        errors: list[tuple[tuple[str | int, ...], str]] = []
        for i, rule in enumerate(rules):
            if rule.name in first:
                errors.append(((i, "name"), f"duplicate rule name {rule.name!r} (rules"
                                            f"[{first[rule.name]}] has it too)"))
            first.setdefault(rule.name, i)
        if errors:
            raise field_errors("PolicySpec.rules", errors)
        return rules


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    route: Route
    entity_types: frozenset[str] = frozenset()
    min_score: float = 0.5
    min_count: int = 1
    tenants: frozenset[str] | None = None
    headers: tuple[tuple[str, frozenset[str]], ...] | None = None
    models: tuple[str, ...] | None = None
    endpoints: frozenset[Endpoint] | None = None
    non_text: bool | None = None
    keywords: tuple[str, ...] | None = None
    regex: tuple[re.Pattern[str], ...] | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    redact: bool = False
    pseudonymize: bool = False
    entity_actions: tuple[tuple[frozenset[str], EntityAction], ...] = ()
    message: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyTest:
    name: str
    request: dict[str, Any]
    endpoint: Endpoint
    tenant: str
    headers: dict[str, str]
    route: Route
    rule: str | None


@dataclass(frozen=True, slots=True)
class Allow:
    values: frozenset[str] = frozenset()
    patterns: tuple[re.Pattern[str], ...] = ()
    entity_types: frozenset[str] | None = None
    fictional_phone_numbers: bool = False


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy: immutable, so a reload swaps one reference and nothing else."""

    path: str
    version: str
    rules: tuple[Rule, ...]
    default_route: Route
    default_message: str | None = None
    tests: tuple[PolicyTest, ...] = field(default=())
    allow: tuple[Allow, ...] = ()
    thresholds: tuple[tuple[frozenset[str], float], ...] = ()
