"""The gazetteer of notable people (``notable``) and the arbiter's use of it, through the real
detector: a cast of the famous is cleared, and every twin that shares its shape with a record
about private people stays personal.
"""

from __future__ import annotations

import numpy as np
import pytest

from proxy.detection import notable
from proxy.detection.arbiter import _japanese_notable
from proxy.detection.detector import Detector
from proxy.values import Segment


def people(detector: Detector, text: str) -> set[str]:
    return {text[f.start:f.end] for f in detector.analyze([Segment("t", text)])
            if f.entity_type == "PERSON" and f.score >= 0.6}


def test_the_built_gazetteer_is_the_installed_package_s_sorted_titles() -> None:
    # `make install` builds it into the environment; a missing file would be built on load.
    assert notable.path().is_file(), "run `make install` (it builds the gazetteer)"
    keys = np.fromfile(notable.path(), dtype=np.uint64)
    assert len(keys) > 1_000_000
    assert bool(np.all(np.diff(keys) > 0)), "sorted and unique, for bisection"


@pytest.mark.parametrize("name", ["Warren Buffett", "frida kahlo", "Isambard Kingdom Brunel",
                                  "Roald Amundsen", "Yayoi Kusama",
                                  # Japanese names the lexicon does not hold, known by romaji.
                                  "Issey Miyake", "Hidesaburo Ueno"])
def test_notable_people_are_known(name: str) -> None:
    assert notable.is_notable(name)


@pytest.mark.parametrize("name", ["Rowan Whitlock", "Keita Ishikawa", "Buffett",
                                  "Warren Edward Buffett Junior", ""])
def test_other_names_and_shapes_are_not(name: str) -> None:
    assert not notable.is_notable(name)


def test_the_census_commonest_family_names() -> None:
    assert notable.is_common_family("Smith")
    assert notable.is_common_family("gonzalez")
    assert not notable.is_common_family("Kahlo")


@pytest.mark.parametrize("text", [
    "Compare the investment philosophies of Warren Buffett and Charlie Munger in a short essay.",
    "Make a table of the main works of Frida Kahlo and Yayoi Kusama with years.",
    "Who reached the pole first, Ernest Shackleton or Roald Amundsen? Give three sources.",
    "Discuss George Stephenson and Isambard Kingdom Brunel's contributions to railways.",
])
def test_a_cast_of_notable_people_is_not_personal(detector: Detector, text: str) -> None:
    assert not people(detector, text)


@pytest.mark.parametrize(("text", "kept"), [
    # Two names of the census's commonest families: as often colleagues as the famous.
    ("Summarise the meeting between Emily Hall and David Brown about the budget.",
     {"Emily Hall", "David Brown"}),
    # One private name among the famous: the text is about someone after all.
    ("Compare the portfolios of Warren Buffett, Charlie Munger and Rowan Whitlock.",
     {"Warren Buffett", "Charlie Munger", "Rowan Whitlock"}),
    # People the text writes to or calls clients.
    ("Draft an email to our client Frida Kahlo and her colleague Diego Rivera about the invoice.",
     {"Frida Kahlo", "Diego Rivera"}),
    # A workplace's roles and matters: a case about employees who share famous names.
    ("Prepare notes on the complaint Svetlana Ivanova raised about her manager Klaus Fischer.",
     {"Svetlana Ivanova", "Klaus Fischer"}),
    ("Dmitri Volkov and Anders Nilsson both asked to move their appointments to Friday.",
     {"Dmitri Volkov", "Anders Nilsson"}),
    # Two famous names in two sentences of a joined prompt are no cast: one is a driver's.
    ("Drug test came back positive for forklift driver Brandon Lee. What next?\n"
     "What did Florence Nightingale contribute to modern nursing?",
     {"Brandon Lee"}),
    # Other personal data beside them: a record, not a prompt about people.
    ("Warren Buffett and Charlie Munger: their shared mobile is 07700 900123, please summarise.",
     {"Warren Buffett", "Charlie Munger"}),
])
def test_notable_names_in_a_record_stay_personal(detector: Detector, text: str,
                                                 kept: set[str]) -> None:
    assert kept <= people(detector, text)


@pytest.mark.parametrize(("name", "title"), [
    ("東野圭吾", "keigo higashino"),   # 東野 read ヒガシノ, not the dictionary's first トウノ
    ("村上 春樹", "haruki murakami"),
    ("湊かなえ", "kanae minato"),
])
def test_japanese_names_are_read_into_the_gazetteer_s_romaji(name: str, title: str) -> None:
    assert _japanese_notable(name) == title


@pytest.mark.parametrize("name", ["鰐淵千景", "東海林麻衣子", "山田太郎", "東京", ""])
def test_other_japanese_names_are_not_notable(name: str) -> None:
    assert _japanese_notable(name) is None


@pytest.mark.parametrize("text", [
    "東野圭吾と村上春樹の文体の違いを3点で説明してください。",
    # A table names one author a row: the table is the cast.
    "貸出回数の集計結果：\n東野圭吾 | 白鳥とコウモリ | 212\n村上春樹 | 街とその不確かな壁 | 176\n"
    "湊かなえ | 告白 | 150",
    "| author | loans |\n|---|---|\n| Terry Pratchett | 88 |\n| Ursula K. Le Guin | 61 |",
])
def test_a_japanese_or_tabled_cast_of_notable_people_is_not_personal(
    detector: Detector, text: str,
) -> None:
    assert not people(detector, text)


@pytest.mark.parametrize(("text", "kept"), [
    # Japan's commonest family names together: as often colleagues as the famous.
    ("鈴木一郎と佐藤健の打ち合わせメモを整理して。", {"鈴木一郎", "佐藤健"}),
    # A case a company keeps, a contact, a private name among them.
    ("村上春樹と東野圭吾の面談記録を要約して。", {"村上春樹", "東野圭吾"}),
    ("担当の村上春樹さんと東野圭吾さんに連絡してください。", {"村上春樹", "東野圭吾"}),
    ("東野圭吾と鰐淵千景の打ち合わせメモをまとめて。", {"東野圭吾", "鰐淵千景"}),
    # A table with a phone column is a record; a table of members is everyday business.
    ("東野圭吾 | 090-2231-4478\n村上春樹 | 080-5512-3390", {"東野圭吾", "村上春樹"}),
    ("| member | plan |\n|---|---|\n| Terry Pratchett | gold |\n| Ursula K. Le Guin | basic |",
     {"Terry Pratchett", "Ursula K. Le Guin"}),
])
def test_japanese_and_tabled_notable_names_in_a_record_stay_personal(
    detector: Detector, text: str, kept: set[str],
) -> None:
    assert kept <= people(detector, text)
