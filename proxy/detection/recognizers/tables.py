"""Identifiers in tables and HL7 messages, where the label is a column header or a field number.

Prose puts a label next to each value ("DOB 1970-03-12"); exports do not. A CSV or TSV pasted
into a prompt names the column once in its header row (``patient_id,dob``) and a hospital's HL7
v2 message (SS-MIX2 stores Japanese hospitals' records as HL7 v2.5) names nothing at all: the
third field of its ``PID`` segment is the patient identifier, the fifth the patient's name, the
seventh the date of birth. Without these a record export reaches the cloud with only its
names caught.

``column_cells`` is shared with the name columns of ``structured_names``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from proxy.detection import quickre
from proxy.detection.recognizers.base import Hit, PatternRecognizer
from proxy.detection.recognizers.japan import DATE_PATTERN, plausible_date

__all__ = ["HL7PatientRecognizer", "TableColumnRecognizer", "column_cells"]

_SEPARATORS = (",", "\t", ";", "|")


def column_cells(
    text: str, is_header: Callable[[str], str | None]
) -> Iterator[tuple[str, int, str]]:
    """(kind, start, value) for every cell under a header cell ``is_header`` gives a kind.

    A header row is any line holding a separator (comma, tab, semicolon or pipe) with at least
    one such cell; the rows below it belong to it while they hold as many separators, up to
    the next header row (a table that repeats its header per page, or the next table). So each
    line is read once, as a header or as a row of the nearest header above it: reading every
    row under every header above it made a text of header lines cost the square of its
    lines. ``value`` is the cell without blanks and quotes; ``start`` is where it begins in
    ``text``.
    """
    table: tuple[str, int, list[tuple[int, str]]] | None = None
    pos = 0
    for line in text.split("\n"):
        offset = pos
        pos += len(line) + 1
        separator = next((s for s in _SEPARATORS if s in line), None)
        if separator is None:
            table = None
            continue
        cells = line.split(separator)
        columns = [(k, kind) for k, cell in enumerate(cells) if (kind := is_header(cell))]
        if columns:
            table = (separator, len(cells), columns)
            continue
        if table is None:
            continue
        separator, width, columns = table
        if line.count(separator) < width - 1 or not line.strip():
            table = None
            continue
        cells = line.split(separator)
        starts = []
        cell_start = offset
        for cell in cells:
            starts.append(cell_start)
            cell_start += len(cell) + 1
        for k, kind in columns:
            if k < len(cells):
                raw = cells[k]
                value = raw.strip().strip("\"'")
                if value:
                    yield kind, starts[k] + raw.index(value), value


_DOB_HEADER = quickre.compile(
    r"^\s*[\"']?(?:d\.?o\.?b|date[ _-]?of[ _-]?birth|birth[ _-]?(?:date|day)|birthdate|"
    r"生年月日|誕生日)[\"']?\s*$",
    re.IGNORECASE,
)
_RECORD_HEADER = quickre.compile(
    r"^\s*[\"']?(?:mrn|medical[ _-]?record(?:[ _-]?(?:no|number|id))?|"
    r"patient[ _-]?(?:id|no|number)|chart[ _-]?(?:no|number)|患者\s*(?:id|番号)|カルテ\s*番号|"
    r"診察券\s*番号)[\"']?\s*$",
    re.IGNORECASE,
)
_RECORD_VALUE = quickre.compile(r"[A-Za-z]{0,3}-?\d[\d-]{3,14}[A-Za-z]?")


def _column_kind(cell: str) -> str | None:
    if _DOB_HEADER.match(cell):
        return "DATE_OF_BIRTH"
    if _RECORD_HEADER.match(cell):
        return "MEDICAL_RECORD"
    return None


class TableColumnRecognizer(PatternRecognizer):
    """Dates of birth and patient numbers in the columns of CSV, TSV and pipe tables."""

    ENTITIES = ("DATE_OF_BIRTH", "MEDICAL_RECORD")
    CONTEXT = ("dob", "生年月日", "patient", "患者", "mrn", "カルテ")
    GATE = ("dob", "d.o.b", "birth", "生年月日", "誕生日", "mrn", "record", "patient", "chart",
            "患者", "カルテ", "診察券")

    def find(self, text: str) -> Iterable[Hit]:
        for kind, start, value in column_cells(text, _column_kind):
            if kind == "DATE_OF_BIRTH":
                m = DATE_PATTERN.fullmatch(value)
                if m is not None and plausible_date(m):
                    yield Hit(kind, start, start + len(value), 0.85, "birth-date-column", True)
            elif _RECORD_VALUE.fullmatch(value):
                yield Hit(kind, start, start + len(value), 0.85, "record-number-column", True)


# One HL7 v2 segment per line (HL7 separates segments with CR; NFKC and copy-paste leave CR,
# LF or both). MSH-1 declares the field separator; PID segments use the same one.
_PID = quickre.compile(r"(?m)^PID(?P<sep>[|^~\\&])")


class HL7PatientRecognizer(PatternRecognizer):
    """The patient in an HL7 v2 ``PID`` segment: identifiers (PID-2, PID-3, PID-4), name and
    alias (PID-5, PID-9), date of birth (PID-7), phone numbers (PID-13, PID-14), SSN (PID-19)
    and driver's licence (PID-20). Each field is reported whole, components and all, so
    redaction leaves the segment's structure intact. The address (PID-11) has no entity of its
    own outside Japan; the name and birth date beside it already keep the segment on-prem."""

    ENTITIES = ("MEDICAL_RECORD", "PERSON", "DATE_OF_BIRTH", "PHONE_NUMBER", "US_SSN",
                "US_DRIVER_LICENSE")
    CONTEXT = ("pid", "hl7", "patient", "患者")
    GATE = ("pid",)
    _FIELDS = {2: "MEDICAL_RECORD", 3: "MEDICAL_RECORD", 4: "MEDICAL_RECORD", 5: "PERSON",
               7: "DATE_OF_BIRTH", 9: "PERSON", 13: "PHONE_NUMBER", 14: "PHONE_NUMBER",
               19: "US_SSN", 20: "US_DRIVER_LICENSE"}

    def find(self, text: str) -> Iterable[Hit]:
        lines = text.replace("\r", "\n")
        for m in _PID.finditer(lines):
            separator = m.group("sep")
            line_end = lines.find("\n", m.end())
            line_end = len(lines) if line_end < 0 else line_end
            start = m.end()
            for number, field in enumerate(lines[start:line_end].split(separator), start=1):
                kind = self._FIELDS.get(number)
                if kind is not None and any(ch.isalnum() for ch in field):
                    yield Hit(kind, start, start + len(field), 0.9, f"hl7-pid-{number}", True)
                start += len(field) + 1
