"""``explain``: how one request would be inspected, decided and forwarded — values masked.

Shared by ``sekisho explain`` and the admin endpoint ``POST /sekisho/explain``. Runs the same
stages as the pipeline (extract, detect, decide, transform) without forwarding anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.config import Settings
from proxy.detection.detector import Analyzer, Finding, contexts_of, values_of
from proxy.exchange import Endpoint, Segment, extract, validate
from proxy.policy.decide import Facts, evaluate
from proxy.policy.model import Policy, Route
from proxy.policy.text import estimate_tokens, fold
from proxy.transform import map_model, redact


def mask(text: str) -> str:
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


def facts_for(
    endpoint: Endpoint,
    body: dict[str, Any],
    segments: list[Segment],
    findings: list[Finding],
    *,
    tenant: str,
    headers: Mapping[str, str],
) -> Facts:
    model = body.get("model")
    return Facts(
        endpoint=endpoint,
        entities=tuple((f.entity_type, f.score) for f in findings),
        model=model if isinstance(model, str) else None,
        tenant=tenant,
        headers={k.lower(): v for k, v in headers.items()},
        text=fold("\n".join(s.text for s in segments)),
        tokens=estimate_tokens([s.text for s in segments]),
        values=tuple(values_of(segments, findings)),
        surroundings=tuple(contexts_of(segments, findings, SURROUNDING_CHARS)),
    )


# How far around a finding an allow-listed phrase that contains it is looked for.
SURROUNDING_CHARS = 40


def explain(
    raw_body: Any,
    endpoint: Endpoint,
    policy: Policy,
    detector: Analyzer,
    settings: Settings,
    *,
    tenant: str = "default",
    headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The report; raises ``InvalidRequest`` for a body the proxy would reject."""
    body = validate(endpoint, raw_body)
    model = body.get("model")
    segments, flags = extract(
        body, known_models=settings.configured_models(),
        token_model=settings.cloud_model(model if isinstance(model, str) else None),
    )
    findings = detector.analyze(segments)
    findings += [Finding(flag, 1.0, "", 0, 0, "extraction", "-") for flag in sorted(flags)]
    facts = facts_for(endpoint, body, segments, findings, tenant=tenant, headers=headers or {})
    decision, trace = evaluate(policy, facts)
    forwarded: dict[str, Any] | None = None
    if decision.route is not Route.BLOCK:
        source = body
        if decision.route is Route.CLOUD and decision.redact_types:
            source, _ = redact(body, segments, findings, decision.redact_types,
                               token_model=settings.cloud_model(
                                   model if isinstance(model, str) else None))
        local_model = settings.local_model or "<local model>"
        if endpoint is Endpoint.EMBEDDINGS:
            local_model = settings.local_embedding_model or "<no local embedding model>"
        forwarded = map_model(source, decision.route, settings, local_model)
    return {
        "route": decision.route.value,
        "rule": decision.rule,
        "action": decision.action.value,
        "tenant": tenant,
        "policy": policy.path,
        "policy_version": policy.version,
        "inspected": [{"path": s.path, "chars": len(s.text)} for s in segments],
        "content_flags": sorted(flags),
        "entities": [
            {
                "type": f.entity_type, "score": f.score, "recognizer": f.recognizer,
                "path": f.path, "start": f.start, "end": f.end, "masked": mask(value),
            }
            for f, value in zip(findings, facts.values, strict=True)
        ],
        "estimated_tokens": facts.tokens,
        "rules": [{"rule": t.rule, "matched": t.matched, "reason": t.reason} for t in trace],
        "redacted_types": sorted(decision.redact_types),
        "forwarded_body": forwarded,
    }


def render_text(report: dict[str, Any]) -> str:
    lines = [f"policy   {report['policy']} (version {report['policy_version']})",
             f"tenant   {report['tenant']}",
             f"inspected {len(report['inspected'])} text(s):"]
    lines += [f"  {i['path']}  ({i['chars']} chars)" for i in report["inspected"]]
    if report["content_flags"]:
        lines.append(f"non-text content: {', '.join(report['content_flags'])}")
    lines.append(f"entities ({len(report['entities'])}):")
    for e in report["entities"]:
        lines.append(
            f"  {e['type']:<20} score {e['score']:.2f}  {e['path']}[{e['start']}:{e['end']}]"
            f"  {e['masked']}  ({e['recognizer']})"
        )
    lines.append("rules:")
    for t in report["rules"]:
        lines.append(f"  {'MATCH' if t['matched'] else '-    '} {t['rule']:<20} {t['reason']}")
    action = f", {report['action']}" if report["action"] != "forward" else ""
    lines.append(f"route    {report['route']}  (rule {report['rule']}{action})")
    return "\n".join(lines)
