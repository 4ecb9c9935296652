"""The ``Detector``: every segment of a request in, ``Finding``s out.

Runs in a worker thread (CPU-bound; the pipeline awaits it with a deadline). Per segment it
normalises the text (NFKC, dashes, script-boundary spaces; see ``normalize``), decides which
languages to analyse it in — Japanese when it contains kana or kanji, English when it contains
Latin words or no Japanese at all, both for mixed text — runs spaCy once per language over all
segments that need it (``nlp.pipe``), then Presidio's analyzer with those precomputed artifacts,
and maps every span back to the original characters. Results are cached per segment text, so a
chat that resends its history pays only for the new message.

English NER is the costliest step, and since the name lexicon decides which of its person
guesses count (``stock.confirmed_name``), it is only worth running where a known name could be.
With ``en_ner="cascade"`` (the default) the pattern recognizers read every text with a
tokenizer-only document, and the NER model reads only the sentences that contain a word the name
lexicon or Sudachi's romaji check knows; the other sentences are blanked (offsets unchanged).
Every person guess that the lexicon would confirm is still made; what the cascade skips are the
unconfirmed guesses (0.45, below the shipped thresholds) and place, date and group names in the
other sentences, which no shipped policy routes on. ``en_ner="always"`` runs the model on every
English text, for policies that route on those.

The detector raises on failure; the pipeline turns any exception or a missed deadline into a
``DETECTION_FAILED`` finding that keeps the request off the cloud.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.tokens import Doc

from proxy.detection.context import FastLemmaContextEnhancer
from proxy.detection.decoding import Canonical, canonicalize
from proxy.detection.joins import JOINED_ENTITIES, Join, joins, spans_of
from proxy.detection.names import LATIN_LOWER, LATIN_UPPER, lexicon
from proxy.detection.nlp import SCORES_KEY, SekishoNlpEngine
from proxy.detection.normalize import Normalized, apply_edits, identity
from proxy.detection.recognizers import sekisho_recognizers
from proxy.detection.recognizers.romaji_names import name_kind
from proxy.detection.stock import stock_recognizers
from proxy.exchange import Segment

log = logging.getLogger("sekisho.detection")

LANGUAGES = ("en", "ja")
NER_ENTITIES = ("PERSON", "LOCATION", "NRP", "DATE_TIME")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
EN_NER_MODES = ("cascade", "always")
# Where a sentence ends: a line break, Japanese end punctuation, or . ! ? before a space —
# but not after an initial or a title ("W. Edwards Deming", "Dr. Hassan"), which would cut a
# name in two.
_SENTENCE_END = re.compile(
    r"\n+|[。！？]+|(?<![A-Z])(?<!\bMr)(?<!\bMs)(?<!\bDr)(?<!\bSt)(?<!\bMrs)(?<!\bProf)"
    r"[.!?]+(?=\s)"
)
_NOT_BLANK = re.compile(r"\S")
_NAME_CANDIDATE = re.compile(f"[{LATIN_UPPER}{LATIN_LOWER}'’]{{3,}}")
# Sudachi refuses inputs over ~49 KB; Japanese is 3 bytes a character in UTF-8.
_MAX_NLP_CHARS = 10_000


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


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected entity: where it is (segment path and span in the original text), never
    its value."""

    entity_type: str
    score: float
    path: str
    start: int
    end: int
    recognizer: str
    language: str


class Analyzer(Protocol):
    """What the pipeline needs from detection: the in-process ``Detector`` or a ``DetectorPool``.

    ``analyze`` is blocking and raises on failure; the pipeline runs it in a worker thread
    under the request's deadline.
    """

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None: ...

    def analyze(
        self, segments: Sequence[Segment], timings: dict[str, float] | None = None
    ) -> list[Finding]: ...


@dataclass(frozen=True, slots=True)
class Hit:
    entity_type: str
    score: float
    start: int
    end: int
    recognizer: str
    language: str


