"""``explain``: how one request would be inspected, decided and forwarded — values masked.

Shared by ``sekisho explain`` and the admin endpoint ``POST /sekisho/explain``. The same
inspection as the proxy (``proxy.inspection``) and the same request transforms for the route it
decides, without forwarding anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from proxy.config import Settings
from proxy.detection.detector import Analyzer
from proxy.extraction import validate
from proxy.inspection import Inspection, context_for, inspect
from proxy.policy.model import Policy
from proxy.transform import body_for
from proxy.values import Endpoint, Route


def mask(text: str) -> str:
    if len(text) <= 2:
        return "*" * len(text)
    return text[0] + "*" * (len(text) - 2) + text[-1]


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
    """The report, inspecting in this thread; raises ``InvalidRequest`` for a body the proxy
    would reject."""
    body = validate(endpoint, raw_body)
    context = context_for(settings, body, tenant=tenant, headers=headers)
    return report(inspect(endpoint, body, detector, policy, context), policy, settings,
                  tenant=tenant)


def report(
    inspection: Inspection, policy: Policy, settings: Settings, *, tenant: str = "default"
) -> dict[str, Any]:
    """What an inspection found and decided, values masked, and the body its route would get
    (the same transform as the proxy's first attempt; the local model named by setting) with
    the number of placeholders per kind it carries (``pseudonyms``; never the values)."""
    decision, facts, segments = inspection.decision, inspection.facts, inspection.segments
    forwarded: dict[str, Any] | None = None
    pseudonyms: dict[str, int] = {}
    if decision.route is not Route.BLOCK:
        local_model = settings.local_model or "<local model>"
        if inspection.prepared.endpoint is Endpoint.EMBEDDINGS:
            local_model = settings.local_embedding_model or "<no local embedding model>"
        rewrite = body_for(decision.route, inspection, settings, local_model)
        forwarded = rewrite.body
        if rewrite.pseudonyms is not None:
            pseudonyms = dict(sorted(rewrite.pseudonyms.issued.items()))
    return {
        "route": decision.route.value,
        "rule": decision.rule,
        "action": decision.action.value,
        "tenant": tenant,
        "policy": policy.path,
        "policy_version": policy.version,
        "inspected": [{"path": s.path, "chars": len(s.text)} for s in segments],
        "content_flags": sorted(inspection.prepared.flags),
        "entities": [
            {
                "type": f.entity_type, "score": f.score, "recognizer": f.recognizer,
                "path": f.path, "start": f.start, "end": f.end, "masked": mask(value),
            }
            for f, value in zip(inspection.findings, facts.values, strict=True)
        ],
        "estimated_tokens": facts.tokens,
        "rules": [{"rule": t.rule, "matched": t.matched, "reason": t.reason}
                  for t in inspection.trace],
        "redacted_types": sorted(decision.redact_types),
        "pseudonymized_types": sorted(decision.pseudonymize_types),
        "pseudonyms": pseudonyms,
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
    if report["pseudonyms"]:
        counts = ", ".join(f"{kind} {n}" for kind, n in report["pseudonyms"].items())
        lines.append(f"placeholders (restored in the answer): {counts}")
    action = f", {report['action']}" if report["action"] != "forward" else ""
    lines.append(f"route    {report['route']}  (rule {report['rule']}{action})")
    return "\n".join(lines)
