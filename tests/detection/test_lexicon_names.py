"""Latin-script person names found with the name lexicon, and NER guesses it confirms."""

from __future__ import annotations

import pytest
from recognizer_cases import detect

from proxy.detection.names import lexicon
from proxy.detection.recognizers.lexicon_names import LexiconNameRecognizer
from proxy.detection.stock import confirmed_name

RECOGNIZER = LexiconNameRecognizer()


def names(text: str) -> list[str]:
    return [text[s:e] for _, s, e in detect(RECOGNIZER, text)]


def test_lexicon_holds_names_from_many_countries_and_not_ordinary_words() -> None:
    names_ = lexicon()
    for given in ("Priya", "Ingrid", "Hiroshi", "Kwame", "Mateusz", "Siobhan"):
        assert names_.is_given(given), given
    for family in ("Patel", "Adeyemi", "Halvorsen", "Tanaka", "Kowalski", "Dubois",
                   "Wiśniewska"):  # Polish feminine forms of masculine entries
        assert names_.is_family(family), family
    for word in ("Summarise", "Convert", "Python", "Kaizen", "Salary", "Mermaid"):
        assert not names_.is_name(word), word
    assert names_.is_common("will") and names_.is_common("may")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rewrite this performance review for Priya Raghunathan so it is constructive.",
         ["Priya Raghunathan"]),
        ("inspector: d. patel. Write the containment section.", ["d. patel"]),
        ("Dear Agnieszka, thank you for your order.", ["Agnieszka"]),
        ("Attendees: Mary Ann Smith, J. Okafor", ["Mary Ann Smith", "J. Okafor"]),
        ("Ask Dmitri Volkov whether the invoice was paid.", ["Dmitri Volkov"]),
        ("Chloé Lefebvre will cover the night shift.", ["Chloé Lefebvre"]),
        ("Escalate: customer Fatima Al-Sayed cannot log in.", ["Fatima Al-Sayed"]),
        ("Owner: Kenji TANAKA", ["Kenji TANAKA"]),
        ("pls draft a reply to sandra oyelaran about her refund", ["sandra oyelaran"]),
        ("ping dwayne kowalski about the build", ["dwayne kowalski"]),
        ("cheers\nbill nwachukwu, tier 2 support", ["bill nwachukwu"]),
        ("can someone ask marguerite delacroix about her PTO balance", ["marguerite delacroix"]),
        ("pls remind ottilie brandauer to sign the form", ["ottilie brandauer"]),
        ("Please draft a birthday message for Agnieszka.", ["Agnieszka"]),
        ("Her first name? Adaeze.", ["Adaeze"]),
        ("Customer Anna Wiśniewska called about her refund.", ["Anna Wiśniewska"]),
        ("Łukasz Kowalczyk approved the PO.", ["Łukasz Kowalczyk"]),
        ("Ask Kateřina Dvořáková for the report.", ["Kateřina Dvořáková"]),
        ("Password reset by J. Pryce-Evans yesterday.", ["J. Pryce-Evans"]),
    ],
)
def test_names_without_a_model(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Will Young people use the app?",  # given names that are everyday words never start one
        "The May release ships Monday.",
        "The Priya API questions are in the channel",  # acronyms are not family names
        "Migrate to Aurora by Friday.",  # a given name alone needs a cue that means a person
        "e.g. python scripts and i.e. config files",
        "Summarise Lean manufacturing in five bullets.",
        "Design a logo brief for Phoenix Logistics.",  # organisations and places
        "What is Victoria Falls famous for?",
        "Book the Grace Hopper Center for Friday.",
        "the grace period ends on friday; we sell rose gold watches",  # English words
        "set max width to auto, merge the dev branch, install ruby gems",
        "pay the bill tomorrow, mark jones as done, may smith the doors",  # everyday given names
        "the team will own the on-call rota rewrite",  # a cue word inside another word
        "ask max width settings about the grid, call rose gold suppliers about stock",
        "Ask Claude to summarise it, or tell Alexa; we use Okta for SSO.",  # products
        "Is Julia faster than Python? Write it in Haskell.",
        "Build Siri Shortcuts for the warehouse app.",
        "Lunch is in the Agnieszka garden.",  # a thing named after a person
    ],
)
def test_ordinary_text_is_not_a_name(text: str) -> None:
    assert names(text) == []


@pytest.mark.parametrize(
    ("value", "confirmed"),
    [
        ("Priya Raghunathan", True), ("Halvorsen", True), ("Kobayashi", True),
        ("田中", True),  # Japanese script is judged by the Japanese engines
        ("Summarise", False), ("Acme Support", False), ("Compute Cpk", False), ("Git", False),
        ("Claude", False), ("Compare Claude", False), ("Travis CI", False),
        ("Claude Dubreuil", True), ("Nguyễn Văn Hùng", True),
    ],
)
def test_ner_guesses_are_confirmed_by_the_lexicon(value: str, confirmed: bool) -> None:
    assert confirmed_name(value) is confirmed


@pytest.mark.parametrize(
    ("value", "following", "confirmed"),
    [
        ("Victoria Falls", "", False), ("Aurora", "cluster", False),
        ("Jenkins", "pipelines", False), ("Austin", "office", False),
        ("Maria Lopez", "office", True), ("Austin", "said", True),
    ],
)
def test_names_of_things_are_not_confirmed(value: str, following: str, confirmed: bool) -> None:
    assert confirmed_name(value, following) is confirmed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Summarise the complaint from Mr Okonkwo about the delivery.", ["Okonkwo"]),
        ("Notify Dr. Ahmed Hassan that the results are ready.", ["Ahmed Hassan"]),
        ("Draft a condolence note to the family of Siobhan O'Connell.", ["Siobhan O'Connell"]),
        ("Book a call with Fiona McDonald.", ["Fiona McDonald"]),
    ],
)
def test_titles_and_irish_and_scottish_family_names(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("000231THORNBURY  MARGARET A     19570922F", ["THORNBURY  MARGARET"],
                     id="fixed-width-record"),
        pytest.param("  1.OLSEN/DEREK MR   2.OLSEN/KAREN MRS", ["OLSEN/DEREK", "OLSEN/KAREN"],
                     id="airline-booking"),
        pytest.param("CUSTOMER: JOHN SMITH, ACCT 1182", ["JOHN SMITH"], id="mainframe-caps"),
        pytest.param("GRACE PERIOD ENDS", [], id="english-words"),
        pytest.param("SWIFT/BIC DEUTDEFF", [], id="acronyms"),
        pytest.param("README FILE, ERROR CODE, TOKYO STATION", [], id="headings"),
    ],
)
def test_names_in_capitals_are_found(text: str, expected: list[str]) -> None:
    assert [n for n in names(text) if n.isupper() or "/" in n] == expected


@pytest.mark.parametrize("later", [
    "What did Florence Nightingale contribute to modern nursing?",
    "Thanks, Maria Gonzalez",
])
def test_a_name_further_on_hides_no_name_before_it(later: str) -> None:
    # The other rules once skipped everything before the end of the last title-case full name:
    # a booking's names in capitals, a lower-case name or a lone given name before it leaked.
    for first, expected in (("Explain this PNR: 1.OKONKWO/CHIDI MR 2.OKONKWO/ADA MRS",
                             ["OKONKWO/CHIDI", "OKONKWO/ADA"]),
                            ("reply to sandra oyelaran about the invoice.", ["sandra oyelaran"]),
                            ("Ask Agnieszka about it.", ["Agnieszka"])):
        found = names(first + "\n" + later)
        for value in expected:
            assert value in found, (value, found)
