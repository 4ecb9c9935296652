"""Presidio's lemma context enhancer without its quadratic cost.

Presidio scans for each result the token list to find the result's token, then tests every
lemma it walks past for membership in a *list* of keywords — O(tokens) per result and
O(tokens x keywords) per word, which made a 10,000-character English text spend 80% of its
detection time here. This subclass keeps the same semantics (the same context words are found,
so scores are unchanged) with a binary search over token ends and a set of keywords, both built
once per text. It also works on the results it is given instead of a deep copy of them (the
analyzer never reads the originals again), which cost as much as the search itself.

Presidio collects the n nearest *keywords* on each side of a result, walking token by token
however far that takes: in a text with few keywords and many results (a 100 KB run of decoded
escapes) each result walked the whole text. The tokens that are keywords are listed once per
text, so the n nearest are found by bisection.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import Protocol

from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import (
    ContextAwareEnhancer,
    LemmaContextAwareEnhancer,
)
from presidio_analyzer.nlp_engine import NlpArtifacts

_INDEX = "_sekisho_context_index"


class Contextual(Protocol):
    """What the enhancer reads of a recognizer (Presidio's or Sekisho's): its id and words."""

    @property
    def id(self) -> str: ...

    @property
    def context(self) -> Sequence[str]: ...


class FastLemmaContextEnhancer(LemmaContextAwareEnhancer):
    def enhance_using_context(
        self,
        text: str,
        raw_results: list[RecognizerResult],
        nlp_artifacts: NlpArtifacts,
        recognizers: Sequence[Contextual],
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        """Presidio's semantics: a result whose recognizer has context words, and whose score no
        recognizer already raised for context, gains ``context_similarity_factor`` when one of
        those words is among the lemmas around it (or in ``context``)."""
        if nlp_artifacts is None:
            return raw_results
        by_id = {recognizer.id: recognizer for recognizer in recognizers}
        extra = [word.lower() for word in context or ()]
        for result in raw_results:
            meta = result.recognition_metadata or {}
            recognizer = by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, ""))
            if (recognizer is None or not recognizer.context
                    or meta.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY)):
                continue
            words = self._extract_surrounding_words(
                nlp_artifacts, text[result.start:result.end], result.start
            ) + extra
            supporting = self._find_supportive_word_in_context(
                words, list(recognizer.context), self.context_matching_mode
            )
            if supporting:
                result.score = min(
                    max(result.score + self.context_similarity_factor,
                        self.min_score_with_context_similarity),
                    ContextAwareEnhancer.MAX_SCORE,
                )
                if result.analysis_explanation is not None:
                    result.analysis_explanation.set_supportive_context_word(supporting)
                    result.analysis_explanation.set_improved_score(result.score)
        return raw_results

    def _extract_surrounding_words(
        self, nlp_artifacts: NlpArtifacts, word: str, start: int
    ) -> list[str]:
        if not nlp_artifacts.tokens:
            return [""]
        index = getattr(nlp_artifacts, _INDEX, None)
        if index is None:
            ends = getattr(nlp_artifacts, "token_ends", None) or [
                idx + len(token)
                for idx, token in zip(nlp_artifacts.tokens_indices, nlp_artifacts.tokens,
                                      strict=True)
            ]
            keywords = frozenset(nlp_artifacts.keywords)
            lemmas = [lemma.lower() for lemma in nlp_artifacts.lemmas]
            positions = [i for i, lemma in enumerate(lemmas) if lemma in keywords]
            index = (ends, lemmas, positions)
            setattr(nlp_artifacts, _INDEX, index)
        ends, lemmas, positions = index
        # The first token that ends after ``start``: the token the match begins in (Presidio's
        # _find_index_of_match_token, in O(log n)).
        token_index = bisect_right(ends, start)
        if token_index >= len(ends):
            raise ValueError("match start lies beyond the last token")
        # As Presidio: the n nearest keyword lemmas on each side, the entity's own token
        # counting too (a context word glued to it), hence n + 1.
        before = bisect_right(positions, token_index)
        after = bisect_left(positions, token_index)
        nearest = (positions[max(before - self.context_prefix_count - 1, 0):before]
                   + positions[after:after + self.context_suffix_count + 1])
        return list({lemmas[i] for i in nearest})
