"""Placeholders, equal values, every occurrence, and restoration whole and streamed.

Findings are given by hand (no detector): these tests are about what the rewrite and the
restorer do with what inspection found, including random texts through random chunkings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from proxy import occurrences
from proxy.pseudonyms import FormatError, PlaceholderFormat, Pseudonyms, Restorer
from proxy.transform import replace
from proxy.values import Finding, Segment

FORMAT = PlaceholderFormat()
PERSON = frozenset({"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "JP_PHONE_NUMBER"})


def rewrite(texts: list[str], found: list[tuple[str, int, str]], *,
            redact: frozenset[str] = frozenset()) -> tuple[list[str], Pseudonyms]:
    """``texts`` as segments ``t0``, ``t1``…; ``found``: (type, segment, value) findings."""
    segments = [Segment(f"t{i}", t, loc=("texts", i)) for i, t in enumerate(texts)]
    findings = []
    for kind, i, value in found:
        start = texts[i].index(value)
        findings.append(Finding(kind, 1.0, f"t{i}", start, start + len(value), "test", "en"))
    pseudonyms = Pseudonyms.for_request(FORMAT, texts)
    result = replace({"texts": list(texts)}, segments, findings, redact, PERSON - redact,
                     pseudonyms=pseudonyms)
    return result.body["texts"], pseudonyms


def test_same_value_same_placeholder_different_values_different_ones() -> None:
    out, pseudonyms = rewrite(
        ["Write to Maria Gonzalez and Ken Sato.", "Maria Gonzalez called again."],
        [("PERSON", 0, "Maria Gonzalez"), ("PERSON", 0, "Ken Sato")])
    assert out == ["Write to [[PERSON_1]] and [[PERSON_2]].", "[[PERSON_1]] called again."]
    assert pseudonyms.issued == {"PERSON": 2}


@pytest.mark.parametrize(
    ("text", "value", "other", "expected"),
    [
        pytest.param("Dear Gonzalez,", "Gonzalez", "GONZALEZ wrote", "[[PERSON_1]] wrote",
                     id="another-case"),
        pytest.param("Maria Gonzalez asks", "Maria Gonzalez", "login maria.gonzalez failed",
                     "login [[PERSON_1]] failed", id="inside-a-username"),
        pytest.param("call 090-1234-5678", "090-1234-5678", "or 09012345678 at night",
                     "or [[PHONE_1]] at night", id="phone-without-separators"),
        pytest.param("tel +81 90 1234 5678", "+81 90 1234 5678", "携帯 090-1234-5678 まで",
                     "携帯 [[PHONE_1]] まで", id="phone-with-country-code"),
        pytest.param("担当は山田太郎です", "山田太郎", "山田 太郎様より", "[[PERSON_1]]様より",
                     id="japanese-name-with-a-space"),
        pytest.param("Mail a.b@example.jp", "a.b@example.jp", "A.B@EXAMPLE.JP bounced",
                     "[[EMAIL_1]] bounced", id="email-in-capitals"),
    ],
)
def test_a_value_is_replaced_wherever_it_occurs(text: str, value: str, other: str,
                                                 expected: str) -> None:
    kind = ("PHONE_NUMBER" if value[-1].isdigit() else
            "EMAIL_ADDRESS" if "@" in value else "PERSON")
    out, _ = rewrite([text, other], [(kind, 0, value)])
    assert out[1] == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param("Li", "List the items", id="short-name-inside-a-word"),
        pytest.param("Anna", "Annapurna base camp", id="name-as-word-prefix"),
        pytest.param("0312345678", "order 103123456789", id="digits-inside-a-longer-number"),
        pytest.param("1234", "part A1234-B", id="digits-inside-an-identifier"),
    ],
)
def test_lookalikes_are_not_occurrences(value: str, text: str) -> None:
    assert occurrences.find(text, [occurrences.value_key(value)]) == []


def test_digit_groups_are_matched_group_aligned() -> None:
    text = "numbers: 090-1234-5678 03-1234-5678"
    found = occurrences.find(text, [occurrences.value_key("0312345678")])
    assert [text[s:e] for s, e, _ in found] == ["03-1234-5678"]


def test_redact_also_replaces_every_occurrence() -> None:
    out, pseudonyms = rewrite(["Ken Sato wrote", "sign-off: KEN SATO"],
                              [("PERSON", 0, "Ken Sato")], redact=frozenset({"PERSON"}))
    assert out == ["<PERSON> wrote", "sign-off: <PERSON>"]
    assert not pseudonyms


def test_placeholders_the_client_wrote_are_never_issued() -> None:
    texts = ["Template: Dear [[PERSON_1]], ...", "Fill it for Ken Sato"]
    out, pseudonyms = rewrite(texts, [("PERSON", 1, "Ken Sato")])
    assert out == ["Template: Dear [[PERSON_1]], ...", "Fill it for [[PERSON_2]]"]
    restorer = Restorer(pseudonyms)
    assert restorer.text("Dear [[PERSON_1]] and [[PERSON_2]]") == "Dear [[PERSON_1]] and Ken Sato"


def test_a_follow_up_numbers_from_a_random_base() -> None:
    follow = Pseudonyms.for_request(FORMAT, [], follow_up=True)
    placeholder = follow.placeholder("PERSON", "k", "Ken")
    n = int(placeholder.strip("[]").split("_")[1])
    assert 100 <= n < 1000


@pytest.mark.parametrize(
    ("answer", "restored"),
    [
        ("Dear [[PERSON_1]],", "Dear 山田太郎,"),
        ("Dear [[person_1]],", "Dear 山田太郎,"),
        ("Dear [[ PERSON_1 ]],", "Dear 山田太郎,"),
        ("Dear [[PERSON 1]],", "Dear 山田太郎,"),
        ("[[PERSON_1]]様、ご連絡ありがとうございます", "山田太郎様、ご連絡ありがとうございます"),
        ("**[[PERSON_1]]**", "**山田太郎**"),
        (r"\[\[PERSON\_1\]\]", "山田太郎"),
        ("[[PERSON_1]][[EMAIL_1]]", "山田太郎yamada@example.jp"),
        ("[[PERSON_7]] is not ours, [PERSON_1] is not a placeholder",
         "[[PERSON_7]] is not ours, [PERSON_1] is not a placeholder"),
    ],
)
def test_restoration_tolerates_what_models_do(answer: str, restored: str) -> None:
    pseudonyms = Pseudonyms(FORMAT)
    pseudonyms.placeholder("PERSON", "yamadataro", "山田太郎")
    pseudonyms.placeholder("EMAIL_ADDRESS", "yamada@examplejp", "yamada@example.jp")
    assert Restorer(pseudonyms).text(answer) == restored


def test_values_go_back_json_escaped_inside_arguments() -> None:
    pseudonyms = Pseudonyms(FORMAT)
    pseudonyms.placeholder("PERSON", "k", 'Anne "Nan" O\\Brien')
    arguments = '{"name": "[[PERSON_1]]"}'
    restored = Restorer(pseudonyms).text(arguments, json_string=True)
    assert json.loads(restored) == {"name": 'Anne "Nan" O\\Brien'}


def test_a_placeholder_split_anywhere_is_restored_and_only_its_prefix_held_back() -> None:
    pseudonyms = Pseudonyms(FORMAT)
    pseudonyms.placeholder("PERSON", "k", "山田太郎")
    answer = "こんにちは [[PERSON_1]]様。[note] [[x"
    for cut in range(len(answer) + 1):
        stream = Restorer(pseudonyms).stream()
        first = stream.feed(answer[:cut])
        assert len(stream.pending) < len("[[PERSON_1]]")
        assert first + stream.feed(answer[cut:]) + stream.flush() == (
            "こんにちは 山田太郎様。[note] [[x")


def test_formats_that_cannot_be_restored_are_refused() -> None:
    assert PlaceholderFormat("<<{type}-{n}>>").render("PERSON", 3) == "<<PERSON-3>>"
    for bad in ("{type}_{n}", "[[{n}_{type}]]", "[[{type}{type}_{n}]]", "ab{type}_{n}cd",
                "[[{type}x{n}]]"):
        with pytest.raises(FormatError):
            PlaceholderFormat(bad)


WORDS = st.sampled_from(["maria", "gonzalez", "ken", "sato", "山田", "太郎", "東京", "order",
                         "refund", "は", "の", "42", "090", "1234", "[", "]", "x"])


@settings(max_examples=150, deadline=None)
@given(words=st.lists(WORDS, min_size=1, max_size=30), picks=st.data())
def test_pseudonymize_then_restore_through_any_chunking_gives_back_the_original(
    words: list[str], picks: Any,
) -> None:
    text = " ".join(words)
    starts = [i for i, w in enumerate(words) if w.isalnum()]
    chosen = picks.draw(st.lists(st.sampled_from(starts), unique=True, max_size=4)
                        if starts else st.just([]))
    offsets = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
    segments = [Segment("t0", text, loc=("texts", 0))]
    findings = [Finding("PERSON", 1.0, "t0", offsets[i], offsets[i] + len(words[i]), "t", "en")
                for i in chosen]
    pseudonyms = Pseudonyms.for_request(FORMAT, [text])
    result = replace({"texts": [text]}, segments, findings, frozenset(), frozenset({"PERSON"}),
                     pseudonyms=pseudonyms)
    sent = result.body["texts"][0]
    for i in chosen:
        if occurrences.searchable(occurrences.value_key(words[i])):
            assert f" {words[i]} " not in f" {sent} "
    cuts = sorted(picks.draw(st.lists(st.integers(0, len(sent)), max_size=6)))
    stream = Restorer(pseudonyms).stream()
    pieces = [sent[a:b] for a, b in zip([0, *cuts], [*cuts, len(sent)], strict=True)]
    assert "".join(stream.feed(p) for p in pieces) + stream.flush() == text


def test_overlapping_values_become_one_placeholder_restored_exactly() -> None:
    text = "担当: 山田太郎"
    segments = [Segment("t0", text, loc=("texts", 0))]
    findings = [Finding("PERSON", 1.0, "t0", 4, 7, "t", "ja"),   # 山田太
                Finding("PERSON", 1.0, "t0", 5, 8, "t", "ja")]   # 田太郎
    pseudonyms = Pseudonyms.for_request(FORMAT, [text])
    result = replace({"texts": [text]}, segments, findings, frozenset(), frozenset({"PERSON"}),
                     pseudonyms=pseudonyms)
    assert result.body["texts"] == ["担当: [[PERSON_1]]"]
    assert Restorer(pseudonyms).text("[[PERSON_1]]様") == "山田太郎様"
