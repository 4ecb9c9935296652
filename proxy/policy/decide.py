"""``decide()``: findings and request facts in, a ``Decision`` out. Pure: no I/O, no globals."""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from proxy.policy.model import EntityAction, Policy, Rule
from proxy.policy.text import fold
from proxy.values import Action, Decision, Endpoint, Route

DETECTION_FAILED = "DETECTION_FAILED"
UNINSPECTABLE = "uninspectable"


@dataclass(frozen=True, slots=True)
class Facts:
    """What a rule can look at.

    ``entities`` pairs each entity type with its score; ``text`` is the request's inspected text,
    folded (NFKC, casefold) for keyword and regex conditions; ``headers`` have lower-case names.
    """

    endpoint: Endpoint
    entities: tuple[tuple[str, float], ...]
    model: str | None = None
    tenant: str = "default"
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""
    tokens: int = 0
    values: tuple[str, ...] = ()
    """The detected value of each entity (same order), for allow-lists; empty when unknown."""
    surroundings: tuple[tuple[str, str], ...] = ()
    """Up to 40 characters of text before and after each value (same order): a finding that
    lies inside an occurrence of an allow-listed phrase ("Holmes" in "Sherlock Holmes") is set
    aside with it."""


@dataclass(frozen=True, slots=True)
class RuleTrace:
    rule: str
    matched: bool
    reason: str


def _entities(rule: Rule, facts: Facts) -> tuple[bool, frozenset[str], str]:
    counts: Counter[str] = Counter(
        name
        for name, score in facts.entities
        if name in rule.entity_types and score >= rule.min_score
    )
    total = sum(counts.values())
    if total >= rule.min_count:
        found = ", ".join(sorted(counts))
        return True, frozenset(counts), f"{total} entit{'y' if total == 1 else 'ies'}: {found}"
    if total:
        return False, frozenset(), f"{total} matching entities, fewer than {rule.min_count}"
    return False, frozenset(), f"no entity of these types with score >= {rule.min_score}"


def _match(rule: Rule, facts: Facts) -> tuple[bool, frozenset[str], str]:
    """Whether every condition of ``rule`` holds, the entity types that matched, and why."""
    reasons: list[str] = []
    if rule.endpoints is not None:
        if facts.endpoint not in rule.endpoints:
            return False, frozenset(), f"endpoint {facts.endpoint.value} not listed"
        reasons.append(f"endpoint {facts.endpoint.value}")
    if rule.tenants is not None:
        if facts.tenant not in rule.tenants:
            return False, frozenset(), f"tenant {facts.tenant} not listed"
        reasons.append(f"tenant {facts.tenant}")
    if rule.models is not None:
        model = facts.model or ""
        if not any(fnmatch.fnmatchcase(model, pattern) for pattern in rule.models):
            return False, frozenset(), "requested model not listed"
        reasons.append("model listed")
    if rule.headers is not None:
        for name, values in rule.headers:
            if facts.headers.get(name) not in values:
                return False, frozenset(), f"header {name} does not match"
        reasons.append("headers match")
    if rule.non_text is not None:
        has = any(name.startswith("CONTENT_") for name, _ in facts.entities)
        if has is not rule.non_text:
            return False, frozenset(), "non-text content " + ("absent" if rule.non_text
                                                             else "present")
        reasons.append("non-text content " + ("present" if has else "absent"))
        # The kinds of content that decided, so a block message can name them.
        content = frozenset(name for name, _ in facts.entities if name.startswith("CONTENT_"))
    else:
        content = frozenset()
    if rule.min_tokens is not None and facts.tokens < rule.min_tokens:
        return False, frozenset(), f"about {facts.tokens} tokens, fewer than {rule.min_tokens}"
    if rule.max_tokens is not None and facts.tokens > rule.max_tokens:
        return False, frozenset(), f"about {facts.tokens} tokens, more than {rule.max_tokens}"
    if rule.min_tokens is not None or rule.max_tokens is not None:
        reasons.append(f"about {facts.tokens} tokens")
    if rule.keywords is not None:
        hits = [k for k in rule.keywords if k in facts.text]
        if not hits:
            return False, frozenset(), "no keyword found"
        reasons.append(f"{len(hits)} keyword(s) found")
    if rule.regex is not None:
        hits_re = [p for p in rule.regex if p.search(facts.text)]
        if not hits_re:
            return False, frozenset(), "no pattern matched"
        reasons.append(f"{len(hits_re)} pattern(s) matched")
    types: frozenset[str] = frozenset()
    if rule.entity_types:
        matched, types, reason = _entities(rule, facts)
        if not matched:
            return False, frozenset(), reason
        reasons.append(reason)
    return True, types | content, "; ".join(reasons) or "no condition"


