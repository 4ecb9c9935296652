"""``sekisho eval``: detection quality on the labelled corpus, per entity and per request.

The corpus (``tests/detection/corpus/*.jsonl``, one language per file, named by its code) holds
business prompts as full OpenAI request bodies, each with the gold list of the personal data and
credentials in it: ``{"type", "path", "text"}``, where ``path`` is the segment path extraction
reports and ``text`` a substring of that segment (every occurrence of it counts, at word
boundaries for Latin letters and digits). ``sensitive`` says whether the request must stay off
the cloud under the default policy; an item is sensitive exactly when it has gold entities.

Two levels are measured:

* **Entities** — a gold entity is *found* when a counted finding of the same type (or a declared
  equivalent, see ``EQUIVALENT_TYPES``) overlaps it in the same segment. A finding *counts* when
  the policy would act on it: its type is named by one of the policy's rules, the policy's
  allow-list and thresholds do not set it aside, and its score reaches that rule's
  ``min_score``. Findings of other types (``LOCATION``, ``DATE_TIME``, ``URL``, ``NRP``,
  ``JP_TOLL_FREE_NUMBER`` under the default policy) are ignored. A counted finding overlapping
  no compatible gold entity is a false positive.
* **Requests** — the policy decides every request from the detector's findings, as the proxy
  would. A sensitive request *leaks* when it would go to the cloud with a gold entity not
  redacted; a clean request is *over-routed* when it would go anywhere else.

Targets (``TARGETS``): no leak, recall ≥ 0.95 for every structured identifier type (everything
but ``PERSON``), ≥ 0.90 for ``PERSON``, over-routing ≤ 5 %. ``run`` exits 0 only when all hold.
Reports never print a detected or gold value unmasked.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxy.config import DEFAULT_PRICES
from proxy.detection.detector import Analyzer
from proxy.detection.subjects import contexts_of, values_of
from proxy.errors import InvalidRequest
from proxy.extraction import extract, validate
from proxy.inspection import SURROUNDING_CHARS, Context, inspect
from proxy.policy.decide import Facts, screen
from proxy.policy.model import Policy
from proxy.tools.explain import mask
from proxy.values import Endpoint, Finding, Route
from proxy.vocabulary import ENTITY_TYPES

# The models a default configuration knows (its price table): a corpus request naming one is
# not inspected for its model name, as with ``sekisho serve``.
KNOWN_MODELS = frozenset(DEFAULT_PRICES)

DOMAINS = ("customer_support", "hr", "healthcare", "finance", "manufacturing", "software")

# Types that name the same kind of data; a finding of one finds a gold entity of another.
EQUIVALENT_TYPES: tuple[frozenset[str], ...] = (
    frozenset({"PHONE_NUMBER", "JP_PHONE_NUMBER"}),
    frozenset({"US_PASSPORT", "JP_PASSPORT"}),
    frozenset({"US_DRIVER_LICENSE", "JP_DRIVER_LICENSE"}),
    frozenset({"US_BANK_NUMBER", "JP_BANK_ACCOUNT"}),
)
# The generic credential type stands in for any specific one (a Stripe key is a SECRET_TOKEN).
GENERIC_SECRET = "SECRET_TOKEN"
# Never personal data on their own: predictions of these are not scored even if a policy names
# them.
NOT_PERSONAL = frozenset({"LOCATION", "DATE_TIME", "URL", "NRP"})

# Target figures; PERSON comes from NER, every other gold type is a structured identifier.
TARGET_LEAK_RATE = 0.0
TARGET_STRUCTURED_RECALL = 0.95
TARGET_PERSON_RECALL = 0.90
TARGET_OVER_ROUTING = 0.05


class CorpusError(Exception):
    """The corpus cannot be evaluated; ``problems`` lists every problem found (file:line: …)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """One occurrence of a gold entity in its segment."""

    entity_type: str
    path: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class GoldEntity:
    entity_type: str
    path: str
    text: str
    spans: tuple[GoldSpan, ...]


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    language: str
    domain: str
    endpoint: Endpoint
    body: dict[str, Any]
    entities: tuple[GoldEntity, ...]
    sensitive: bool
    source: str


def compatible(gold_type: str, predicted_type: str) -> bool:
    """Whether a finding of ``predicted_type`` finds a gold entity of ``gold_type``."""
    if gold_type == predicted_type:
        return True
    if GENERIC_SECRET in (gold_type, predicted_type) and (
        gold_type.startswith("SECRET_") and predicted_type.startswith("SECRET_")
    ):
        return True
    return any(gold_type in group and predicted_type in group for group in EQUIVALENT_TYPES)


