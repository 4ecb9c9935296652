"""Normalisation: analyse an NFKC copy, map every span back to the original characters."""

from __future__ import annotations

import pytest

from proxy.detection.normalize import normalize


@pytest.mark.parametrize(
    ("original", "normalised"),
    [
        ("０９０ー１２３４ー５６７８", "090-1234-5678"),
        ("ｶﾞｲﾄﾞ", "ガイド"),
        ("サーバー", "サーバー"),
        ("番号は4111です", "番号は 4111 です"),
        ("plain ascii", "plain ascii"),
        ("ＡＢＣ－１２３", "ABC-123"),
    ],
)
def test_normalised_text(original: str, normalised: str) -> None:
    assert normalize(original).text == normalised


def test_spans_map_back_to_exactly_the_original_characters() -> None:
    original = "ﾏｲﾅﾝﾊﾞｰは１２３４ー５６７８ー９０１８です"
    norm = normalize(original)
    start = norm.text.index("1234")
    end = start + len("1234-5678-9018")
    s, e = norm.to_original(start, end)
    assert original[s:e] == "１２３４ー５６７８ー９０１８"
    name_start = norm.text.index("マイナンバー")
    s, e = norm.to_original(name_start, name_start + len("マイナンバー"))
    assert original[s:e] == "ﾏｲﾅﾝﾊﾞｰ"


def test_random_mixed_text_maps_every_character_back() -> None:
    import random
    import unicodedata

    alphabet = "ab1２３ー－-ｶﾞｲﾄﾞ田中　 \n①😀é\u0301ア。、AZ9"
    rng = random.Random(1234)
    for _ in range(500):
        original = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        norm = normalize(original)
        assert len(norm.starts) == len(norm.ends) == len(norm.text)
        for k, ch in enumerate(norm.text):
            start, end = norm.to_original(k, k + 1)
            assert 0 <= start <= end <= len(original)
            if ch != " " and start < end:
                piece = unicodedata.normalize("NFKC", original[start:end])
                assert ch in piece or ch == "-"


def test_sudachi_tokens_always_cover_the_text_exactly() -> None:
    from proxy.detection.nlp import build_ja_pipeline

    nlp = build_ja_pipeline("sudachi")
    for text in ["田中太郎さん、ｶﾞｲﾄﾞ🎉 test\n\n改行　全角", "", "   ", "é\u0301ア"]:
        assert nlp(text).text == text


@pytest.mark.parametrize(
    ("original", "normalised"),
    [
        pytest.param("090\u200b1234\u200b5678", "09012345678", id="zero-width-space"),
        pytest.param("4111\u00ad1111\u20601111\ufeff1111", "4111111111111111", id="format-chars"),
        pytest.param("buf=5425\x009378", "buf=5425 9378", id="nul-is-a-gap"),
        pytest.param("\x1b[31m4111\x1b[0m0044", "41110044", id="ansi-colours"),
        pytest.param("t\u0430ro@example.com", "taro@example.com", id="cyrillic-lookalike"),
        pytest.param("Дмитрий", "Дмитрий", id="real-cyrillic-untouched"),
        pytest.param("٠٩٠١٢٣٤٥٦٧٨", "09012345678", id="arabic-indic-digits"),
        pytest.param("0️⃣7️⃣0️⃣➖3️⃣6️⃣6️⃣7️⃣➖5️⃣9️⃣0️⃣3️⃣", "070-3667-5903", id="keycaps"),
        pytest.param("〇九〇－一二三四－五六七八", "090-1234-5678", id="kanji-digit-by-digit"),
        pytest.param("一九八四年", "一九八四年", id="short-kanji-runs-kept"),
        pytest.param("oh nine oh, one two three four, five six seven eight",
                     "090-1234-5678", id="spoken-digits-en"),
        pytest.param("one or two, three or four", "one or two, three or four", id="few-words"),
        pytest.param("ぜろきゅうぜろの、いちにさんよんの、ごろくななはち", "090-1234-5678",
                     id="spoken-digits-ja"),
        pytest.param("+81 90-8765-4321 に折り返し", "+81 90-8765-4321 に折り返し",
                     id="particle-after-a-number"),
        pytest.param("携帯 O9O-948l-96l2", "携帯 090-9481-9612", id="ocr-letters-in-a-number"),
        pytest.param("ISO-9001", "ISO-9001", id="letters-of-a-code-kept"),
        pytest.param("maya.goldberg [at] example [dot] net", "maya.goldberg@example.net",
                     id="bracketed-at-and-dot"),
        pytest.param("sato at example dot co dot jp", "sato@example.co.jp", id="spelled-words"),
        pytest.param("taro . yamada @ example . co . jp", "taro.yamada@example.co.jp",
                     id="spaces-around-at-and-dots"),
        pytest.param("yamada（アット）example.co.jp", "yamada@example.co.jp", id="katakana-at"),
        pytest.param("yamada アットマーク example ドット jp", "yamada@example.jp",
                     id="atmark-and-dot-words"),
        pytest.param("reach me at marcus dot pemberton at gmail dot com",
                     "reach me at marcus.pemberton@gmail.com", id="longest-valid-domain"),
        pytest.param("meet John at example.com", "meet John at example.com", id="a-place"),
        pytest.param("arrive at 9 dot 30", "arrive at 9 dot 30", id="no-suffix"),
        pytest.param("mail bob@example.com. Then", "mail bob@example.com. Then",
                     id="sentence-end-kept"),
        pytest.param('tel = "0901" + "2345678"', 'tel = "09012345678"', id="concatenated-literals"),
    ],
)
def test_what_a_reader_reads_through_is_canonicalised(original: str, normalised: str) -> None:
    assert normalize(original).text == normalised


def test_every_canonicalised_character_maps_inside_the_original() -> None:
    samples = ["携帯 O9O-948l-96l2 と\u200b090\u200b1", "sato at example dot co dot jp まで",
               "oh nine oh, one two three four, five six seven eight.",
               "ぜろきゅうぜろの、いちにさんよんの、ごろくななはち", "\x1b[31m4111\x1b[0m"]
    for original in samples:
        norm = normalize(original)
        assert len(norm.starts) == len(norm.ends) == len(norm.text)
        for k in range(len(norm.text)):
            start, end = norm.to_original(k, k + 1)
            assert 0 <= start <= end <= len(original)
    original = "電話は〇九〇－八四三六－四一四七です"
    norm = normalize(original)
    found = norm.text.index("090")
    start, end = norm.to_original(found, found + len("090-8436-4147"))
    assert original[start:end] == "〇九〇－八四三六－四一四七"