def _apply_entity_actions(
    rule: Rule, facts: Facts, types: frozenset[str], policy: Policy
) -> Decision:
    """The rule's decision with its entity actions applied: block > local > pseudonymize >
    redact, whatever order they are written in."""
    present = {name for name, _ in facts.entities}
    forced: EntityAction | None = None
    forced_types: set[str] = set()
    redact: set[str] = set(rule.entity_types) if rule.redact else set()
    pseudonymize: set[str] = set(rule.entity_types) if rule.pseudonymize else set()
    for names, action in rule.entity_actions:
        hit = names & present
        if action is EntityAction.REDACT:
            redact |= names
        elif action is EntityAction.PSEUDONYMIZE:
            pseudonymize |= names
        elif hit:
            # block outranks local, whatever order the entity actions are written in.
            if action is EntityAction.BLOCK or forced is None:
                forced = action
            forced_types |= hit
    if forced is EntityAction.BLOCK:
        return Decision(Route.BLOCK, rule.name, Action.FORWARD, policy.version,
                        frozenset(forced_types), rule.message)
    if forced is EntityAction.LOCAL or rule.route is Route.LOCAL:
        return Decision(Route.LOCAL, rule.name, Action.FORWARD, policy.version,
                        types | frozenset(forced_types))
    if rule.route is Route.BLOCK:
        return Decision(Route.BLOCK, rule.name, Action.FORWARD, policy.version, types,
                        rule.message)
    redact -= pseudonymize
    to_pseudonymize = frozenset(pseudonymize & present)
    if to_pseudonymize and facts.endpoint is Endpoint.EMBEDDINGS:
        # A vector of placeholders means nothing and nothing comes back to restore: what a
        # rule would pseudonymize in an embeddings input stays on-prem instead.
        return Decision(Route.LOCAL, rule.name, Action.FORWARD, policy.version,
                        types | to_pseudonymize)
    to_redact = frozenset(redact & present)
    done = (Action.PSEUDONYMIZE if to_pseudonymize else
            Action.REDACT if to_redact else Action.FORWARD)
    return Decision(
        Route.CLOUD, rule.name, done, policy.version, types, rule.message,
        redact_types=frozenset(redact), pseudonymize_types=frozenset(pseudonymize),
    )


# 555-0100 through 555-0199: reserved for fictional use in North America.
_FICTIONAL_PHONE = re.compile(r"(?:\+?1[\s.\-]?)?\(?\d{3}\)?[\s.\-]?555[\s.\-]?01\d\d")


def _inside_phrase(bare: str, before: str, after: str, phrases: frozenset[str]) -> bool:
    """Whether the value ``bare`` (folded), written between ``before`` and ``after``, lies
    inside an occurrence of one of ``phrases`` there — not merely next to one elsewhere: in
    "Send Jack the summary of Jack Welch's memoir" the colleague Jack is no public figure."""
    head = fold(before)
    around = head + bare + fold(after)
    start, end = len(head), len(head) + len(bare)
    for phrase in phrases:
        if bare not in phrase or phrase == bare:
            continue
        at = around.find(phrase)
        while at != -1:
            if at <= start and end <= at + len(phrase):
                return True
            at = around.find(phrase, at + 1)
    return False


def _allowed(
    policy: Policy, entity_type: str, value: str, context: tuple[str, str] = ("", "")
) -> bool:
    if not value:
        return False
    folded = fold(value).strip()
    # "Warren Buffett's" is the person "Warren Buffett".
    bare = re.sub(r"['’]s$", "", folded)
    for allow in policy.allow:
        if allow.entity_types is not None and entity_type not in allow.entity_types:
            continue
        if {folded, bare} & allow.values or any(
            p.fullmatch(folded) or p.fullmatch(bare) for p in allow.patterns
        ):
            return True
        if bare and any(context) and _inside_phrase(bare, *context, allow.values):
            return True  # "Holmes" where the text says "Sherlock Holmes"
        if (
            allow.fictional_phone_numbers
            and entity_type in ("PHONE_NUMBER", "JP_PHONE_NUMBER")
            and _FICTIONAL_PHONE.fullmatch(folded) is not None
        ):
            return True
    return False


def _threshold(policy: Policy, entity_type: str) -> float:
    for names, value in policy.thresholds:
        if entity_type in names:
            return value
    return 0.0