def occurrences(text: str, value: str) -> list[tuple[int, int]]:
    """Spans of ``value`` in ``text``, skipping hits inside a longer run of ASCII letters/digits
    (so a gold ``Li`` is not found inside ``Lima``)."""

    def ascii_alnum(ch: str) -> bool:
        return ch.isascii() and ch.isalnum()

    spans: list[tuple[int, int]] = []
    for m in re.finditer(re.escape(value), text):
        start, end = m.span()
        if ascii_alnum(value[0]) and start > 0 and ascii_alnum(text[start - 1]):
            continue
        if ascii_alnum(value[-1]) and end < len(text) and ascii_alnum(text[end]):
            continue
        spans.append((start, end))
    return spans


# ---------------------------------------------------------------------------------------------
# Loading


def _item(raw: Any, language: str, where: str, problems: list[str]) -> Item | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: an item must be a JSON object")
        return None
    item_id = raw.get("id")
    where = f"{where} ({item_id})"
    if not isinstance(item_id, str) or not item_id:
        problems.append(f"{where}: 'id' must be a non-empty string")
        return None
    domain = raw.get("domain")
    if domain not in DOMAINS:
        problems.append(f"{where}: 'domain' must be one of {', '.join(DOMAINS)}")
    try:
        endpoint = Endpoint(raw.get("endpoint", "chat"))
    except ValueError:
        problems.append(f"{where}: unknown endpoint {raw.get('endpoint')!r}")
        return None
    try:
        body = validate(endpoint, raw.get("request"))
    except InvalidRequest as exc:
        problems.append(f"{where}: the request would be rejected: {exc}")
        return None
    segments, _ = extract(body, known_models=KNOWN_MODELS)
    texts: dict[str, str] = {s.path: s.text for s in segments}
    gold: list[GoldEntity] = []
    raw_entities = raw.get("entities")
    if not isinstance(raw_entities, list):
        problems.append(f"{where}: 'entities' must be a list")
        return None
    for n, ent in enumerate(raw_entities):
        if not (
            isinstance(ent, dict)
            and isinstance(ent.get("type"), str)
            and isinstance(ent.get("path"), str)
            and isinstance(ent.get("text"), str)
            and ent["text"]
        ):
            problems.append(f"{where}: entities[{n}] needs string type, path and text")
            continue
        etype, path, value = ent["type"], ent["path"], ent["text"]
        if etype not in ENTITY_TYPES:
            problems.append(f"{where}: entities[{n}]: unknown entity type {etype!r}")
            continue
        if path not in texts:
            problems.append(f"{where}: entities[{n}]: no inspected text at path {path!r}")
            continue
        found = occurrences(texts[path], value)
        if not found:
            problems.append(
                f"{where}: entities[{n}]: {mask(value)!r} does not occur in {path}"
            )
            continue
        spans = tuple(GoldSpan(etype, path, s, e, value) for s, e in found)
        gold.append(GoldEntity(etype, path, value, spans))
    sensitive = raw.get("sensitive")
    if not isinstance(sensitive, bool):
        problems.append(f"{where}: 'sensitive' must be true or false")
        return None
    if sensitive != bool(raw_entities):
        problems.append(
            f"{where}: 'sensitive' is {str(sensitive).lower()} but the item has "
            f"{len(raw_entities)} gold entities"
        )
    return Item(item_id, language, str(domain), endpoint, body, tuple(gold), sensitive, where)


def load_corpus(directory: Path) -> list[Item]:
    """Every item of every ``*.jsonl`` file in ``directory``; raises ``CorpusError``."""
    files = sorted(directory.glob("*.jsonl"))
    if not files:
        raise CorpusError([f"{directory}: no *.jsonl corpus files"])
    problems: list[str] = []
    items: list[Item] = []
    seen: dict[str, str] = {}
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{where}: invalid JSON: {exc.msg}")
                continue
            item = _item(raw, path.stem, where, problems)
            if item is None:
                continue
            if item.id in seen:
                problems.append(f"{where}: duplicate id {item.id!r} (first at {seen[item.id]})")
            seen[item.id] = where
            items.append(item)
    if problems:
        raise CorpusError(problems)
    return items