def text_key(text: str) -> bytes:
    """Cache key of a text: a digest, so caches never hold raw text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


@dataclass(frozen=True, slots=True)
class Subject:
    """One unit of analysis: a segment's text with what it is (``Segment.kind``) and the label
    it is read with, or a join of pieces of several (kind ``join``, see ``joins``)."""

    text: str
    label: str | None = None
    kind: str = "text"

    @property
    def key(self) -> bytes:
        return text_key(f"{self.kind}\0{self.label or ''}\0{self.text}")


def subject_of(segment: Segment) -> Subject:
    return Subject(segment.text, segment.label, segment.kind)


def start_view(subject: Subject) -> Normalized:
    """The text detection starts from: the label in front (mapped to no original character,
    so nothing is ever found or redacted in it), and a participant name with its underscores
    and hyphens read as spaces and its words capitalised (``yamada_taro`` → ``Yamada Taro``)."""
    view = identity(subject.text)
    if subject.kind == "participant":
        text = subject.text
        edits = [(i, i + 1, " ", None) for i, ch in enumerate(text) if ch in "_-"]
        edits += [(i, i + 1, ch.upper(), None) for i, ch in enumerate(text)
                  if ch.islower() and (i == 0 or text[i - 1] in "_- ")]
        view = apply_edits(view, edits)
    if subject.label:
        view = apply_edits(view, [(0, 0, f"{subject.label}: ", None)])
    return view


def values_of(segments: Sequence[Segment], findings: Sequence[Finding]) -> list[str]:
    """The original text of each finding (empty for extraction flags), in order."""
    texts = {s.path: s.text for s in segments}
    return [texts.get(f.path, "")[f.start:f.end] for f in findings]


def contexts_of(
    segments: Sequence[Segment], findings: Sequence[Finding], margin: int
) -> list[tuple[str, str]]:
    """Up to ``margin`` characters of each finding's text before and after it, in order."""
    texts = {s.path: s.text for s in segments}
    return [(texts.get(f.path, "")[max(f.start - margin, 0):f.start],
             texts.get(f.path, "")[f.end:f.end + margin]) for f in findings]


# Between the joins of one request, read as one text: wider than any recognizer's context
# window, so one join's words never count as context for the next.
_JOIN_GAP = "\n" + " " * 80 + "\n"


def join_subject(found_joins: Sequence[Join]) -> Subject | None:
    """All of a request's joins as one text to analyse (one pass, not one per join)."""
    if not found_joins:
        return None
    return Subject(_JOIN_GAP.join(j.text for j in found_joins), None, "join")


def findings_of(
    segments: Sequence[Segment], hits: dict[Subject, tuple[Hit, ...]],
    found_joins: Sequence[Join] = (),
) -> list[Finding]:
    """Findings per segment, and those of the joins that cross their pieces (one finding per
    piece; see ``joins``)."""
    out = [
        Finding(h.entity_type, h.score, s.path, h.start, h.end, h.recognizer, h.language)
        for s in segments
        for h in hits[subject_of(s)]
    ]
    bundle = join_subject(found_joins)
    if bundle is None:
        return out
    offsets: list[int] = []
    pos = 0
    for join in found_joins:
        offsets.append(pos)
        pos += len(join.text) + len(_JOIN_GAP)
    seen = {(f.entity_type, f.path, f.start, f.end) for f in out}
    for h in hits.get(bundle, ()):
        if h.entity_type.startswith("CONTENT_"):
            continue
        k = bisect.bisect_right(offsets, h.start) - 1
        join, base = found_joins[k], offsets[k]
        if h.end > base + len(join.text):
            continue  # across the gap between two joins
        for path, start, end in spans_of(join, h.entity_type, h.start - base, h.end - base,
                                         h.score):
            key = (h.entity_type, path, start, end)
            # A piece already inside a finding of its type says nothing new.
            if key in seen or any(f.path == path and f.entity_type == h.entity_type
                                  and f.start <= start and end <= f.end for f in out):
                continue
            seen.add(key)
            out.append(Finding(h.entity_type, h.score, path, start, end,
                               f"{h.recognizer}+join", h.language))
    return out


def languages_of(text: str) -> tuple[str, ...]:
    has_ja = _JAPANESE.search(text) is not None
    if not has_ja:
        return ("en",)
    if _LATIN_WORD.search(text):
        return ("ja", "en")
    return ("ja",)


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
    for end in [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text)]:
        sentence = text[start:end]
        start = end
        if _may_hold_a_name(sentence):
            kept = True
            parts.append(sentence)
        else:
            parts.append(_NOT_BLANK.sub(" ", sentence))
    return "".join(parts) if kept else None


def _split_for_nlp(text: str) -> list[str]:
    """Cut long text into pieces the tokenizers accept, at line, sentence or word ends."""
    pieces: list[str] = []
    rest = text
    while len(rest) > _MAX_NLP_CHARS:
        window = rest[:_MAX_NLP_CHARS]
        cut = max(window.rfind("\n"), window.rfind("。"), window.rfind(". "), window.rfind(" "))
        cut = cut + 1 if cut > _MAX_NLP_CHARS // 2 else _MAX_NLP_CHARS
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


