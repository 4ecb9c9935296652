"""Health data tied to a person is MEDICAL_RECORD; general medical questions are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recognizer_cases import detect, expect

from proxy.detection.recognizers.health import _EVENT, _EVENT_ANCHOR, MedicalRecordRecognizer

RECOGNIZER = MedicalRecordRecognizer()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("MRN: 00123456 for the follow-up", "00123456"),
        ("Medical record number 4471-2203 is attached", "4471-2203"),
        ("カルテ番号A-123456の記録を要約して", "A-123456"),
        ("患者ID：７７８８９９の検査結果", "７７８８９９"),
        ("診察券番号 0012345 の方", "0012345"),
    ],
)
def test_record_numbers_with_a_label_are_reported(text: str, value: str) -> None:
    assert ("MEDICAL_RECORD", value) in {
        (e, text[s:t]) for e, s, t in detect(RECOGNIZER, text)
    }


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("My father was diagnosed with lung cancer last week.", "was diagnosed"),
        ("患者の山田さんは糖尿病と診断されました。", "糖尿病と診断"),
        ("田中さんは現在入院中です", "入院中"),
        ("She is on medication for depression, can you adjust her schedule?", "on medication"),
        ("部下が抗がん剤の治療を受けているので勤務を調整したい", "抗がん剤"),
        ("部下がうつ病で3か月休職しています。", "うつ病で"),
        ("ゆうとくんの保護者様へ　本日38.5℃の発熱があり", "発熱"),  # "38.5" ends no sentence
        ("みずほ（7歳）、昨夜から喘息発作が続いており", "発作"),
    ],
)
def test_a_diagnosis_or_treatment_of_a_person_is_reported(text: str, phrase: str) -> None:
    assert ("MEDICAL_RECORD", phrase) in {
        (e, text[s:t]) for e, s, t in detect(RECOGNIZER, text)
    }


@pytest.mark.parametrize(
    "text",
    [
        "What are the symptoms of influenza?",
        "糖尿病の治療法は？",
        "How is chemotherapy given in outpatient clinics?",
        "The new drug was prescribed widely in 2020.",
        "Summarise the guideline on hypertension management.",
        "手術室の清掃手順を教えて",
        "Order 12345 shipped to the clinic",
        "うつ病で休職する人が増えている理由は？",
        "熱中症で搬送される人を減らす対策は？",
    ],
)
def test_general_medical_text_with_no_person_is_not_reported(text: str) -> None:
    assert detect(RECOGNIZER, text) == []


def test_the_span_is_the_record_number_only() -> None:
    text = "MRN 55501234 please"
    assert detect(RECOGNIZER, text) == expect(text, ("MEDICAL_RECORD", "55501234"))


@pytest.mark.parametrize(
    "text",
    [
        "Mark was diagnosed with type 2 diabetes last week.",
        "Priya started chemotherapy on Monday; please cover her shifts.",
    ],
)
def test_a_given_name_beside_health_data_ties_it_to_a_person(text: str) -> None:
    assert [e for e, _, _ in detect(RECOGNIZER, text)] == ["MEDICAL_RECORD"]


def test_an_eponymous_illness_is_not_a_person() -> None:
    assert detect(RECOGNIZER, "Patients diagnosed with Addison's disease need steroids.") == []


def _texts() -> list[str]:
    """Every message of the corpus, the holdout and the probes."""
    root = Path(__file__).resolve().parents[2]
    files = [*(root / "tests" / "detection").glob("*/*.jsonl"),
             *(root / "bench" / "probes").glob("*.jsonl")]
    out: list[str] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                messages = json.loads(line).get("request", {}).get("messages", [])
                out += [m["content"] for m in messages if isinstance(m.get("content"), str)]
    return out


def test_every_health_event_holds_an_anchor_of_the_prefilter() -> None:
    # find() reads only the sentences holding an anchor; an event without one would be missed.
    texts = _texts()
    assert len(texts) > 1000
    for text in texts + [GENERIC_EVENTS]:
        for event in _EVENT.finditer(text):
            assert _EVENT_ANCHOR.search(event.group()), event.group()


GENERIC_EVENTS = (
    "うつ病で休職中。診断名：不明。処方薬あり、服用中、服薬中、治療中、治療を受けた。通院中、入院中。"
    "肺炎のため入院し、退院した。適応障害と診断。乳がんを患う。発作、発熱、療養中、病気休暇、"
    "手術を受け、手術予定、既往歴、余命、陽性、透析、抗がん剤、化学療法。He was diagnosed with "
    "asthma, diagnosis of flu, prescribed statins, on medication, treated for burns, undergoing "
    "tests, admitted to ward 3, discharged, surgery on Monday, medical history, tested positive, "
    "chemotherapy, dialysis."
)
