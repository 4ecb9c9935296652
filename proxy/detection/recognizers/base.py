"""The Sekisho recognizer protocol and the small base its recognizers share.

A recognizer has a ``name``, the ``entities`` it reports, the ``context`` words that support
its findings, a cheap ``gate`` (lower-case substrings one of which every finding contains or has
next to it, tested with ``in`` before any regex runs: most texts hold no API key and no 免許
label, and a substring test is a hundred times cheaper than a scan) and ``find``, which yields
``Hit``s with their final scores. Recognizers are plain objects, registered by name
(``proxy.detection.registry``) and run by the engine (``proxy.detection.engine``); Presidio's
own recognizers (e-mail, cards, phones, NER, …) keep running inside Presidio beside them.

Recognizers see the canonical text (see ``proxy.detection.normalize``) and report spans in it;
mapping back to the original is the engine's job. They check their context themselves: Presidio's
lemma enhancer works poorly for Japanese compounds (``運転免許証番号`` is one token or three
depending on the model), and identifiers that mean nothing without a label (a 7-digit bank
account, a 12-digit licence) would otherwise be either missed or reported everywhere. A hit whose
score already accounts for a context word says so (``context_checked``), and the engine's context
step leaves it alone; other hits gain ``CONTEXT_BOOST``-like support from the lemma enhancer when
one of the recognizer's ``context`` words stands next to them, as before.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol

__all__ = [
    "CONTEXT_BOOST",
    "Hit",
    "LabelledNumberRecognizer",
    "PatternRecognizer",
    "Recognizer",
    "context_before",
    "context_near",
    "luhn_valid",
    "scan",
]

# What a supporting context word adds to a self-contained identifier's score. The same size as
# Presidio's default enhancer factor (0.35) would push weak patterns (a bare 10-digit landline)
# too close to certain; 0.2 keeps "pattern + label" clearly below "pattern + checksum + label".
CONTEXT_BOOST = 0.2


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding of a recognizer, in the text it was given.

    ``rule`` names the pattern that fired (for ``explain``), never the matched text, so that
    explanations can be logged without leaking the value. ``context_checked`` says the score
    already accounts for a context word, so the engine's context step must leave it alone.
    """

    entity: str
    start: int
    end: int
    score: float
    rule: str
    context_checked: bool = False


class Recognizer(Protocol):
    """What the engine runs: a name, the entities reported, context words, a gate, ``find``.

    ``find`` runs in a detection worker on one canonical text at a time; it may raise (the
    request then fails closed) but must never log or keep the text.
    """

    name: str
    id: str
    entities: tuple[str, ...]
    context: tuple[str, ...]

    def gate(self, lowered: str) -> bool: ...

    def find(self, text: str) -> Iterable[Hit]: ...


class PatternRecognizer(ABC):
    """Base of Sekisho's recognizers: subclasses give ``ENTITIES``, ``CONTEXT``, ``GATE`` and
    implement :meth:`find` (regexes, a validator where the identifier has one, a context
    window). Language-independent: the same instance reads English and Japanese text."""

    ENTITIES: ClassVar[tuple[str, ...]]
    CONTEXT: ClassVar[tuple[str, ...]]
    GATE: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.name: str = type(self).__name__
        self.id: str = self.name
        self.entities: tuple[str, ...] = tuple(self.ENTITIES)
        self.context: tuple[str, ...] = tuple(self.CONTEXT)

    def gate(self, lowered: str) -> bool:
        """Whether ``lowered`` (the text, lower-cased) could hold a finding at all."""
        return not self.GATE or any(word in lowered for word in self.GATE)

    @abstractmethod
    def find(self, text: str) -> Iterable[Hit]:
        """Yield every finding in ``text`` (canonical), scores already final."""


def scan(recognizer: Recognizer, text: str, entities: Iterable[str] | None = None) -> list[Hit]:
    """One recognizer on one text, as the engine runs it: gate, find, then one hit per span —
    none inside an at least as sure hit of its own type (Presidio's rule for duplicates)."""
    wanted = set(entities) if entities is not None else set(recognizer.entities)
    if wanted.isdisjoint(recognizer.entities) or not recognizer.gate(text.lower()):
        return []
    hits = [h for h in recognizer.find(text) if h.entity in wanted and h.score > 0]
    return dedupe(hits)


def dedupe(hits: list[Hit]) -> list[Hit]:
    best: dict[tuple[str, int, int], Hit] = {}
    for h in hits:
        key = (h.entity, h.start, h.end)
        if key not in best or h.score > best[key].score:
            best[key] = h
    kept = [h for h in best.values()
            if not any(o is not h and o.entity == h.entity and o.start <= h.start
                       and h.end <= o.end and o.score >= h.score for o in best.values())]
    return sorted(kept, key=lambda h: (-h.score, h.start, -(h.end - h.start)))


def context_before(
    text: str, start: int, words: re.Pattern[str], window: int
) -> re.Match[str] | None:
    """The last context word ending at most ``window`` characters before ``start``, if any."""
    last: re.Match[str] | None = None
    for match in words.finditer(text, max(0, start - window), start):
        last = match
    return last


def context_near(
    text: str, start: int, end: int, words: re.Pattern[str], before: int, after: int = 0
) -> bool:
    """Whether a context word ends within ``before`` chars before, or starts within ``after``
    chars after, the span ``[start, end)``."""
    if context_before(text, start, words, before) is not None:
        return True
    return after > 0 and words.search(text, end, min(len(text), end + after)) is not None


class LabelledNumberRecognizer(PatternRecognizer):
    """A pattern that means nothing alone, reported only with a label within the window."""

    PATTERN: ClassVar[re.Pattern[str]]
    LABELS: ClassVar[re.Pattern[str]]
    SCORE: ClassVar[float] = 0.85
    BEFORE: ClassVar[int] = 30
    AFTER: ClassVar[int] = 15

    def accept(self, text: str, match: re.Match[str]) -> bool:
        """Extra validation of one match; the default accepts every match."""
        return True

    def find(self, text: str) -> Iterator[Hit]:
        entity = self.ENTITIES[0]
        for m in self.PATTERN.finditer(text):
            if not self.accept(text, m):
                continue
            if context_near(text, m.start(), m.end(), self.LABELS, self.BEFORE, self.AFTER):
                yield Hit(entity, m.start(), m.end(), self.SCORE, entity.lower() + "_context", True)


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a string of digits (payment cards)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