class ResultCache:
    """Bounded LRU of analysis results per subject, keyed by a digest (never the raw text)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[bytes, tuple[Hit, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def split(
        self, subjects: Iterable[Subject]
    ) -> tuple[dict[Subject, tuple[Hit, ...]], list[Subject]]:
        """The cached results among ``subjects``, and the subjects still to analyse."""
        known: dict[Subject, tuple[Hit, ...]] = {}
        todo: list[Subject] = []
        with self._lock:
            for subject in dict.fromkeys(subjects):
                key = subject.key
                cached = self._entries.get(key)
                if cached is None:
                    todo.append(subject)
                else:
                    self._entries.move_to_end(key)
                    known[subject] = cached
            self.hits += len(known)
            self.misses += len(todo)
        return known, todo

    def store(self, fresh: dict[Subject, tuple[Hit, ...]]) -> None:
        if not self.size:
            return
        with self._lock:
            for subject, hits in fresh.items():
                self._entries[subject.key] = hits
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def request_subjects(segments: Sequence[Segment]) -> tuple[list[Subject], list[Join]]:
    """What one request's analysis reads: every segment, and every join of their pieces."""
    found = joins(segments)
    bundle = join_subject(found)
    return [subject_of(s) for s in segments] + ([bundle] if bundle else []), found


