"""The detection engine: the views of each subject through the recognizers, spans mapped back.

Per subject it builds the canonical text and its decoded views (``decoding``), decides which
languages to analyse each view in — Japanese when it contains kana or kanji, English when it
contains Latin words or no Japanese at all, both for mixed text — runs spaCy once per language
over every view that needs it (``nlp.pipe``), then two kinds of recognizers on each view:

- **Presidio's** stock recognizers and the NER recognizer, inside Presidio's ``AnalyzerEngine``
  (its context enhancement, duplicate removal and score threshold included);
- **Sekisho's** (``registry``), run here: each recognizer's cheap gate on the lower-cased view,
  then ``find``. Their hits become Presidio results (Presidio's result model stays the
  currency), get the same lemma context enhancement when they did not check their context
  themselves, and are thresholded and de-duplicated together with Presidio's.

All of one view's hits are then read together in the view's text (``arbiter``: placeholders,
numbers labelled as other identifiers, organisations' contact details, public figures), and
every span maps back to the original characters of the subject (``Normalized.to_original``).
Presidio's orchestration is bypassed for Sekisho's recognizers because it buys them nothing:
they need no NLP artifacts but for the context step, and going through ``EntityRecognizer``
subclasses tied them to Presidio's private API.

English NER is the costliest step, and since the name lexicon decides which of its person
guesses count (``stock.confirmed_name``), it is only worth running where a known name could be.
With ``en_ner="cascade"`` (the default) the pattern recognizers read every text with a
tokenizer-only document, and the NER model reads only the sentences that contain a word the name
lexicon or Sudachi's romaji check knows; the other sentences are blanked (offsets unchanged).
Every person guess that the lexicon would confirm is still made; what the cascade skips are the
unconfirmed guesses (0.45, below the shipped thresholds) and place, date and group names in the
other sentences, which no shipped policy routes on. ``en_ner="always"`` runs the model on every
English text, for policies that route on those.

The engine raises on failure, and with ``DeadlinePassed`` once the request's deadline (a
``time.monotonic()`` instant, comparable across processes) has passed between two steps: a
request already failed closed stops using its worker. Each recognizer's CPU time on the request
is charged to the request's ``Budget`` (``budget``), Presidio's through their wrappers and
Sekisho's here; one that spends more than the budget stops the analysis with ``OverBudget``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import replace
from itertools import groupby

from presidio_analyzer import (
    AnalysisExplanation,
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.language import Language
from spacy.tokens import Doc

from proxy.detection import arbiter, quickre, warmup
from proxy.detection.budget import (
    DEFAULT_RECOGNIZER_BUDGET_MS,
    Budget,
    applied,
    charged,
    check_deadline,
)
from proxy.detection.budget import DeadlinePassed as DeadlinePassed
from proxy.detection.context import FastLemmaContextEnhancer
from proxy.detection.decoding import Canonical, canonicalize
from proxy.detection.joins import JOINED_ENTITIES
from proxy.detection.names import LATIN_LOWER, LATIN_UPPER, SENTENCE_END, lexicon
from proxy.detection.nlp import SekishoNlpEngine
from proxy.detection.normalize import Normalized
from proxy.detection.recognizers.base import Recognizer
from proxy.detection.recognizers.romaji_names import name_kind
from proxy.detection.registry import Registry
from proxy.detection.spans import SpanIndex
from proxy.detection.stock import stock_recognizers
from proxy.detection.subjects import Detected, Subject, start_view

LANGUAGES = ("en", "ja")
# How many strings a language's vocabulary may learn from traffic. spaCy keeps every new string
# and lexeme it meets, so fresh traffic (ids, numbers, names) grew a worker by about 10 MB a
# thousand requests without end (measured: 20 new tokens a 1 KB request). Up to this many are
# kept — the traffic's own everyday words, learned first and met again; past it, each call
# runs in a spaCy memory zone that forgets its new words when it ends. Zones for every call
# from the start cost 8-10% of a fresh 1 KB text (`sekisho bench`: every call re-creates the
# lexemes of words the model's vocabulary lacks); about 50 MB a language at the cap.
VOCAB_GROWTH = 50_000
NER_ENTITIES = ("PERSON", "LOCATION", "NRP", "DATE_TIME")
_JAPANESE = quickre.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = quickre.compile(r"[A-Za-z]{2,}")
EN_NER_MODES = ("cascade", "always")
_NOT_BLANK = quickre.compile(r"\S")
_NAME_CANDIDATE = quickre.compile(f"[{LATIN_UPPER}{LATIN_LOWER}'’]{{3,}}")
# Sudachi refuses inputs over ~49 KB; Japanese is 3 bytes a character in UTF-8.
_MAX_NLP_CHARS = 10_000
# spaCy's English tokenizer strips the affixes of a string without blanks one at a time, each
# step reading the rest of the string: a run of punctuation costs the square of its length
# (4,000 "%" took 2.7 s, a 10,000-character run 17 s). Longer runs are cut for it (after a
# punctuation mark where there is one, so words stay whole): no word, and no token of the
# evaluation corpora (the longest: a 169-character JWT), is that long; the recognizers still
# read the text whole. Sudachi's tokenizer is linear, and Japanese has no blanks to cut at.
_MAX_NLP_RUN = 256
_LONG_RUN = quickre.compile(rf"\S{{{_MAX_NLP_RUN + 1},}}")
# The model reads a batch of texts at a time, one call: batches of at most this many characters
# (a second or so of English NER) let the deadline be checked between two.
_NLP_BATCH_CHARS = 20_000


# A generic finding inside a more specific one says nothing new: Presidio's URL recognizer
# reports the domain of every e-mail address, and its phone recognizer re-reports Japanese
# numbers (including public toll-free ones, which must not count as contact details) and reads
# digit groups of cards, IBANs and My Numbers as phone numbers.
_SHADOWED_BY: dict[str, tuple[str, ...]] = {
    "URL": ("EMAIL_ADDRESS",),
    "PHONE_NUMBER": ("JP_PHONE_NUMBER", "JP_TOLL_FREE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
                     "JP_MY_NUMBER"),
    # spaCy's small English model often tags a whole e-mail address as a PERSON.
    "PERSON": ("EMAIL_ADDRESS",),
}


def languages_of(text: str) -> tuple[str, ...]:
    has_ja = _JAPANESE.search(text) is not None
    if not has_ja:
        return ("en",)
    if _LATIN_WORD.search(text):
        return ("ja", "en")
    return ("ja",)


_PLAIN_WORDS = quickre.compile(r"[a-z]{2,}(?:[ \t]+[a-z]{2,})*")


def _plain_words(original: str) -> bool:
    """Whether a span is, as written, nothing but everyday lower-case English words: a "name"
    a derived view (a text read reversed because it says "reverse") found there is noise — a
    reversed name reads as no words at all ("atihsoy ikuzus"), an escaped one as escapes."""
    if _PLAIN_WORDS.fullmatch(original) is None:
        return False
    names = lexicon()
    return all(names.is_common(w) or names.is_english_form(w) for w in original.split())


def _mask_japanese(text: str) -> str:
    """English NER on mixed text sees only the Latin parts; offsets stay the same."""
    return _JAPANESE.sub(" ", text)


def _may_hold_a_name(sentence: str) -> bool:
    """A capitalised word that is a known name (or romaji for one), or two lower-case known
    names in a row ("dwayne kowalski"): a lone lower-case name is usually a word ("post",
    "holder" and "pan" are family names somewhere)."""
    names = lexicon()
    previous_lower_name = False
    for word in _NAME_CANDIDATE.findall(sentence):
        if word.isupper():
            previous_lower_name = False
            continue
        known = names.is_name(word) and not names.is_common(word)
        if word[0].isupper():
            if known or name_kind(word) in ("姓", "名"):
                return True
            previous_lower_name = False
        else:
            if known and previous_lower_name:
                return True
            previous_lower_name = known
    return False


def ner_view(text: str) -> str | None:
    """``text`` with every sentence that holds no known name blanked; None when none does."""
    kept = False
    parts: list[str] = []
    start = 0
    for end in [m.end() for m in SENTENCE_END.finditer(text)] + [len(text)]:
        sentence = text[start:end]
        start = end
        if _may_hold_a_name(sentence):
            kept = True
            parts.append(sentence)
        else:
            parts.append(_NOT_BLANK.sub(" ", sentence))
    return "".join(parts) if kept else None


def _split_for_nlp(text: str, lang: str) -> list[str]:
    """Cut long text into pieces the tokenizers accept, at line, sentence or word ends, and
    for English runs without blanks into pieces of at most ``_MAX_NLP_RUN`` characters."""
    pieces: list[str] = []
    rest = text
    while len(rest) > _MAX_NLP_CHARS:
        window = rest[:_MAX_NLP_CHARS]
        cut = max(window.rfind("\n"), window.rfind("。"), window.rfind(". "), window.rfind(" "))
        cut = cut + 1 if cut > _MAX_NLP_CHARS // 2 else _MAX_NLP_CHARS
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    if lang != "en":
        return pieces
    return [part for piece in pieces for part in _cut_runs(piece)]


def _cut_runs(piece: str) -> list[str]:
    """``piece`` in parts whose runs without blanks hold at most ``_MAX_NLP_RUN`` characters,
    each cut after the run's last punctuation mark in the second half of the limit, if any."""
    parts: list[str] = []
    start = 0
    for run in _LONG_RUN.finditer(piece):
        pos = run.start()
        while run.end() - pos > _MAX_NLP_RUN:
            limit = pos + _MAX_NLP_RUN
            cut = next((i + 1 for i in range(limit - 1, pos + _MAX_NLP_RUN // 2, -1)
                        if not piece[i].isalnum()), limit)
            parts.append(piece[start:cut])
            start = pos = cut
    parts.append(piece[start:])
    return parts


class Engine:
    """Presidio on spaCy for English and Japanese, plus Sekisho's recognizers. Build once."""

    def __init__(self, *, ja_engine: str = "sudachi", en_ner: str = "cascade",
                 min_score: float = 0.3, registry: Registry | None = None) -> None:
        if en_ner not in EN_NER_MODES:
            raise ValueError(f"en_ner must be one of {EN_NER_MODES}, not {en_ner!r}")
        self.ja_engine = ja_engine
        self.en_ner = en_ner
        self.min_score = min_score
        self.registry = registry if registry is not None else Registry()
        self.recognizers: list[Recognizer] = []
        self._nlp: SekishoNlpEngine | None = None
        self._presidio: AnalyzerEngine | None = None
        self._enhancer = FastLemmaContextEnhancer()
        # Per language, the vocabulary's size past which a call's new words are forgotten
        # (``VOCAB_GROWTH``; set by ``load``).
        self.vocab_cap: dict[str, int] = {}

    def load(self) -> None:
        nlp = SekishoNlpEngine(ja_engine=self.ja_engine)
        nlp.load()
        arbiter.load()
        stock = RecognizerRegistry(supported_languages=list(LANGUAGES))
        for language in LANGUAGES:
            for recognizer in stock_recognizers(language):
                stock.add_recognizer(recognizer)
        self.recognizers = self.registry.build()
        self._nlp = nlp
        self._presidio = AnalyzerEngine(
            registry=stock,
            nlp_engine=nlp,
            supported_languages=list(LANGUAGES),
            default_score_threshold=self.min_score,
            context_aware_enhancer=self._enhancer,
        )
        # Warm start: every lazy model, lexicon and table is loaded now, not by the first
        # request (``warmup``); a failure here is a failure to load.
        self.analyze_subjects([Subject(text) for text in warmup.TEXTS])
        self.vocab_cap = {language: len(nlp.get_nlp(language).vocab.strings) + VOCAB_GROWTH
                           for language in LANGUAGES}

    @property
    def loaded(self) -> bool:
        return self._presidio is not None

    def entities(self) -> frozenset[str]:
        """Every entity type a recognizer of this engine can report (Presidio's and ours)."""
        assert self._presidio is not None, "load() first"
        emitted = {e for r in self.recognizers for e in r.entities} | set(arbiter.RETYPED)
        for language in LANGUAGES:
            for recognizer in self._presidio.registry.get_recognizers(language, all_fields=True):
                emitted |= set(recognizer.supported_entities)
        return frozenset(emitted)

    def add(self, name: str, recognizer: Recognizer) -> None:
        """Run one more recognizer (custom deployments, tests)."""
        self.registry.register(name, lambda: recognizer)
        self.recognizers.append(recognizer)

    def vocabulary_sizes(self) -> dict[str, int]:
        """How many strings each language's spaCy vocabulary holds (``VOCAB_GROWTH``)."""
        assert self._nlp is not None, "load() first"
        return {language: len(self._nlp.get_nlp(language).vocab.strings)
                for language in LANGUAGES}

    def analyze_subjects(
        self, subjects: Sequence[Subject], timings: dict[str, float] | None = None,
        deadline: float | None = None, budget_ms: int = DEFAULT_RECOGNIZER_BUDGET_MS,
    ) -> dict[Subject, tuple[Detected, ...]]:
        """Every subject's findings. Raises on any failure, ``DeadlinePassed`` when late,
        ``OverBudget`` once a recognizer has spent more than ``budget_ms`` of CPU time."""
        assert self._nlp is not None, "load() first"
        with applied(Budget(budget_ms / 1000, deadline)), ExitStack() as zones:
            # Once a vocabulary has grown by VOCAB_GROWTH, a call's new words are forgotten
            # after it (``VOCAB_GROWTH``).
            for language in LANGUAGES:
                nlp = self._nlp.get_nlp(language)
                cap = self.vocab_cap.get(language)  # (none while loading)
                if cap is not None and len(nlp.vocab.strings) >= cap:
                    zones.enter_context(nlp.memory_zone())
            return self._analyze_subjects(subjects, timings, deadline)

    def _analyze_subjects(
        self, subjects: Sequence[Subject], timings: dict[str, float] | None,
        deadline: float | None,
    ) -> dict[Subject, tuple[Detected, ...]]:
        assert self._presidio is not None and self._nlp is not None, "load() first"
        canonical: dict[Subject, Canonical] = {}
        for subject in subjects:
            check_deadline(deadline)
            canonical[subject] = canonicalize(subject.text, start_view(subject))
        # Per (language, pass): (subject, view, the text analysed). Passes: "full" runs the model
        # and every recognizer; "ner" runs the model for its entities only; "patterns" runs
        # every recognizer over a tokenizer-only document; "joins" the recognizers of what a
        # join can assemble, over a tokenizer-only document.
        jobs: dict[tuple[str, str], list[tuple[Subject, Normalized, str]]] = {}
        found: dict[Subject, list[Detected]] = {s: [] for s in subjects}
        # What each view's passes found, in the view's own coordinates: read together in the
        # view's text (``arbiter``) before they are mapped back to the subject's.
        in_views: dict[int, tuple[Subject, Normalized, list[Detected]]] = {}
        for subject, canon in canonical.items():
            for view in canon.views:
                # A join is read for the numbers and addresses assembled in it, with the
                # pattern recognizers only (its words are found where they stand).
                passes = ([("ja" if "ja" in languages_of(view.text) else "en", "joins",
                            view.text)] if subject.kind == "join" else self._passes(view.text))
                for lang, kind, text in passes:
                    jobs.setdefault((lang, kind), []).append((subject, view, text))
            found[subject].extend(
                Detected(f.entity_type, 1.0, f.start, f.end, f"canonical:{f.rule}", "-")
                for f in canon.flags
            )
        for (lang, kind), items in jobs.items():
            check_deadline(deadline)
            started = time.perf_counter()
            artifacts = self._artifacts([text for _, _, text in items], lang,
                                        model=kind not in ("patterns", "joins"),
                                        deadline=deadline)
            entities = (list(NER_ENTITIES) if kind == "ner" else
                        list(JOINED_ENTITIES) if kind == "joins" else None)
            for (subject, view, text), nlp_artifacts in zip(items, artifacts, strict=True):
                check_deadline(deadline)
                results = self._results(text, lang, nlp_artifacts, entities)
                in_views.setdefault(id(view), (subject, view, []))[2].extend(
                    self._detected(r, lang) for r in results)
            if timings is not None:
                timings[lang] = timings.get(lang, 0.0) + time.perf_counter() - started
        for subject, view, hits in in_views.values():
            derived = view is not canonical[subject].views[0]
            for hit in arbiter.arbitrate(view.text, _dedupe(hits)):
                start, end = view.to_original(hit.start, hit.end)
                if end <= start or derived and hit.entity_type == "PERSON" and _plain_words(
                        subject.text[start:end]):
                    continue
                found[subject].append(replace(hit, start=start, end=end))
        return {s: tuple(_dedupe(d)) for s, d in found.items()}

    def _results(
        self, text: str, lang: str, artifacts: NlpArtifacts, entities: list[str] | None,
    ) -> list[RecognizerResult]:
        """Presidio's recognizers and Sekisho's on one view (those of ``entities``, if given)."""
        assert self._presidio is not None
        results: list[RecognizerResult] = self._presidio.analyze(
            text=text, language=lang, nlp_artifacts=artifacts, entities=entities)
        wanted = set(entities) if entities is not None else None
        lowered = text.lower()
        mine: list[RecognizerResult] = []
        ran: list[Recognizer] = []
        for recognizer in self.recognizers:
            if wanted is not None and wanted.isdisjoint(recognizer.entities):
                continue
            with charged(recognizer.name):
                hits = list(recognizer.find(text)) if recognizer.gate(lowered) else None
            if hits is None:
                continue
            ran.append(recognizer)
            for hit in hits:
                if hit.score <= 0 or wanted is not None and hit.entity not in wanted:
                    continue
                mine.append(RecognizerResult(
                    entity_type=hit.entity, start=hit.start, end=hit.end,
                    score=min(hit.score, 1.0),
                    analysis_explanation=AnalysisExplanation(
                        recognizer=recognizer.name, original_score=hit.score,
                        pattern_name=hit.rule,
                        textual_explanation=f"Detected by `{recognizer.name}` using rule"
                                            f" `{hit.rule}`"),
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
                        RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: hit.context_checked,
                    },
                ))
        if mine:
            mine = self._enhancer.enhance_using_context(text, mine, artifacts, ran)
            mine = [r for r in mine if r.score >= self.min_score]
            results = EntityRecognizer.remove_duplicates(results + mine)
        return results

    def _passes(self, text: str) -> list[tuple[str, str, str]]:
        """(language, pass, view) for one normalised text."""
        langs = languages_of(text)
        passes: list[tuple[str, str, str]] = []
        if "ja" in langs:
            passes.append(("ja", "full", text))
        if "en" in langs:
            # Mixed text: the Japanese pass runs every pattern recognizer over the whole text;
            # the English pass reads a copy with the Japanese blanked out, for names only.
            mixed = len(langs) > 1
            english = _mask_japanese(text) if mixed else text
            if self.en_ner == "always":
                passes.append(("en", "ner" if mixed else "full", english))
            else:
                if not mixed:
                    passes.append(("en", "patterns", text))
                view = ner_view(english)
                if view is not None:
                    passes.append(("en", "ner", view))
        return passes

    def _artifacts(self, views: list[str], lang: str, *, model: bool = True,
                   deadline: float | None = None) -> list[NlpArtifacts]:
        """NLP artifacts per view; ``model=False`` tokenizes only (no entities)."""
        assert self._nlp is not None
        nlp = self._nlp.get_nlp(lang)
        pieces_per_view = [_split_for_nlp(v, lang) for v in views]
        flat = [p for pieces in pieces_per_view for p in pieces]
        docs = _docs(nlp, flat, model, deadline)
        out: list[NlpArtifacts] = []
        for pieces in pieces_per_view:
            out.append(self._nlp.artifacts([next(docs) for _ in pieces], pieces, lang))
        return out

    @staticmethod
    def _detected(result: RecognizerResult, lang: str) -> Detected:
        """A result in its view's coordinates."""
        meta = result.recognition_metadata or {}
        return Detected(
            entity_type=result.entity_type,
            score=round(float(result.score), 4),
            start=result.start,
            end=result.end,
            recognizer=str(meta.get("recognizer_name", "unknown")),
            language=lang,
        )


