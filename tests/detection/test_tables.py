"""Identifiers labelled by a table's header row or by their HL7 field number."""

from __future__ import annotations

import pytest
from recognizer_cases import detect

from proxy.detection.recognizers.tables import HL7PatientRecognizer, TableColumnRecognizer

TABLE = TableColumnRecognizer()
HL7 = HL7PatientRecognizer()


def found(
    recognizer: TableColumnRecognizer | HL7PatientRecognizer, text: str
) -> list[tuple[str, str]]:
    """(entity, value) in the order of the text."""
    return [(entity, text[s:e])
            for entity, s, e in sorted(detect(recognizer, text), key=lambda hit: hit[1])]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("patient_id,name,dob\nP-118223,Tanaka Hiroshi,19700312\nP-118224,Ngozi Okafor,1985-04-02",
         [("MEDICAL_RECORD", "P-118223"), ("DATE_OF_BIRTH", "19700312"),
          ("MEDICAL_RECORD", "P-118224"), ("DATE_OF_BIRTH", "1985-04-02")]),
        ("MRN\tDate of Birth\n00482913\t12/03/1970", [("MEDICAL_RECORD", "00482913"),
                                                     ("DATE_OF_BIRTH", "12/03/1970")]),
        ("| 患者ID | 生年月日 |\n| K-2231 | 昭和45年3月12日 |",
         [("MEDICAL_RECORD", "K-2231"), ("DATE_OF_BIRTH", "昭和45年3月12日")]),
        ('"birthdate";"city"\n"1970.03.12";"Osaka"', [("DATE_OF_BIRTH", "1970.03.12")]),
    ],
)
def test_columns_named_by_the_header_are_reported(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert found(TABLE, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("version,build_date\n1.2,20240101", id="other-date-column"),
        pytest.param("dob,name\nunknown,Tanaka", id="not-a-date"),
        pytest.param("dob,name\n19701312,Tanaka", id="month-13"),
        pytest.param("patient_id,dob\n", id="header-only"),
        pytest.param("patient_id,status\nTBD,open", id="not-a-number"),
        pytest.param("dob: see the form, thanks", id="prose-with-a-comma"),
    ],
)
def test_other_cells_are_not_reported(text: str) -> None:
    assert found(TABLE, text) == []


PID = ("MSH|^~\\&|HIS|HOSP|LAB|HOSP|202611281200||ADT^A01|123|P|2.5\r"
       "PID|1||P-118223^^^HOSP^MR||DOE^JANE^Q||19700312|F|||1-2-3 Chiyoda^^Tokyo|"
       "|03-5555-0123||||||318-46-2097\r"
       "PV1|1|I|W3^301^1")


def test_hl7_patient_fields_are_reported_whole() -> None:
    assert found(HL7, PID) == [
        ("MEDICAL_RECORD", "P-118223^^^HOSP^MR"), ("PERSON", "DOE^JANE^Q"),
        ("DATE_OF_BIRTH", "19700312"), ("PHONE_NUMBER", "03-5555-0123"),
        ("US_SSN", "318-46-2097"),
    ]


def test_hl7_segments_on_separate_lines_and_other_segments() -> None:
    text = PID.replace("\r", "\n")
    assert found(HL7, text) == found(HL7, PID)
    assert found(HL7, "MSH|^~\\&|HIS\nPV1|1|I|W3\nOBX|1|NM|GLU||5.4|mmol/L") == []
    assert found(HL7, "The PID|controller tuning is off") == []
