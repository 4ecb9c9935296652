"""The one inspection: body + endpoint + context → segments, findings, decision.

The proxy, ``sekisho explain``, ``policy test``, ``eval`` and ``bench`` all inspect a request
through this module, so they cannot disagree about what a request contains or where it goes.
Three steps, each pure but the middle one:

1. ``prepare``: extraction (``extraction.extract``) of every value that could reach an upstream,
   and the non-text content flags;
2. detection of the prepared segments — ``inspect`` calls an ``Analyzer`` directly (tools); the
   proxy runs it through the detection runner, under its deadline, off the event loop, and is
   the only caller that adds I/O around this module;
3. ``conclude``: the findings (or the detection failure) and the content flags become the
   policy's facts, the policy decides, a shadow policy is evaluated beside it.

A detection failure is a ``DETECTION_FAILED`` finding, which the policy routes local before any
rule is looked at; ``conclude`` never raises for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from proxy.config import Settings
from proxy.detection.detector import Analyzer
from proxy.detection.subjects import contexts_of, values_of
from proxy.extraction import extract
from proxy.policy.decide import DETECTION_FAILED, Facts, RuleTrace, evaluate
from proxy.policy.model import Policy
from proxy.policy.text import estimate_tokens, fold
from proxy.values import Decision, Endpoint, Finding, Segment

# How far around a finding an allow-listed phrase that contains it is looked for.
SURROUNDING_CHARS = 40


@dataclass(frozen=True, slots=True)
class Context:
    """What inspection needs to know besides the body: who sent it and which models exist."""

    tenant: str = "default"
    headers: Mapping[str, str] = field(default_factory=dict)
    known_models: frozenset[str] = frozenset()
    """Models an upstream lists or the configuration names: a ``model`` naming one is not
    inspected."""
    token_model: str | None = None
    """The model whose tokenizer reads token ids (the cloud model the request maps to)."""


@dataclass(frozen=True, slots=True)
class Prepared:
    endpoint: Endpoint
    body: dict[str, Any]
    segments: list[Segment]
    flags: frozenset[str]


@dataclass(frozen=True, slots=True)
class Inspection:
    """What a request contains and what the policy made of it (values never included)."""

    prepared: Prepared
    findings: list[Finding]
    """Detected entities, then one finding per content flag, or one ``DETECTION_FAILED``."""
    failure: str | None
    """``timeout`` or ``error`` when detection failed, else None."""
    facts: Facts
    decision: Decision
    trace: list[RuleTrace]
    shadow: Decision | None = None

    @property
    def segments(self) -> list[Segment]:
        return self.prepared.segments


def context_for(
    settings: Settings, body: dict[str, Any], *, tenant: str = "default",
    headers: Mapping[str, str] | None = None, listed: frozenset[str] = frozenset(),
) -> Context:
    """The context of a request under ``settings`` (``listed``: models upstreams list)."""
    model = body.get("model")
    return Context(
        tenant=tenant, headers=dict(headers or {}),
        known_models=settings.configured_models() | listed,
        token_model=settings.cloud_model(model if isinstance(model, str) else None),
    )


def prepare(endpoint: Endpoint, body: dict[str, Any], context: Context) -> Prepared:
    """Every inspectable value of a validated body, and its non-text content flags."""
    segments, flags = extract(body, known_models=context.known_models,
                              token_model=context.token_model)
    return Prepared(endpoint, body, segments, frozenset(flags))


def facts_for(prepared: Prepared, findings: Sequence[Finding], context: Context) -> Facts:
    model = prepared.body.get("model")
    segments = prepared.segments
    return Facts(
        endpoint=prepared.endpoint,
        entities=tuple((f.entity_type, f.score) for f in findings),
        model=model if isinstance(model, str) else None,
        tenant=context.tenant,
        headers={k.lower(): v for k, v in context.headers.items()},
        text=fold("\n".join(s.text for s in segments)),
        tokens=estimate_tokens([s.text for s in segments]),
        values=tuple(values_of(segments, findings)),
        surroundings=tuple(contexts_of(segments, findings, SURROUNDING_CHARS)),
    )


def conclude(
    prepared: Prepared, detected: Sequence[Finding] | None, failure: str | None,
    policy: Policy, context: Context, *, shadow: Policy | None = None,
) -> Inspection:
    """The decision for what detection found (``detected``), or for its ``failure``."""
    if failure is not None or detected is None:
        findings = [Finding(DETECTION_FAILED, 1.0, "", 0, 0, "sekisho", "-")]
        failure = failure or "error"
    else:
        findings = list(detected)
    findings += [Finding(flag, 1.0, "", 0, 0, "extraction", "-") for flag in sorted(prepared.flags)]
    facts = facts_for(prepared, findings, context)
    decision, trace = evaluate(policy, facts)
    # Evaluated only: a shadow decision never sends anything anywhere.
    shadow_decision = evaluate(shadow, facts)[0] if shadow is not None else None
    return Inspection(prepared, findings, failure, facts, decision, trace, shadow_decision)


def inspect(
    endpoint: Endpoint, body: dict[str, Any], analyzer: Analyzer, policy: Policy,
    context: Context, *, shadow: Policy | None = None,
) -> Inspection:
    """All three steps in this thread (tools and tests: no deadline, detection may raise)."""
    prepared = prepare(endpoint, body, context)
    return conclude(prepared, analyzer.analyze(prepared.segments), None, policy, context,
                    shadow=shadow)