# ---------------------------------------------------------------------------------------------
# Scoring


@dataclass
class TypeScore:
    """Counts for one entity type: gold entities (recall) and counted findings (precision)."""

    gold: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    @property
    def recall(self) -> float | None:
        return self.found / self.gold if self.gold else None

    @property
    def precision(self) -> float | None:
        return self.correct / self.predicted if self.predicted else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        return 2 * p * r / (p + r)


@dataclass(frozen=True, slots=True)
class Miss:
    """A gold entity not found, a false positive, a leaked or an over-routed request."""

    kind: str  # missed | false_positive | leaked | over_routed
    item: str
    entity_type: str = ""
    path: str = ""
    masked: str = ""
    detail: str = ""

    def line(self) -> str:
        where = f" {self.path}" if self.path else ""
        value = f" {self.masked!r}" if self.masked else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"{self.kind:<14} {self.item:<10} {self.entity_type:<20}{where}{value}{detail}"


@dataclass
class RouteCounts:
    sensitive: int = 0
    leaked: int = 0
    clean: int = 0
    over_routed: int = 0

    @property
    def leak_rate(self) -> float:
        return self.leaked / self.sensitive if self.sensitive else 0.0

    @property
    def over_routing_rate(self) -> float:
        return self.over_routed / self.clean if self.clean else 0.0


@dataclass
class Report:
    """Every figure of one evaluation run."""

    items: int = 0
    per_type: dict[str, TypeScore] = field(default_factory=dict)
    routes: RouteCounts = field(default_factory=RouteCounts)
    per_language: dict[str, RouteCounts] = field(default_factory=dict)
    per_language_types: dict[str, dict[str, TypeScore]] = field(default_factory=dict)
    misses: list[Miss] = field(default_factory=list)

    @property
    def structured(self) -> TypeScore:
        """All structured identifiers (every type but PERSON) taken together."""
        total = TypeScore()
        for name, score in self.per_type.items():
            if name != "PERSON":
                total.gold += score.gold
                total.found += score.found
                total.predicted += score.predicted
                total.correct += score.correct
        return total

    def failures(self) -> list[str]:
        """The targets not met, one line each; empty when every target holds."""
        out: list[str] = []
        if self.routes.leak_rate > TARGET_LEAK_RATE:
            out.append(f"leak rate {self.routes.leak_rate:.1%} ({self.routes.leaked} of "
                       f"{self.routes.sensitive} sensitive requests), target 0")
        for name, score in sorted(self.per_type.items()):
            recall = score.recall
            if recall is None:
                continue
            target = TARGET_PERSON_RECALL if name == "PERSON" else TARGET_STRUCTURED_RECALL
            if recall < target:
                out.append(f"{name} recall {recall:.3f} ({score.found}/{score.gold}), "
                           f"target {target:.2f}")
        if self.routes.over_routing_rate > TARGET_OVER_ROUTING:
            out.append(f"over-routing {self.routes.over_routing_rate:.1%} "
                       f"({self.routes.over_routed} of {self.routes.clean} clean requests), "
                       f"target {TARGET_OVER_ROUTING:.0%}")
        return out

    def misses_of(self, *kinds: str) -> list[Miss]:
        return [m for m in self.misses if m.kind in kinds]

    def to_json(self) -> dict[str, Any]:
        def scores(table: dict[str, TypeScore]) -> dict[str, Any]:
            return {
                name: {"gold": s.gold, "found": s.found, "recall": s.recall,
                       "predicted": s.predicted, "correct": s.correct,
                       "precision": s.precision, "f1": s.f1}
                for name, s in sorted(table.items())
            }

        def routes(r: RouteCounts) -> dict[str, Any]:
            return {"sensitive": r.sensitive, "leaked": r.leaked, "leak_rate": r.leak_rate,
                    "clean": r.clean, "over_routed": r.over_routed,
                    "over_routing_rate": r.over_routing_rate}

        structured = self.structured
        return {
            "items": self.items,
            "entities": scores(self.per_type),
            "structured": {"gold": structured.gold, "found": structured.found,
                           "recall": structured.recall, "precision": structured.precision,
                           "f1": structured.f1},
            "requests": routes(self.routes),
            "languages": {
                lang: {"requests": routes(r), "entities": scores(self.per_language_types[lang])}
                for lang, r in sorted(self.per_language.items())
            },
            "targets": {
                "leak_rate": TARGET_LEAK_RATE,
                "structured_recall": TARGET_STRUCTURED_RECALL,
                "person_recall": TARGET_PERSON_RECALL,
                "over_routing": TARGET_OVER_ROUTING,
            },
            "failures": self.failures(),
            "misses": [
                {"kind": m.kind, "item": m.item, "type": m.entity_type, "path": m.path,
                 "masked": m.masked, "detail": m.detail}
                for m in self.misses
            ],
        }


