"""A text read in pieces gets the artifacts of the whole: ``SekishoNlpEngine.artifacts``
concatenates the pieces' offsets, lemmas and entities instead of merging their docs (spaCy's
``Doc.from_docs`` cost more than Sudachi on 10,000 Japanese characters). Compared here with
the merged doc's artifacts, on texts long enough to be read in several pieces."""

from __future__ import annotations

import pytest
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.tokens import Doc

from proxy.detection.detector import Detector
from proxy.detection.engine import _split_for_nlp
from proxy.detection.nlp import SCORES_KEY
from proxy.values import Segment

PARAGRAPHS = {
    "en": ("Please ask Priya Raghunathan in the Boston office to call the supplier about the "
           "delayed shipment; Warren Buffett's letter arrived on 3 March 2025.\n",
           "The meeting with Dr. Kenji Watanabe moved to Tuesday afternoon in Osaka.\n"),
    "ja": ("山田太郎さんが大阪支店の会議で新製品の説明をしました。次回は来週の火曜日です。\n",
           "担当者：佐藤花子、東京本社の営業部で見積書を作成しています。\n"),
}


def _long(language: str) -> str:
    first, second = PARAGRAPHS[language]
    return (first + second) * (12_000 // len(first + second) + 1)


def _merged(detector: Detector, docs: list[Doc], language: str) -> NlpArtifacts:
    nlp = detector.engine._nlp
    assert nlp is not None
    scores = [s for d in docs for s in nlp._get_scores_for_entities(d)]
    copies = [Doc(d.vocab).from_bytes(d.to_bytes(exclude=["user_data"])) for d in docs]
    doc = Doc.from_docs(copies, ensure_whitespace=False)
    doc.user_data[SCORES_KEY] = scores
    return nlp.artifacts([doc], [doc.text], language)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_pieces_artifacts_are_those_of_the_merged_doc(
    detector: Detector, language: str,
) -> None:
    nlp = detector.engine._nlp
    assert nlp is not None
    text = _long(language)
    pieces = _split_for_nlp(text, language)
    assert len(pieces) > 1
    docs = list(nlp.get_nlp(language).pipe(pieces))
    got = nlp.artifacts(docs, pieces, language)
    want = _merged(detector, docs, language)
    assert got.tokens_indices == want.tokens_indices
    assert got.token_ends == want.token_ends  # type: ignore[attr-defined]
    assert got.tokens == [text[s:e] for s, e in zip(got.tokens_indices,
                                                    got.token_ends,  # type: ignore[attr-defined]
                                                    strict=True)]
    assert got.lemmas == want.lemmas and got.keywords == want.keywords
    assert got.scores == want.scores
    entities = [(e.label_, e.start_char, e.end_char, e.text) for e in got.entities]
    assert entities == [(e.label_, e.start_char, e.end_char, e.text) for e in want.entities]
    assert all(text[s:e] == t for _, s, e, t in entities)
    # Entities of the later pieces are there, at the whole text's offsets.
    assert max(s for _, s, _, _ in entities) > len(pieces[0])


@pytest.mark.parametrize(("language", "name"), [("en", "Kenji Watanabe"), ("ja", "佐藤花子")])
def test_a_name_in_a_later_piece_is_found_where_it_stands(
    detector: Detector, language: str, name: str,
) -> None:
    text = _long(language)
    last = text.rindex(name)
    assert last > 10_000
    found = {(f.start, f.end) for f in detector.analyze([Segment("t", text)])
             if f.entity_type == "PERSON"}
    assert (last, last + len(name)) in found
