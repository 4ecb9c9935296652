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
