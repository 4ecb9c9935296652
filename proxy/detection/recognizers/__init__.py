"""Sekisho's own Presidio recognizers: Japanese identifiers, credentials, and the shapes of
cards, IBANs, US identifiers, e-mail addresses and phone numbers that Presidio's misses.

Presidio ships nothing for Japan and nothing for API keys, so these fill the gap. They all share
one small base, :class:`RegexRecognizer`: precompiled regexes, a validator where the identifier
has one (check digits, JWT headers), and a context check done by the recognizer itself. The
self-check matters because Presidio's context enhancer compares spaCy lemmas, which works poorly
for Japanese compounds (``運転免許証番号`` is one token or three depending on the model) and not
at all when a recognizer is called without an NLP engine; identifiers that mean nothing without a
label (a 7-digit bank account, a 12-digit licence) would otherwise be either missed or reported
everywhere. Context words are still passed to Presidio (``context=[...]``) so explanations and
the enhancer see them, but a result whose context was already checked is marked as enhanced so it
is not boosted twice.

Recognizers see the NFKC-normalised text (see ``proxy.detection.normalize``) and report spans in
it; mapping back to the original is the detector's job.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import phonenumbers
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

__all__ = [
    "CONTEXT_BOOST",
    "Hit",
    "LabelledNumberRecognizer",
    "RegexRecognizer",
    "common_recognizers",
    "context_before",
    "context_near",
    "luhn_valid",
    "sekisho_recognizers",
]

# What a supporting context word adds to a self-contained identifier's score. The same size as
# Presidio's default enhancer factor (0.35) would push weak patterns (a bare 10-digit landline)
# too close to certain; 0.2 keeps "pattern + label" clearly below "pattern + checksum + label".
CONTEXT_BOOST = 0.2


@dataclass(frozen=True, slots=True)
class Hit:
    """One finding of a recognizer, before it becomes a Presidio ``RecognizerResult``.

    ``rule`` names the pattern that fired (for ``explain``), never the matched text, so that
    explanations can be logged without leaking the value. ``context_checked`` says the score
    already accounts for a context word, so Presidio's enhancer must leave it alone.
    """

    entity: str
    start: int
    end: int
    score: float
    rule: str
    context_checked: bool = False


class RegexRecognizer(EntityRecognizer):
    """Base of all Sekisho recognizers: subclasses implement :meth:`find`.

    ``analyze`` is called by Presidio's ``AnalyzerEngine`` (or directly, with
    ``nlp_artifacts=None``, in tests and benchmarks). It never needs the NLP artifacts: everything
    is regex, validator and a context window, so it runs in microseconds per kilobyte and behaves
    the same for every language it is registered for.
    """

    ENTITIES: ClassVar[tuple[str, ...]]
    CONTEXT: ClassVar[tuple[str, ...]]
    # Lower-case substrings of which every finding contains, or has next to it, at least one.
    # Checked with ``in`` before any regex runs: most texts hold no API key and no 免許 label,
    # and a substring test is a hundred times cheaper than scanning with a pattern.
    GATE: ClassVar[tuple[str, ...]] = ()

    def __init__(self, language: str) -> None:
        self.label: str = type(self).__name__
        super().__init__(
            supported_entities=list(self.ENTITIES),
            name=self.label,
            supported_language=language,
            context=list(self.CONTEXT),
        )

    def load(self) -> None:
        """Nothing to load: the patterns are compiled once, at import."""

    @abstractmethod
    def find(self, text: str) -> Iterable[Hit]:
        """Yield every finding in ``text`` (normalised), scores already final."""

    def analyze(
        self,
        text: str,
        entities: list[str] | None,
        nlp_artifacts: NlpArtifacts | None = None,
    ) -> list[RecognizerResult]:
        """Run :meth:`find` and wrap its hits as Presidio results for the requested entities."""
        wanted = set(entities) if entities else set(self.supported_entities)
        if wanted.isdisjoint(self.supported_entities):
            return []
        if self.GATE:
            lowered = text.lower()
            if not any(word in lowered for word in self.GATE):
                return []
        results: list[RecognizerResult] = []
        for hit in self.find(text):
            if hit.entity not in wanted or hit.score <= 0:
                continue
            explanation = AnalysisExplanation(
                recognizer=self.label,
                original_score=hit.score,
                pattern_name=hit.rule,
                textual_explanation=f"Detected by `{self.label}` using rule `{hit.rule}`",
            )
            results.append(
                RecognizerResult(
                    entity_type=hit.entity,
                    start=hit.start,
                    end=hit.end,
                    score=min(hit.score, 1.0),
                    analysis_explanation=explanation,
                    recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: self.label,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: hit.context_checked,
                    },
                )
            )
        return EntityRecognizer.remove_duplicates(results)


def context_before(
    text: str, start: int, words: re.Pattern[str], window: int
) -> re.Match[str] | None:
    """The last context word ending at most ``window`` characters before ``start``, if any."""
    last: re.Match[str] | None = None
    for match in words.finditer(text, max(0, start - window), start):
        last = match
    return last


def context_near(
    text: str, start: int, end: int, words: re.Pattern[str], before: int, after: int = 0
) -> bool:
    """Whether a context word ends within ``before`` chars before, or starts within ``after``
    chars after, the span ``[start, end)``."""
    if context_before(text, start, words, before) is not None:
        return True
    return after > 0 and words.search(text, end, min(len(text), end + after)) is not None


class LabelledNumberRecognizer(RegexRecognizer):
    """A pattern that means nothing alone, reported only with a label within the window."""

    PATTERN: ClassVar[re.Pattern[str]]
    LABELS: ClassVar[re.Pattern[str]]
    SCORE: ClassVar[float] = 0.85
    BEFORE: ClassVar[int] = 30
    AFTER: ClassVar[int] = 15

    def accept(self, text: str, match: re.Match[str]) -> bool:
        """Extra validation of one match; the default accepts every match."""
        return True

    def find(self, text: str) -> Iterator[Hit]:
        entity = self.ENTITIES[0]
        for m in self.PATTERN.finditer(text):
            if not self.accept(text, m):
                continue
            if context_near(text, m.start(), m.end(), self.LABELS, self.BEFORE, self.AFTER):
                yield Hit(entity, m.start(), m.end(), self.SCORE, entity.lower() + "_context", True)


# ---------------------------------------------------------------------------------------------
# Shapes Presidio's own recognizers miss
#
# Presidio's card and IBAN patterns accept only upper-case IBANs and cards grouped by spaces or
# hyphens; its US identifiers without dashes score too low for any policy to act on even next
# to their label (a 9-digit SSN: 0.05); its phone matcher rejects the "+44 (0)20" trunk
# notation of European signatures. Each recognizer here reports only what Presidio misses, so
# the two never disagree about the same span.


def luhn_valid(digits: str) -> bool:
    """The Luhn check of a string of digits (payment cards)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# 13-19 digits in groups of 3-6 joined by dots, middle dots, slashes or underscores
