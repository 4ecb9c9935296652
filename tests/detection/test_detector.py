"""The Detector as a whole: languages per segment, spans in the original, long texts, cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxy.detection.detector import Detector
from proxy.detection.engine import languages_of, ner_view
from proxy.detection.nlp import build_ja_pipeline
from proxy.extraction import extract
from proxy.tools.evaluation import load_corpus
from proxy.values import Segment


def found(detector: Detector, text: str) -> set[tuple[str, str]]:
    return {(f.entity_type, text[f.start:f.end])
            for f in detector.analyze([Segment("t", text)])}


@pytest.mark.parametrize(
    ("text", "languages"),
    [("Hello world", ("en",)), ("こんにちは", ("ja",)), ("田中さん sent the PDF", ("ja", "en")),
     ("090-1234-5678", ("en",))],
)
def test_language_is_decided_per_text(text: str, languages: tuple[str, ...]) -> None:
    assert languages_of(text) == languages


def test_mixed_japanese_and_english_text_gets_both_languages_recognizers(
    detector: Detector,
) -> None:
    text = "明日の件、山田花子さんと John Smith (john.smith@acme.example.com) に共有してください。"
    result = found(detector, text)
    assert ("PERSON", "山田花子") in result
    assert ("PERSON", "John Smith") in result
    assert ("EMAIL_ADDRESS", "john.smith@acme.example.com") in result


def test_full_width_identifiers_are_found_and_spans_cut_the_original_characters(
    detector: Detector,
) -> None:
    text = ("カード番号は４１１１　１１１１　１１１１　１１１１、"
            "電話は０９０ー１２３４ー５６７８です")
    result = found(detector, text)
    assert ("CREDIT_CARD", "４１１１　１１１１　１１１１　１１１１") in result
    assert ("JP_PHONE_NUMBER", "０９０ー１２３４ー５６７８") in result


def test_identifiers_glued_to_japanese_words_are_found(detector: Detector) -> None:
    result = found(detector, "連絡先はtaro@example.co.jpまで。SSNは536-22-8745です")
    assert ("EMAIL_ADDRESS", "taro@example.co.jp") in result


def test_text_longer_than_the_tokenizer_limit_is_analysed_to_the_end(detector: Detector) -> None:
    # Sudachi refuses inputs over ~49 KB: 30,000 Japanese characters are 90 KB of UTF-8.
    filler = "本日の会議では来期の予算について議論しました。" * 1300
    text = filler + "担当は佐藤健一さん、電話は03-1234-5678です。"
    assert len(text.encode()) > 49_000
    result = found(detector, text)
    assert ("JP_PHONE_NUMBER", "03-1234-5678") in result
    assert ("PERSON", "佐藤健一") in result


def test_results_are_cached_per_text() -> None:
    detector = Detector(cache_size=8)
    detector.load()
    history = [Segment(f"messages[{i}].content", f"Turn {i}: please call Mary Jones")
               for i in range(3)]
    first = detector.analyze(history)
    misses = detector.cache_misses
    again = detector.analyze([*history, Segment("messages[3].content", "and Bob Stone")])
    assert detector.cache_misses == misses + 1
    assert again[: len(first)] == first


def test_ginza_engine_is_available_by_configuration() -> None:
    detector = Detector(ja_engine="ginza", cache_size=0)
    detector.load()
    assert ("PERSON", "山田") in {
        (e, v[:2]) for e, v in found(detector, "昨日、山田太郎さんが東京本社を訪れました。")
    }


@pytest.mark.parametrize(
    "text",
    ["橋本病の治療について教えてください。", "山田病院の外来受付時間は？",
     "田中工業に見積もりを依頼したい。", "富山、石川、福井の北陸三県で販売したい。",
     "大阪から金沢、富山を経由して新潟まで配送する。",
     "石川県の工場の稼働率は？"],
)
def test_diseases_firms_and_places_named_like_someone_are_not_people(
    detector: Detector, text: str
) -> None:
    assert not any(entity == "PERSON" for entity, _ in found(detector, text))


def test_family_names_listed_beside_a_place_stay_people(detector: Detector) -> None:
    people = {v for e, v in found(detector, "田中、宮城、佐藤の3名が出席") if e == "PERSON"}
    assert {"田中", "佐藤"} <= people


def test_a_possessive_is_not_part_of_the_name(detector: Detector) -> None:
    people = {value for entity, value in found(
        detector, "Summarise Warren Buffett's letter and forward Priya Raghunathan's review.")
        if entity == "PERSON"}
    assert people == {"Warren Buffett", "Priya Raghunathan"}


@pytest.mark.parametrize(
    ("text", "phone"),
    [
        ("Order #A-4417-9920 was delayed; draft an apology.", None),
        ("Ticket CS-2024-118823 is still open.", None),
        ("Timestamp 2024-03-14 09:12:33 in the log.", None),
        ("[2024-11-05 03:14:07.812] ERROR worker crashed", None),
        ("Call me at 415-867-5309 tomorrow.", "415-867-5309"),
        ("TEL-415-867-5309", "415-867-5309"),
        ("Check lot 240611-07 and lot no. 240611-08 for defects.", None),
        ("Call Apple at 1-800-275-2273 or the UK desk on 0800 028 0366.", None),  # toll-free
        ("お問い合わせ（0120-123-456、受付9時〜17時）", None),
    ],
)
def test_order_and_ticket_numbers_are_not_phone_numbers(
    detector: Detector, text: str, phone: str | None
) -> None:
    phones = {v for e, v in found(detector, text) if e == "PHONE_NUMBER"}
    assert phones == ({phone} if phone else set())


def test_ner_view_keeps_only_sentences_that_hold_a_known_name() -> None:
    text = ("Summarise the Q3 report. Then send it to Priya Raghunathan.\n"
            "Who was W. Edwards Deming? Explain Kaizen.")
    view = ner_view(text)
    assert view is not None and len(view) == len(text)
    assert "Summarise" not in view and "Kaizen" not in view
    assert "Then send it to Priya Raghunathan." in view
    # An initial does not end a sentence, so the name is not cut in two.
    assert "Who was W. Edwards Deming?" in view
    assert ner_view("Convert 350 psi to MPa. Explain Python's asyncio.") is None


def test_cascade_covers_every_labelled_name_that_running_ner_on_everything_finds(
    detector: Detector,
) -> None:
    """Every character of a labelled name that a sure PERSON finding covers with
    en_ner=always is covered by the cascade too: the same requests route local and the same
    characters of names are redacted. (The cascade may find more, and skips NER's guesses on
    lower-case words such as a "kana" column.)"""
    always = Detector(en_ner="always", cache_size=0)
    always.load()

    def covered(d: Detector, segment: Segment) -> set[int]:
        return {i for f in d.analyze([segment])
                if f.entity_type == "PERSON" and f.score >= 0.6 for i in range(f.start, f.end)}

    checked = 0
    for item in load_corpus(Path(__file__).parent / "corpus"):
        segments = {s.path: s for s in extract(item.body)[0]}
        for gold in item.entities:
            if gold.entity_type != "PERSON" or gold.path not in segments:
                continue
            segment = segments[gold.path]
            names = {i for span in gold.spans for i in range(span.start, span.end)}
            missing = (covered(always, segment) - covered(detector, segment)) & names
            assert not missing, (item.id, gold.path)
            checked += 1
    assert checked >= 150  # the corpus labels 162 names


def test_english_context_words_raise_scores(detector: Detector) -> None:
    # The English lemmatiser is off; context must be read from the lower-cased words.
    def phone_score(text: str) -> float:
        return max(f.score for f in detector.analyze([Segment("t", text)])
                   if f.entity_type == "PHONE_NUMBER")

    assert phone_score("We noted 5205550174 yesterday") == pytest.approx(0.3)
    assert phone_score("My phone number is 5205550174") > 0.6


def test_japanese_tokenizer_survives_symbols_sudachi_splits_oddly() -> None:
    # Sudachi reports an extra empty morpheme after "…"; an empty token would make spaCy raise
    # (and the request fail closed). NFKC turns "…" into "...", so call the tokenizer directly.
    nlp = build_ja_pipeline("sudachi")
    doc = nlp("提案文を作成します…山田太郎さんへ")
    assert doc.text == "提案文を作成します…山田太郎さんへ"
    assert [(e.text, e.label_) for e in doc.ents] == [("山田太郎", "PERSON")]
