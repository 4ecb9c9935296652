"""Shapes of cards, IBANs, US identifiers and phone numbers that Presidio's recognizers miss.

Presidio's card and IBAN patterns accept only upper-case IBANs and cards grouped by spaces or
hyphens; its US identifiers without dashes score too low for any policy to act on even next
to their label (a 9-digit SSN: 0.05); its phone matcher rejects the "+44 (0)20" trunk
notation of European signatures. Each recognizer here reports only what Presidio misses, so
the two never disagree about the same span.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

import phonenumbers

from proxy.detection import quickre
from proxy.detection.recognizers.base import (
    Hit,
    LabelledNumberRecognizer,
    PatternRecognizer,
    context_before,
    context_near,
    luhn_valid,
)

# 13-19 digits in groups of 3-6 joined by dots, middle dots, slashes or underscores
# (4539.1488.0343.6467, 4556/7375/8689/9855; full-width forms after NFKC), one separator kind
# per number; hyphen and space groupings are Presidio's. Not part of a longer run.
_DOTTED_CARD = quickre.compile(
    r"[2-6](?<![0-9A-Za-z./_][2-6])\d{3}([./_・])[ ]?\d{3,6}(?:\1[ ]?\d{3,6}){1,3}"
    r"(?![0-9A-Za-z])(?![./_・]\d)"
)


class DottedCardRecognizer(PatternRecognizer):
    """Card numbers grouped with dots, slashes or underscores (``4539.1488.0343.6467``).

    Luhn-checked; a date or a version string never has 13-19 digits in three to five groups.
    """

    ENTITIES = ("CREDIT_CARD",)
    CONTEXT = ("card", "credit", "visa", "mastercard", "amex", "カード", "クレジット")
    GATE = (".", "・", "/", "_")
    SCORE: ClassVar[float] = 0.9

    def find(self, text: str) -> Iterator[Hit]:
        for m in _DOTTED_CARD.finditer(text):
            digits = "".join(ch for ch in m.group() if ch.isdigit())
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                yield Hit("CREDIT_CARD", m.start(), m.end(), self.SCORE, "card_dotted_luhn")


# 13-19 digits in irregular space-separated groups, as a card number is read out over the phone
# ("5425 23 3430 10 9903"); regular 4-4-4-4 grouping is Presidio's.
_SPACED_CARD = quickre.compile(r"[2-6](?<![0-9A-Za-z][2-6])\d{0,5}(?: \d{1,6}){2,8}(?![0-9A-Za-z])")
_CARD_WORDS = quickre.compile(
    r"(?i:\bcards?\b|\bcredit\b|\bvisa\b|master\s?card|\bamex\b|\bjcb\b|\bpan\b)"
    r"|カード|クレジット"
)


class SpacedCardRecognizer(PatternRecognizer):
    """Card numbers in irregular digit groups, Luhn-checked and next to a card word.

    Any run of spaced numbers passes Luhn one time in ten, so the label is required.
    """

    ENTITIES = ("CREDIT_CARD",)
    CONTEXT = ("card", "credit", "visa", "mastercard", "amex", "カード", "クレジット")
    GATE = ("card", "credit", "visa", "master", "amex", "jcb", "pan", "カード", "クレジット")
    SCORE: ClassVar[float] = 0.8

    def find(self, text: str) -> Iterator[Hit]:
        for m in _SPACED_CARD.finditer(text):
            digits = "".join(ch for ch in m.group() if ch.isdigit())
            if (13 <= len(digits) <= 19 and luhn_valid(digits)
                    and context_near(text, m.start(), m.end(), _CARD_WORDS, before=40)):
                yield Hit("CREDIT_CARD", m.start(), m.end(), self.SCORE, "card_spaced_luhn_label",
                          True)


# Total IBAN length per country (ISO 13616 registry, the countries our users pay into).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28,
    "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23,
    "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "LI": 21, "LT": 20,
    "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "QA": 29,
    "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26, "UA": 29, "VA": 22,
}
_IBAN_START = quickre.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")


def iban_valid(iban: str) -> bool:
    """ISO 7064 mod 97-10 over an IBAN without separators (any case)."""
    value = iban.upper()
    if IBAN_LENGTHS.get(value[:2]) != len(value) or not value.isalnum():
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


class LowerCaseIbanRecognizer(PatternRecognizer):
    """IBANs typed in lower or mixed case (``gb33bukb…``), which Presidio's pattern misses.

    The length comes from the country code, so the match never runs into the next word; single
    spaces or hyphens between characters are allowed, as in printed groups of four.
    """

    ENTITIES = ("IBAN_CODE",)
    CONTEXT = ("iban", "bank", "account", "口座", "送金")
    SCORE: ClassVar[float] = 0.85

    def find(self, text: str) -> Iterator[Hit]:
        for m in _IBAN_START.finditer(text):
            length = IBAN_LENGTHS.get(m.group(1).upper())
            if length is None:
                continue
            chars = [*m.group(1), *m.group(2)]
            pos = m.end()
            while len(chars) < length and pos < len(text):
                ch = text[pos]
                if ch.isascii() and ch.isalnum():
                    chars.append(ch)
                elif ch in " -" and pos + 1 < len(text) and text[pos + 1].isalnum():
                    pass
                else:
                    break
                pos += 1
            if len(chars) != length or (pos < len(text) and text[pos].isascii()
                                        and text[pos].isalnum()):
                continue
            value = "".join(chars)
            # All upper case is Presidio's IbanRecognizer's; reporting it twice adds nothing.
            if value != value.upper() and iban_valid(value):
                yield Hit("IBAN_CODE", m.start(), pos, self.SCORE, "iban_any_case")


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


class UsSsnLabelledRecognizer(LabelledNumberRecognizer):
    """A US SSN next to its label, however grouped (``"ssn": "318462097"``, ``SSN# 509 33
    8172``, ``SSN 287-55-3310``): Presidio scores the unlabelled shapes too low to act on.
    Area 001-899 except 666, group and serial not zero."""

    ENTITIES = ("US_SSN",)
    CONTEXT = ("ssn", "social security", "社会保障番号")
    GATE = ("ssn", "social security", "soc sec", "社会保障")
    PATTERN = re.compile(r"\d(?<![0-9A-Za-z]\d)(?<![0-9][-./]\d)\d{2}([- ]?)\d{2}\1\d{4}"
                         r"(?![0-9A-Za-z])(?![-./][0-9])")
    LABELS = _words(r"(?<![a-z])ssn", r"social[ _-]*security", r"soc[ .]*sec", r"社会保障番号")
    AFTER = 0

    def accept(self, text: str, match: re.Match[str]) -> bool:
        digits = "".join(ch for ch in match.group() if ch.isdigit())
        area, group, serial = int(digits[:3]), digits[3:5], digits[5:]
        return 0 < area < 900 and area != 666 and group != "00" and serial != "0000"


class UsPassportLabelledRecognizer(LabelledNumberRecognizer):
    """A US passport number (9 digits, or a letter and 8 digits) next to a passport label."""

    ENTITIES = ("US_PASSPORT",)
    CONTEXT = ("passport", "パスポート", "旅券")
    GATE = ("passport", "パスポート", "旅券")
    PATTERN = re.compile(
        r"[A-Z0-9](?<![0-9A-Za-z][A-Z0-9])\d{8}(?![0-9A-Za-z])(?![-./][0-9])"
    )
    LABELS = _words(r"passport", r"パスポート", r"旅券")


class UsDriverLicenseLabelledRecognizer(LabelledNumberRecognizer):
    """A US driver's licence number (state formats: 1-2 letters and 4-14 digits, or 7-9 digits)
    next to a driver's-licence label. Twelve digits are Japan's (``JP_DRIVER_LICENSE``)."""

    ENTITIES = ("US_DRIVER_LICENSE",)
    CONTEXT = ("driver's license", "driver license", "driving licence", "dl", "運転免許")
    GATE = ("licen", "dl")
    PATTERN = re.compile(
        r"(?:[A-Z](?<![0-9A-Za-z][A-Z])[A-Z]?\d{4,14}|\d(?<![0-9A-Za-z]\d)\d{6,8})"
        r"(?![0-9A-Za-z])(?![-./][0-9])"
    )
    LABELS = _words(
        r"driv(?:er'?s?|ing)[ _-]*licen[cs]e",
        r"(?<![a-z])licen[cs]e[ _-]*(?:no|number|#)",
        r"(?<![A-Za-z])DL[ _-]*(?:no|number|#)",
    )


class UsBankAccountLabelledRecognizer(LabelledNumberRecognizer):
    """A bank account number of 8-17 digits right after an account label.

    The label must come first with nothing but punctuation in between, so in "routing number
    021000021, checking account number 483920174455" only the account is reported; 7-digit
    Japanese accounts are ``JP_BANK_ACCOUNT``'s.
    """

    _BETWEEN = re.compile(r"[\s:#.=\"'\-]*(?:is[\s:]+)?")

    ENTITIES = ("US_BANK_NUMBER",)
    CONTEXT = ("account number", "checking", "savings", "bank account", "acct")
    GATE = ("account", "acct", "a/c", "checking", "savings")
    PATTERN = re.compile(r"\d(?<![0-9A-Za-z]\d)(?<![0-9][-./]\d)\d{7,16}"
                         r"(?![0-9A-Za-z])(?![-./][0-9])")
    LABELS = _words(
        r"(?<![a-z])(?:checking|savings|deposit|bank)[ _-]*(?:account|acct|a/c)"
        r"(?:[ _-]*(?:no|number|num|#))?",
        r"(?<![a-z])(?:account|acct|a/c)[ _-]*(?:no|number|num|#)",
    )
    AFTER = 0

    def accept(self, text: str, match: re.Match[str]) -> bool:
        label = context_before(text, match.start(), self.LABELS, self.BEFORE)
        if label is None or not self._BETWEEN.fullmatch(text, label.end(), match.start()):
            return False
        digits = match.group()
        return not (13 <= len(digits) <= 19 and digits[0] in "3456" and luhn_valid(digits))


# +44 (0)20 7946 0321, +49 (0) 30 901820: the national trunk 0 in brackets after the country
# code. Japan's (+81 (0)3 …) is JP_PHONE_NUMBER's.
_TRUNK_PHONE = quickre.compile(
    r"\+(?<![0-9A-Za-z+]\+)(?P<cc>[1-9]\d{0,2})[ .-]?\(0\)[ .-]?(?P<rest>\d[\d .-]{4,16}\d)"
    r"(?![0-9])"
)


class TrunkPrefixPhoneRecognizer(PatternRecognizer):
    """International numbers with the bracketed trunk zero, validated with libphonenumber."""

    ENTITIES = ("PHONE_NUMBER",)
    CONTEXT = ("phone", "tel", "mobile", "電話")
    GATE = ("(0)",)
    SCORE: ClassVar[float] = 0.7

    def find(self, text: str) -> Iterator[Hit]:
        for m in _TRUNK_PHONE.finditer(text):
            if m.group("cc") == "81":
                continue
            digits = "".join(ch for ch in m.group("rest") if ch.isdigit())
            try:
                number = phonenumbers.parse(f"+{m.group('cc')}{digits}", None)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                yield Hit("PHONE_NUMBER", m.start(), m.end(), self.SCORE, "phone_trunk_prefix")
