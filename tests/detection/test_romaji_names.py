"""Japanese names in romaji, recognised through Sudachi's name dictionary."""

from __future__ import annotations

import pytest
from recognizer_cases import detect

from proxy.detection.recognizers.romaji_names import RomajiNameRecognizer, to_katakana

RECOGNIZER = RomajiNameRecognizer()


def names(text: str) -> list[str]:
    return [text[s:e] for _, s, e in detect(RECOGNIZER, text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please call Hiroshi Kobayashi tomorrow.", ["Hiroshi Kobayashi"]),
        ("担当は KOBAYASHI Hiroshi です", ["KOBAYASHI Hiroshi"]),
        ("Takeshi Ono, Mari Fujii and KIKUCHI Sho", ["Takeshi Ono", "Mari Fujii",
                                                     "KIKUCHI Sho"]),
        ("Contact: Yamada, Taro", ["Yamada, Taro"]),
        ("Sato Kenji joined in April", ["Sato Kenji"]),
        ("Passenger SUZUKI/AKANE, seat 14C", ["SUZUKI/AKANE"]),  # booking and passport style
    ],
)
def test_romaji_names_are_found(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    ["Please Review The Document", "Project Hayabusa review", "Tokyo Osaka shuttle",
     "Go To Market plan", "Mark Smith", "Kaizen Event next week",
     "Route TOKYO/OSAKA, fare class Y", "Flight NRT/HND transfer"],
)
def test_english_and_place_words_are_not_names(text: str) -> None:
    assert names(text) == []


def test_hepburn_transliteration() -> None:
    assert to_katakana("Kobayashi") == "コバヤシ"
    assert to_katakana("Hattori") == "ハットリ"
    assert to_katakana("Kenji") == "ケンジ"
    assert to_katakana("Project") is None