def screen(policy: Policy, facts: Facts) -> tuple[Facts, tuple[str, ...]]:
    """Facts without the findings the policy sets aside: allow-listed values and scores under
    the per-entity thresholds. Returns them and the allow-listed types (one per finding).

    Sekisho's own signals (DETECTION_FAILED, CONTENT_*) are never set aside.
    """
    kept: list[tuple[str, float]] = []
    allowed: list[str] = []
    for i, (name, score) in enumerate(facts.entities):
        if name == DETECTION_FAILED or name.startswith("CONTENT_"):
            kept.append((name, score))
            continue
        value = facts.values[i] if i < len(facts.values) else ""
        context = facts.surroundings[i] if i < len(facts.surroundings) else ("", "")
        if _allowed(policy, name, value, context):
            allowed.append(name)
        elif score >= _threshold(policy, name):
            kept.append((name, score))
    return (dataclasses.replace(facts, entities=tuple(kept), values=(), surroundings=()),
            tuple(allowed))


def evaluate(policy: Policy, facts: Facts) -> tuple[Decision, list[RuleTrace]]:
    """Decide and say why: every rule in order with whether it matched and what decided it."""
    facts, allowed = screen(policy, facts)
    decision, trace = _evaluate(policy, facts)
    if allowed:
        decision = dataclasses.replace(decision, allowed=allowed)
        trace.insert(0, RuleTrace("allow", True, f"{len(allowed)} allow-listed value(s) set "
                                                 f"aside: {', '.join(sorted(set(allowed)))}"))
    return decision, trace


def _evaluate(policy: Policy, facts: Facts) -> tuple[Decision, list[RuleTrace]]:
    if any(name == DETECTION_FAILED for name, _ in facts.entities):
        # Fail closed before any rule: content the detector could not clear is never sent to
        # the cloud, whatever the policy says.
        decision = Decision(
            Route.LOCAL, "fail_closed", Action.FAIL_CLOSED, policy.version,
            frozenset({DETECTION_FAILED}),
        )
        return decision, [RuleTrace("fail_closed", True, "detection failed or timed out")]
    trace: list[RuleTrace] = []
    decided: Rule | None = None
    for rule in policy.rules:
        matched, types, reason = _match(rule, facts)
        trace.append(RuleTrace(rule.name, matched, reason))
        if matched:
            decided = rule
            decision = _apply_entity_actions(rule, facts, types, policy)
            break
    else:
        trace.append(RuleTrace("default", True, "no rule matched"))
        decision = Decision(policy.default_route, "default", Action.FORWARD, policy.version,
                            frozenset(), policy.default_message)
    if decision.route is Route.BLOCK and not decision.message:
        decision = dataclasses.replace(decision, message=block_message(decision, decided))
    unread = _unnamed_content(decided, facts)
    if decision.route is Route.CLOUD and unread:
        # Content that could not be inspected (images, files, token ids no tokenizer reads,
        # unknown parts) reaches the cloud only where a rule names it; a default (or a rule
        # about other data) that says cloud never sends it.
        trace.append(RuleTrace(UNINSPECTABLE, True, "content that cannot be inspected, named by"
                                                    f" no rule: {', '.join(sorted(unread))}"))
        return (Decision(Route.LOCAL, UNINSPECTABLE, Action.FAIL_CLOSED, policy.version,
                         unread), trace)
    return decision, trace


def block_message(decision: Decision, rule: Rule | None = None) -> str:
    """What a blocked client is told: which kinds of data decided, never the data itself."""
    if decision.message:
        return decision.message
    if rule is None:
        return ("This request was blocked by the policy's default route: no rule of the policy"
                " allows it.")
    kinds = sorted(decision.entity_types)
    if rule.keywords is not None or rule.regex is not None:
        kinds.append("a confidential marking or keyword")
    if not kinds:
        return f"This request was blocked by policy rule '{decision.rule}'."
    return (f"This request was blocked by policy rule '{decision.rule}': it contains"
            f" {', '.join(kinds)}.")


def _unnamed_content(rule: Rule | None, facts: Facts) -> frozenset[str]:
    """The non-text content types present that ``rule`` does not name (by type, by glob, or
    with ``non_text: true``)."""
    present = frozenset(name for name, _ in facts.entities if name.startswith("CONTENT_"))
    if not present or rule is not None and rule.non_text is True:
        return frozenset()
    named = rule.entity_types if rule is not None else frozenset()
    return present - named


def warnings(policy: Policy) -> list[str]:
    """What ``policy check`` points out about a valid policy: behaviour its author may not
    expect."""
    out: list[str] = []
    names_content = any(rule.non_text is not None
                        or any(t.startswith("CONTENT_") for t in rule.entity_types)
                        for rule in policy.rules)
    if policy.default_route is Route.CLOUD and not names_content:
        out.append(
            "no rule names non-text content (CONTENT_*): under 'default: cloud' images, audio,"
            " files, unknown content parts and token ids no tokenizer reads would go to the"
            f" cloud uninspected; Sekisho keeps them local instead (rule '{UNINSPECTABLE}')."
            " Add a rule for CONTENT_* to decide where they go."
        )
    return out


def decide(policy: Policy, facts: Facts) -> Decision:
    return evaluate(policy, facts)[0]
