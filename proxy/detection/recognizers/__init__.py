"""Sekisho's own Presidio recognizers: Japanese identifiers and credentials.

Presidio ships nothing for Japan and nothing for API keys, so these fill the gap. They all share
one small base, :class:`RegexRecognizer`: precompiled regexes, a validator where the identifier
has one (check digits, JWT headers), and a context check done by the recognizer itself. The
self-check matters because Presidio's context enhancer compares spaCy lemmas, which works poorly
for Japanese compounds (``運転免許証番号`` is one token or three depending on the model) and not
at all when a recognizer is called without an NLP engine; identifiers that mean nothing without a
label (a 7-digit bank account, a 12-digit licence) would otherwise be either missed or reported
everywhere. Context words are still passed to Presidio (``context=[...]``) so explanations and
the enhancer see them, but a result whose context was already checked is marked as enhanced so it
is not boosted twice.

Recognizers see the NFKC-normalised text (see ``proxy.detection.normalize``) and report spans in
it; mapping back to the original is the detector's job.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = [
    "CONTEXT_BOOST",
    "Hit",
    "RegexRecognizer",
    "context_before",
    "context_near",
    "sekisho_recognizers",
]

# What a supporting context word adds to a self-contained identifier's score. The same size as
# Presidio's default enhancer factor (0.35) would push weak patterns (a bare 10-digit landline)
# too close to certain; 0.2 keeps "pattern + label" clearly below "pattern + checksum + label".
CONTEXT_BOOST = 0.2


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding of a recognizer, before it becomes a Presidio ``RecognizerResult``.

    ``rule`` names the pattern that fired (for ``explain``), never the matched text, so that
    explanations can be logged without leaking the value. ``context_checked`` says the score
    already accounts for a context word, so Presidio's enhancer must leave it alone.
    """

    entity: str
    start: int
    end: int
    score: float
    rule: str
    context_checked: bool = False


class RegexRecognizer(EntityRecognizer):
    """Base of all Sekisho recognizers: subclasses implement :meth:`find`.

    ``analyze`` is called by Presidio's ``AnalyzerEngine`` (or directly, with
    ``nlp_artifacts=None``, in tests and benchmarks). It never needs the NLP artifacts: everything
    is regex, validator and a context window, so it runs in microseconds per kilobyte and behaves
    the same for every language it is registered for.
    """

    ENTITIES: ClassVar[tuple[str, ...]]
    CONTEXT: ClassVar[tuple[str, ...]]
    # Lower-case substrings of which every finding contains, or has next to it, at least one.
    # Checked with ``in`` before any regex runs: most texts hold no API key and no 免許 label,
    # and a substring test is a hundred times cheaper than scanning with a pattern.
    GATE: ClassVar[tuple[str, ...]] = ()

    def __init__(self, language: str) -> None:
        self.label: str = type(self).__name__
        super().__init__(
            supported_entities=list(self.ENTITIES),
            name=self.label,
            supported_language=language,
            context=list(self.CONTEXT),
        )

    def load(self) -> None:
        """Nothing to load: the patterns are compiled once, at import."""

    @abstractmethod
    def find(self, text: str) -> Iterable[Hit]:
        """Yield every finding in ``text`` (normalised), scores already final."""

    def analyze(
        self,
        text: str,
        entities: list[str] | None,
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """Run :meth:`find` and wrap its hits as Presidio results for the requested entities."""
        wanted = set(entities) if entities else set(self.supported_entities)
        if wanted.isdisjoint(self.supported_entities):
            return []
        if self.GATE:
            lowered = text.lower()
            if not any(word in lowered for word in self.GATE):
                return []
        results: list[RecognizerResult] = []
        for hit in self.find(text):
            if hit.entity not in wanted or hit.score <= 0:
                continue
            explanation = AnalysisExplanation(
                recognizer=self.label,
                original_score=hit.score,
                pattern_name=hit.rule,
                textual_explanation=f"Detected by `{self.label}` using rule `{hit.rule}`",
            )
            results.append(
                RecognizerResult(
                    entity_type=hit.entity,
                    start=hit.start,
                    end=hit.end,
                    score=min(hit.score, 1.0),
                    analysis_explanation=explanation,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: hit.context_checked,
                    },
                )
            )
        return EntityRecognizer.remove_duplicates(results)


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


def sekisho_recognizers(language: str) -> list[EntityRecognizer]:
    """Every Sekisho recognizer for one language (Japanese and credential recognizers)."""
    # Imported here, not at the top: the submodules import the base class from this package.
    from proxy.detection.recognizers.japan import japan_recognizers
    from proxy.detection.recognizers.secrets import secret_recognizers

    return [*japan_recognizers(language), *secret_recognizers(language)]