def _docs(nlp: Language, pieces: list[str], model: bool, deadline: float | None
          ) -> Iterator[Doc]:
    """The doc of each piece, in order (``model=False``: tokenized only), the deadline checked
    before each piece tokenized and each batch of ``_NLP_BATCH_CHARS`` the model reads."""
    if not model:
        for piece in pieces:
            check_deadline(deadline)
            yield nlp.make_doc(piece)
        return
    batch: list[str] = []
    size = 0
    for piece in pieces:
        if batch and size + len(piece) > _NLP_BATCH_CHARS:
            check_deadline(deadline)
            yield from nlp.pipe(batch, batch_size=64)
            batch, size = [], 0
        batch.append(piece)
        size += len(piece)
    if batch:
        check_deadline(deadline)
        yield from nlp.pipe(batch, batch_size=64)


def _dedupe(hits: Iterable[Detected]) -> list[Detected]:
    """One hit per span; none inside a hit of a shadowing type, or inside an at least as
    sure hit of its own type (as Presidio does within one pass: "John Maynard" inside
    "John Maynard Keynes").

    Hits of one type are taken from the surest down, a score at a time, into a ``SpanIndex``,
    so each containment question is a lookup rather than a pass over every other hit.
    """
    best: dict[tuple[str, int, int], Detected] = {}
    for h in hits:
        key = (h.entity_type, h.start, h.end)
        if key not in best or h.score > best[key].score:
            best[key] = h
    by_type: dict[str, list[Detected]] = {}
    for h in best.values():
        by_type.setdefault(h.entity_type, []).append(h)
    kept: list[Detected] = []
    for entity, group in by_type.items():
        shadows = [o for t in _SHADOWED_BY.get(entity, ()) for o in by_type.get(t, ())]
        shadowing = SpanIndex(o.start for o in shadows)
        for o in shadows:
            shadowing.add(o.start, o.end)
        own = SpanIndex(h.start for h in group)
        for _, same in groupby(sorted(group, key=lambda h: -h.score), key=lambda h: h.score):
            tied = list(same)
            for h in tied:
                own.add(h.start, h.end)
            kept.extend(h for h in tied
                        if not own.contains(h.start, h.end, itself=False)
                        and not shadowing.contains(h.start, h.end, itself=True))
    return sorted(kept, key=lambda h: (h.start, h.end, h.entity_type))