def _scored_types(policy: Policy) -> dict[str, float]:
    """Entity types the policy acts on, each with the lowest ``min_score`` any rule asks."""
    types: dict[str, float] = {}
    for rule in policy.rules:
        for name in rule.entity_types:
            if name in NOT_PERSONAL or name == "DETECTION_FAILED" or name.startswith("CONTENT_"):
                continue
            types[name] = min(types.get(name, rule.min_score), rule.min_score)
    return types


def _counts(policy: Policy, endpoint: Endpoint, finding: Finding, value: str,
            types: dict[str, float], context: tuple[str, str] = ("", "")) -> tuple[bool, str]:
    """Whether the policy would act on one finding, and why not."""
    needed = types.get(finding.entity_type)
    if needed is None:
        return False, "type not in policy"
    facts = Facts(endpoint=endpoint, entities=((finding.entity_type, finding.score),),
                  values=(value,), surroundings=(context,))
    kept, allowed = screen(policy, facts)
    if allowed:
        return False, "allow-listed"
    if not kept.entities:
        return False, f"under threshold (score {finding.score:.2f})"
    if finding.score < needed:
        return False, f"score {finding.score:.2f} < min_score {needed:.2f}"
    return True, ""


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def evaluate_item(
    item: Item, detector: Analyzer, policy: Policy, report: Report,
    types: dict[str, float] | None = None,
) -> None:
    """Detect, score and route one item, adding its counts and misses to ``report``."""
    types = _scored_types(policy) if types is None else types
    lang_types = report.per_language_types.setdefault(item.language, {})
    lang_routes = report.per_language.setdefault(item.language, RouteCounts())
    inspection = inspect(item.endpoint, item.body, detector, policy,
                         Context(known_models=KNOWN_MODELS))
    segments = inspection.segments
    findings = [f for f in inspection.findings if f.path]  # without the content flags
    value = dict(zip(findings, values_of(segments, findings), strict=True))
    around = dict(zip(findings, contexts_of(segments, findings, SURROUNDING_CHARS),
                      strict=True))
    counted: list[Finding] = []
    rejected: list[tuple[Finding, str]] = []
    for f in findings:
        if f.entity_type in NOT_PERSONAL:
            continue
        ok, why = _counts(policy, item.endpoint, f, value[f], types, around[f])
        if ok:
            counted.append(f)
        elif f.entity_type in types:
            rejected.append((f, why))

    spans = [s for ent in item.entities for s in ent.spans]
    # Entities.
    for ent in item.entities:
        for table in (report.per_type, lang_types):
            table.setdefault(ent.entity_type, TypeScore()).gold += 1
        found = all(
            any(
                f.path == s.path and compatible(s.entity_type, f.entity_type)
                and _overlaps(f.start, f.end, s.start, s.end)
                for f in counted
            )
            for s in ent.spans
        )
        if found:
            for table in (report.per_type, lang_types):
                table[ent.entity_type].found += 1
            continue
        near = [
            why for f, why in rejected
            if any(f.path == s.path and compatible(s.entity_type, f.entity_type)
                   and _overlaps(f.start, f.end, s.start, s.end) for s in ent.spans)
        ]
        report.misses.append(Miss("missed", item.id, ent.entity_type, ent.path, mask(ent.text),
                                  near[0] if near else "not detected"))
    for f in counted:
        correct = any(
            f.path == s.path and compatible(s.entity_type, f.entity_type)
            and _overlaps(f.start, f.end, s.start, s.end)
            for s in spans
        )
        for table in (report.per_type, lang_types):
            score = table.setdefault(f.entity_type, TypeScore())
            score.predicted += 1
            score.correct += correct
        if not correct:
            report.misses.append(Miss("false_positive", item.id, f.entity_type, f.path,
                                      mask(value[f]),
                                      f"score {f.score:.2f}, {f.recognizer}"))

    # Request.
    decision = inspection.decision
    for routes in (report.routes, lang_routes):
        if item.sensitive:
            routes.sensitive += 1
        else:
            routes.clean += 1
    if item.sensitive and decision.route is Route.CLOUD:
        redacted = [f for f in findings if f.entity_type in decision.redact_types]
        exposed = [
            s for s in spans
            if not any(f.path == s.path and _overlaps(f.start, f.end, s.start, s.end)
                       for f in redacted)
        ]
        if exposed:
            for routes in (report.routes, lang_routes):
                routes.leaked += 1
            report.misses.append(Miss(
                "leaked", item.id, detail=f"rule {decision.rule}; exposed: "
                + ", ".join(sorted({s.entity_type for s in exposed}))))
    elif not item.sensitive and decision.route is not Route.CLOUD:
        for routes in (report.routes, lang_routes):
            routes.over_routed += 1
        report.misses.append(Miss(
            "over_routed", item.id, detail=f"{decision.route.value} by rule {decision.rule}: "
            + ", ".join(sorted(decision.entity_types))))
    report.items += 1


