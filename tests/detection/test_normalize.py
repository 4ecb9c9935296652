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