# (4539.1488.0343.6467, 4556/7375/8689/9855; full-width forms after NFKC), one separator kind
# per number; hyphen and space groupings are Presidio's. Not part of a longer run.
_DOTTED_CARD = re.compile(
    r"[2-6](?<![0-9A-Za-z./_][2-6])\d{3}([./_・])[ ]?\d{3,6}(?:\1[ ]?\d{3,6}){1,3}"
    r"(?![0-9A-Za-z])(?![./_・]\d)"
)


class DottedCardRecognizer(RegexRecognizer):
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
_SPACED_CARD = re.compile(r"[2-6](?<![0-9A-Za-z][2-6])\d{0,5}(?: \d{1,6}){2,8}(?![0-9A-Za-z])")
_CARD_WORDS = re.compile(
    r"(?i:\bcards?\b|\bcredit\b|\bvisa\b|master\s?card|\bamex\b|\bjcb\b|\bpan\b)"
    r"|カード|クレジット"
)


class SpacedCardRecognizer(RegexRecognizer):
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
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})(\d{2})")


def iban_valid(iban: str) -> bool:
    """ISO 7064 mod 97-10 over an IBAN without separators (any case)."""
    value = iban.upper()
    if IBAN_LENGTHS.get(value[:2]) != len(value) or not value.isalnum():
        return False
    rearranged = value[4:] + value[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


class LowerCaseIbanRecognizer(RegexRecognizer):
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
_TRUNK_PHONE = re.compile(
    r"\+(?<![0-9A-Za-z+]\+)(?P<cc>[1-9]\d{0,2})[ .-]?\(0\)[ .-]?(?P<rest>\d[\d .-]{4,16}\d)"
    r"(?![0-9])"
)


class TrunkPrefixPhoneRecognizer(RegexRecognizer):
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


def common_recognizers(language: str) -> list[EntityRecognizer]:
    """Recognizers for shapes of cards, IBANs, US identifiers, e-mail and phone numbers that
    Presidio's own recognizers miss."""
    return [
        DottedCardRecognizer(language),
        SpacedCardRecognizer(language),
        LowerCaseIbanRecognizer(language),
        UsSsnLabelledRecognizer(language),
        UsPassportLabelledRecognizer(language),
        UsDriverLicenseLabelledRecognizer(language),
        UsBankAccountLabelledRecognizer(language),
        TrunkPrefixPhoneRecognizer(language),
    ]


def sekisho_recognizers(language: str) -> list[EntityRecognizer]:
    """Every Sekisho recognizer for one language (Japanese, credential and common ones)."""
    # Imported here, not at the top: the submodules import the base class from this package.
    from proxy.detection.recognizers.addresses import address_recognizers
    from proxy.detection.recognizers.health import health_recognizers
    from proxy.detection.recognizers.japan import japan_recognizers
    from proxy.detection.recognizers.lexicon_names import lexicon_name_recognizers
    from proxy.detection.recognizers.romaji_names import romaji_name_recognizers
    from proxy.detection.recognizers.secrets import secret_recognizers
    from proxy.detection.recognizers.structured_names import structured_name_recognizers
    from proxy.detection.recognizers.tables import table_recognizers
    from proxy.detection.recognizers.world_names import world_name_recognizers

    return [
        *japan_recognizers(language), *secret_recognizers(language),
        *common_recognizers(language), *health_recognizers(language),
        *structured_name_recognizers(language), *romaji_name_recognizers(language),
        *lexicon_name_recognizers(language), *table_recognizers(language),
        *world_name_recognizers(language), *address_recognizers(language),
    ]