def evaluate_corpus(items: Iterable[Item], detector: Analyzer, policy: Policy) -> Report:
    """The figures for ``items``: per-entity precision/recall, leak and over-routing rates."""
    report = Report()
    types = _scored_types(policy)
    for item in items:
        evaluate_item(item, detector, policy, report, types)
    return report


# ---------------------------------------------------------------------------------------------
# Output


def _pct(value: float | None) -> str:
    return "    -" if value is None else f"{value:5.3f}"


def _table(rows: dict[str, TypeScore], total: TypeScore | None = None) -> list[str]:
    lines = [f"{'entity':<22} {'gold':>5} {'found':>6} {'recall':>7} "
             f"{'pred':>5} {'right':>6} {'prec':>6} {'F1':>6}"]
    items: list[tuple[str, TypeScore]] = sorted(rows.items())
    if total is not None:
        items.append(("(structured, all)", total))
    for name, s in items:
        lines.append(f"{name:<22} {s.gold:>5} {s.found:>6} {_pct(s.recall):>7} "
                     f"{s.predicted:>5} {s.correct:>6} {_pct(s.precision):>6} {_pct(s.f1):>6}")
    return lines


def render(report: Report, corpus: str, policy: str) -> str:
    lines = [f"detection evaluation: {report.items} requests from {corpus}, policy {policy}", ""]
    lines += _table(report.per_type, report.structured)
    lines.append("")
    lines.append(f"{'requests':<10} {'sensitive':>9} {'leaked':>7} {'leak rate':>10} "
                 f"{'clean':>6} {'over-routed':>12} {'rate':>6}")
    rows = [*sorted(report.per_language.items()), ("all", report.routes)]
    for name, r in rows:
        lines.append(f"{name:<10} {r.sensitive:>9} {r.leaked:>7} {r.leak_rate:>10.1%} "
                     f"{r.clean:>6} {r.over_routed:>12} {r.over_routing_rate:>6.1%}")
    for kind in ("leaked", "over_routed", "missed", "false_positive"):
        found = report.misses_of(kind)
        if found:
            lines.append("")
            lines.append(f"{kind.replace('_', ' ')} ({len(found)}):")
            lines += [f"  {m.line()}" for m in found]
    failures = report.failures()
    lines.append("")
    if failures:
        lines.append("targets NOT met:")
        lines += [f"  - {f}" for f in failures]
    else:
        lines.append("all targets met (leak 0, structured recall >= 0.95, PERSON recall >= 0.90,"
                     " over-routing <= 5%)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """``sekisho eval``: 0 when every target is met, 1 when not, 2 on a bad corpus or policy."""
    from proxy.detection.detector import Detector
    from proxy.policy.loader import PolicyError, load_policy

    try:
        items = load_corpus(Path(args.corpus))
        policy = load_policy(Path(args.policy))
    except CorpusError as exc:
        print("error: invalid corpus:\n" + "\n".join(f"  {p}" for p in exc.problems),
              file=sys.stderr)
        return 2
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    detector = Detector()
    detector.load()
    report = evaluate_corpus(items, detector, policy)
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(render(report, str(args.corpus), str(args.policy)))
    return 0 if not report.failures() else 1


def summary(report: Report, kinds: Sequence[str] = ("leaked", "missed", "over_routed")) -> str:
    """Misses of the given kinds, one per line (for assertion messages)."""
    return "\n".join(m.line() for m in report.misses if m.kind in kinds)
