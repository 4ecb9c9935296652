"""``sekisho report``: what the audit log says about a period, for compliance reviews.

Answers "did any personal data reach the cloud, and what did we keep on-prem?" from the audit
lines alone (which hold types and counts, never content).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from proxy.vocabulary import ENTITY_TYPES, Category

# Entity categories that are personal or confidential data (the rest — URLs, dates, places — are
# not, on their own).
SENSITIVE = frozenset({
    Category.CONTACT, Category.GOVERNMENT_ID, Category.FINANCIAL, Category.PERSON,
    Category.CREDENTIAL, Category.HEALTH, Category.CONTENT, Category.SIGNAL,
})


def is_sensitive(entity_type: str) -> bool:
    known = ENTITY_TYPES.get(entity_type)
    # An unknown type (from a newer version's log) counts as sensitive: err on the safe side.
    return known is None or known[0] in SENSITIVE


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class Report:
    since: datetime | None
    until: datetime | None
    requests: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    by_action: Counter[str] = field(default_factory=Counter)
    kept_on_prem: Counter[str] = field(default_factory=Counter)
    redacted_to_cloud: Counter[str] = field(default_factory=Counter)
    pseudonymized_to_cloud: Counter[str] = field(default_factory=Counter)
    restored: int = 0
    personal_data_to_cloud: list[dict[str, Any]] = field(default_factory=list)
    fail_closed: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    invalid_lines: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "requests": self.requests,
            "by_route": dict(sorted(self.by_route.items())),
            "by_action": dict(sorted(self.by_action.items())),
            "entities_kept_on_prem": dict(self.kept_on_prem.most_common()),
            "entities_redacted_before_cloud": dict(self.redacted_to_cloud.most_common()),
            "entities_pseudonymized_before_cloud":
                dict(self.pseudonymized_to_cloud.most_common()),
            "placeholders_restored": self.restored,
            "personal_data_to_cloud": self.personal_data_to_cloud,
            "fail_closed": dict(sorted(self.fail_closed.items())),
            "rejected": self.rejected,
            "invalid_lines": self.invalid_lines,
        }


def summarise(lines: Iterable[str], since: datetime | None, until: datetime | None) -> Report:
    report = Report(since, until)
    for line in lines:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            when = parse_time(record["time"])
            entities = _counts(record.get("entities"))
        except (ValueError, KeyError, TypeError, AttributeError):
            report.invalid_lines += 1
            continue
        if (since and when < since) or (until and when >= until):
            continue
        report.requests += 1
        route = str(record.get("route"))
        action = str(record.get("action"))
        report.by_route[route] += 1
        report.by_action[action] += 1
        restored = record.get("restored")
        report.restored += restored if isinstance(restored, int) else 0
        if route == "block" and record.get("rule") == "none":
            report.rejected += 1  # bad JSON, unknown key, oversize: refused before a decision
        sensitive = {t: n for t, n in entities.items() if is_sensitive(t)}
        if action == "fail_closed":
            report.fail_closed[str(record.get("fail_reason") or "detection")] += 1
        if route == "local":
            report.kept_on_prem.update(sensitive)
        elif route == "cloud" and sensitive:
            redacted = set(record.get("redacted_types") or [])
            pseudonymized = set(record.get("pseudonymized_types") or [])
            report.redacted_to_cloud.update({t: n for t, n in sensitive.items() if t in redacted})
            report.pseudonymized_to_cloud.update(
                {t: n for t, n in sensitive.items() if t in pseudonymized and t not in redacted})
            leaked = {t: n for t, n in sensitive.items()
                      if t not in redacted and t not in pseudonymized}
            if leaked:
                report.personal_data_to_cloud.append({
                    "time": record["time"], "request_id": record.get("request_id"),
                    "tenant": record.get("tenant"), "rule": record.get("rule"),
                    "entities": leaked,
                })
    return report


def _counts(value: Any) -> dict[str, int]:
    """An ``entities`` object of an audit line; anything else makes the line unreadable."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(n, int) for k, n in value.items()
    ):
        raise TypeError("entities must map types to counts")
    return value


def render(report: Report) -> str:
    d = report.as_dict()
    span = f"{d['since'] or 'beginning'} .. {d['until'] or 'now'}"
    lines = [f"Sekisho audit report ({span})", f"requests: {report.requests}"]
    lines.append("by route:  " + ", ".join(f"{k} {v}" for k, v in d["by_route"].items()))
    if report.rejected:
        lines.append(f"  (of the blocked, {report.rejected} were rejected before a policy decision:"
                     " malformed, oversized or unauthenticated)")
    lines.append("by action: " + ", ".join(f"{k} {v}" for k, v in d["by_action"].items()))
    lines.append("entity types kept on-prem:")
    lines += [f"  {k:<22} {v}" for k, v in d["entities_kept_on_prem"].items()] or ["  none"]
    if d["entities_redacted_before_cloud"]:
        lines.append("entity types redacted before going to the cloud:")
        lines += [f"  {k:<22} {v}" for k, v in d["entities_redacted_before_cloud"].items()]
    if d["entities_pseudonymized_before_cloud"]:
        lines.append("entity types pseudonymized before going to the cloud (placeholders"
                     f" restored in answers: {report.restored}):")
        lines += [f"  {k:<22} {v}" for k, v in d["entities_pseudonymized_before_cloud"].items()]
    lines.append(f"personal data sent to the cloud unredacted: "
                 f"{len(report.personal_data_to_cloud)}")
    for item in report.personal_data_to_cloud:
        lines.append(f"  {item['time']} {item['request_id']} tenant {item['tenant']} rule "
                     f"{item['rule']}: {', '.join(sorted(item['entities']))}")
    lines.append("fail-closed events: " + (", ".join(
        f"{k} {v}" for k, v in d["fail_closed"].items()) or "none"))
    if report.invalid_lines:
        lines.append(f"unreadable lines skipped: {report.invalid_lines}")
    return "\n".join(lines)


def report_file(path: Path, since: datetime | None, until: datetime | None) -> Report:
    with path.open(encoding="utf-8") as handle:
        return summarise(handle, since, until)
