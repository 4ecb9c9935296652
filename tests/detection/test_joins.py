"""Joins: identifiers cut in pieces across texts or inside one are read whole."""

from __future__ import annotations

from typing import Any

import pytest

from proxy.detection.detector import Detector
from proxy.extraction import extract
from proxy.values import Segment


def found(detector: Detector, body: dict[str, Any]) -> set[str]:
    segments, _ = extract(body, known_models=frozenset({"gpt-4o-mini"}))
    return {f.entity_type for f in detector.analyze(segments) if f.score >= 0.5}


def chat(*contents: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": c} for c in contents]}


@pytest.mark.parametrize(
    ("body", "entity"),
    [
        pytest.param(chat([{"type": "text", "text": "新しいカードは 510516"},
                           {"type": "text", "text": "278811"},
                           {"type": "text", "text": "3653 です"}]), "CREDIT_CARD",
                     id="card-over-three-parts"),
        pytest.param({"model": "gpt-4o-mini", "messages": [
            {"role": "system", "content": "担当顧客の携帯番号は 090-84 から始まります。"},
            {"role": "user", "content": "続きは 36-4147 です。"}]}, "JP_PHONE_NUMBER",
            id="phone-over-system-and-user"),
        pytest.param(chat("個人番号の前半: 2213、後半: 5873 9837"), "JP_MY_NUMBER",
                     id="my-number-in-halves"),
        pytest.param({"model": "gpt-4o-mini", "messages": [
            {"role": "assistant", "content": "カード番号の最初の8桁を教えてください。"},
            {"role": "user", "content": "4916-7515"},
            {"role": "assistant", "content": "残りの8桁をお願いします。"},
            {"role": "user", "content": "1423-5889"}]}, "CREDIT_CARD",
            id="card-dictated-in-turns"),
        pytest.param(chat("| 携帯 | 090 | 2738 | 0058 |"), "JP_PHONE_NUMBER",
                     id="markdown-cells"),
        pytest.param(chat("電話→ 0.9.0.4.0.3.9.4.5.9.6"), "JP_PHONE_NUMBER",
                     id="digit-by-digit"),
        pytest.param({"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "My colleague's mail: kenji.watanabe"},
            {"role": "assistant", "content": "And the domain?"},
            {"role": "user", "content": "@nishida-kogyo.co.jp please"}]}, "EMAIL_ADDRESS",
            id="email-across-turns"),
    ],
)
def test_pieces_are_read_whole(detector: Detector, body: dict[str, Any], entity: str) -> None:
    assert entity in found(detector, body)


def test_unrelated_numbers_are_not_joined(detector: Detector) -> None:
    # Numbers that pass a checksum together, with nothing naming them as a card or phone.
    body = chat("Revenue 4500, 3200, 1800 and 2700 this quarter.",
                "Error E.164 number +1-202-555-0178 for user_id=8812")
    assert "CREDIT_CARD" not in found(detector, body)
    assert "JP_MY_NUMBER" not in found(detector, chat("2024年の受注 12345678 件"))


def test_a_joined_finding_lands_on_each_piece(detector: Detector) -> None:
    segments = [Segment("a", "card: 4916-7515"), Segment("b", "1423-5889 thanks")]
    cards = [f for f in detector.analyze(segments) if f.entity_type == "CREDIT_CARD"]
    assert {(f.path, segments[0 if f.path == "a" else 1].text[f.start:f.end]) for f in cards} == {
        ("a", "4916-7515"), ("b", "1423-5889")}