class Detector:
    """Presidio on spaCy for English and Japanese, plus Sekisho's recognizers. Build once."""

    def __init__(
        self, *, ja_engine: str = "sudachi", en_ner: str = "cascade", cache_size: int = 4096,
        min_score: float = 0.3,
    ) -> None:
        if en_ner not in EN_NER_MODES:
            raise ValueError(f"en_ner must be one of {EN_NER_MODES}, not {en_ner!r}")
        self.ja_engine = ja_engine
        self.en_ner = en_ner
        self.cache_size = cache_size
        self.min_score = min_score
        self.cache = ResultCache(cache_size)
        self._nlp: SekishoNlpEngine | None = None
        self._analyzer: AnalyzerEngine | None = None

    def load(self) -> None:
        nlp = SekishoNlpEngine(ja_engine=self.ja_engine)
        nlp.load()
        registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
        for language in LANGUAGES:
            for recognizer in stock_recognizers(language) + sekisho_recognizers(language):
                registry.add_recognizer(recognizer)
        self._nlp = nlp
        self._analyzer = AnalyzerEngine(
            registry=registry,
            nlp_engine=nlp,
            supported_languages=list(LANGUAGES),
            default_score_threshold=self.min_score,
            context_aware_enhancer=FastLemmaContextEnhancer(),
        )

    @property
    def loaded(self) -> bool:
        return self._analyzer is not None

    @property
    def cache_misses(self) -> int:
        return self.cache.misses

    def add_recognizer(self, recognizer: EntityRecognizer) -> None:
        """Register an extra recognizer (custom deployments, tests); clears the cache."""
        assert self._analyzer is not None, "load() first"
        self._analyzer.registry.add_recognizer(recognizer)
        self.cache.clear()

    def analyze(
        self, segments: Sequence[Segment], timings: dict[str, float] | None = None
    ) -> list[Finding]:
        """Analyse all segments of one request together. Raises on any failure.

        ``timings``, when given, receives the seconds spent per language analysed.
        """
        assert self._analyzer is not None and self._nlp is not None, "load() first"
        subjects, found = request_subjects(segments)
        known, todo = self.cache.split(subjects)
        if todo:
            fresh = self.analyze_subjects(todo, timings)
            self.cache.store(fresh)
            known.update(fresh)
        return findings_of(segments, known, found)

    def analyze_texts(
        self, texts: Sequence[str], timings: dict[str, float] | None = None
    ) -> dict[str, tuple[Hit, ...]]:
        """Hits per plain text (no label), for tools and tests."""
        hits = self.analyze_subjects([Subject(t) for t in texts], timings)
        return {subject.text: found for subject, found in hits.items()}

    def analyze_subjects(
        self, subjects: Sequence[Subject], timings: dict[str, float] | None = None
    ) -> dict[Subject, tuple[Hit, ...]]:
        assert self._analyzer is not None and self._nlp is not None
        canonical: dict[Subject, Canonical] = {
            s: canonicalize(s.text, start_view(s)) for s in subjects
        }
        # Per (language, pass): (subject, view, the text analysed). Passes: "full" runs the model
        # and every recognizer; "ner" runs the model for its entities only; "patterns" runs
        # every recognizer over a tokenizer-only document.
        jobs: dict[tuple[str, str], list[tuple[Subject, Normalized, str]]] = {}
        hits: dict[Subject, list[Hit]] = {s: [] for s in subjects}
        for subject, canon in canonical.items():
            for view in canon.views:
                # A join is read for the numbers and addresses assembled in it, with the
                # pattern recognizers only (its words are found where they stand).
                passes = ([("ja" if "ja" in languages_of(view.text) else "en", "joins",
                            view.text)] if subject.kind == "join" else self._passes(view.text))
                for lang, kind, text in passes:
                    jobs.setdefault((lang, kind), []).append((subject, view, text))
            hits[subject].extend(
                Hit(f.entity_type, 1.0, f.start, f.end, f"canonical:{f.rule}", "-")
                for f in canon.flags
            )
        for (lang, kind), items in jobs.items():
            started = time.perf_counter()
            artifacts = self._artifacts([text for _, _, text in items], lang,
                                        model=kind not in ("patterns", "joins"))
            entities = (list(NER_ENTITIES) if kind == "ner" else
                        list(JOINED_ENTITIES) if kind == "joins" else None)
            for (subject, view, text), nlp_artifacts in zip(items, artifacts, strict=True):
                results = self._analyzer.analyze(
                    text=text, language=lang, nlp_artifacts=nlp_artifacts, entities=entities,
                )
                hits[subject].extend(
                    h for h in (self._hit(view, r, lang) for r in results) if h.end > h.start
                )
            if timings is not None:
                timings[lang] = timings.get(lang, 0.0) + time.perf_counter() - started
        return {s: tuple(self._dedupe(h)) for s, h in hits.items()}

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

    def _artifacts(self, views: list[str], lang: str, *, model: bool = True
                   ) -> list[NlpArtifacts]:
        """NLP artifacts per view; ``model=False`` tokenizes only (no entities)."""
        assert self._nlp is not None
        nlp = self._nlp.get_nlp(lang)
        pieces_per_view = [_split_for_nlp(v) for v in views]
        flat = [p for pieces in pieces_per_view for p in pieces]
        docs = iter(nlp.pipe(flat, batch_size=64) if model else map(nlp.make_doc, flat))
        out: list[NlpArtifacts] = []
        for pieces in pieces_per_view:
            part_docs = [next(docs) for _ in pieces]
            if len(part_docs) == 1:
                doc = part_docs[0]
            else:
                scores = [s for d in part_docs for s in self._nlp._get_scores_for_entities(d)]
                for part in part_docs:
                    # spaCy cannot merge list-valued user data; the scores are carried over here.
                    part.user_data.pop(SCORES_KEY, None)
                doc = Doc.from_docs(part_docs, ensure_whitespace=False)
                doc.user_data[SCORES_KEY] = scores
            out.append(self._nlp._doc_to_nlp_artifact(doc, lang))
        return out

    @staticmethod
    def _hit(norm: Normalized, result: object, lang: str) -> Hit:
        start, end = norm.to_original(result.start, result.end)  # type: ignore[attr-defined]
        meta = getattr(result, "recognition_metadata", None) or {}
        return Hit(
            entity_type=result.entity_type,  # type: ignore[attr-defined]
            score=round(float(result.score), 4),  # type: ignore[attr-defined]
            start=start,
            end=end,
            recognizer=str(meta.get("recognizer_name", "unknown")),
            language=lang,
        )

    @staticmethod
    def _dedupe(hits: Iterable[Hit]) -> list[Hit]:
        """One hit per span; none inside a hit of a shadowing type, or inside an at least as
        sure hit of its own type (as Presidio does within one pass: "John Maynard" inside
        "John Maynard Keynes")."""
        best: dict[tuple[str, int, int], Hit] = {}
        for h in hits:
            key = (h.entity_type, h.start, h.end)
            if key not in best or h.score > best[key].score:
                best[key] = h
        kept = [
            h for h in best.values()
            if not any(
                o is not h and o.start <= h.start and h.end <= o.end
                and (o.entity_type in _SHADOWED_BY.get(h.entity_type, ())
                     or o.entity_type == h.entity_type and o.score >= h.score)
                for o in best.values()
            )
        ]
        return sorted(kept, key=lambda h: (h.start, h.end, h.entity_type))
