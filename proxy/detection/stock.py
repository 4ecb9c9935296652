"""Presidio's own recognizers that Sekisho uses, made safe to run offline."""

from __future__ import annotations

import re

import phonenumbers
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    CreditCardRecognizer,
    CryptoRecognizer,
    EmailRecognizer,
    IbanRecognizer,
    IpRecognizer,
    MedicalLicenseRecognizer,
    PhoneRecognizer,
    SpacyRecognizer,
    UrlRecognizer,
    UsBankRecognizer,
    UsItinRecognizer,
    UsLicenseRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)

from proxy.detection.domains import has_public_suffix
from proxy.detection.names import (
    LATIN_LOWER,
    LATIN_UPPER,
    is_product_name,
    is_thing_word,
    lexicon,
)
from proxy.detection.recognizers.japan import is_japanese_number
from proxy.detection.recognizers.romaji_names import name_kind

# Japan is left out on purpose: Japanese numbers are JP_PHONE_NUMBER, from our own recognizer.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "AU", "SG", "KR", "CN", "TW", "HK", "BR")


# A stretch of digits and the separators people put in phone numbers, with at least 7 digits
# (no valid number in PHONE_REGIONS is shorter).
_PHONE_CANDIDATE = re.compile(r"[+(]?\d[\d \t().\-/]{5,}\d")
_MIN_PHONE_DIGITS = 7
_ISO_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_BARE_DIGITS_SCORE = 0.3
# A code glued to the digits by a hyphen: "#A-4417-9920", "CS-2024-118823", "INV-…". Nobody
# writes a phone number that way, but order, ticket and case numbers look like this.
_ID_PREFIX = re.compile(r"(?<![A-Za-z])([A-Za-z]{1,6})[-_]$")
_PHONE_WORDS = frozenset({"tel", "fax", "phone", "mobile", "mob", "cell", "ph", "call"})
# ... or named as an identifier: "lot 240611-07", "serial no. 4417 9920", "製番 2406-1107".
_ID_WORD = re.compile(
    r"(?i:\b(?:lot|batch|order|invoice|ticket|case|serial|part|po|sku|item|ref|build|version|"
    r"model|job|run|tracking)\b\.?(?:[ \t]*(?:no\b\.?|number|#|id\b))?)"
    r"|ロット|注文|伝票|製番|品番|型番|製造番号|受付番号|問い合わせ番号|管理番号"
)
_ID_WORD_END = re.compile(r"[ \t]*[:#：]?[ \t]*$")
# Business lines, not a person's: toll-free, shared-cost and premium numbers of any country
# (1-800-…, 0800 …; Japan's 0120 has its own recognizer).
_PUBLIC_NUMBER_TYPES = frozenset({
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.UAN,
})


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phonenumbers-based recognizer, run only where a phone number could be.

    ``PhoneNumberMatcher`` parses every digit group of the whole text once per region, which
    made it the costliest recognizer. Here it runs on each candidate stretch (plus one character
    on each side, so its boundary checks still see the neighbours), one region at a time, and
    stops as soon as a number covers every digit of the stretch: another region could only
    report the same span or a part of it, which Presidio's duplicate removal drops anyway. A
    stretch that is a Japanese number is left to the Japanese recognizers, whose finding would
    shadow this one. Results map back by offset.
    """

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for m in _PHONE_CANDIDATE.finditer(text):
            if sum(ch.isdigit() for ch in m.group()) < _MIN_PHONE_DIGITS:
                continue
            prefix = _ID_PREFIX.search(text, max(m.start() - 8, 0), m.start())
            if prefix is not None and prefix.group(1).lower() not in _PHONE_WORDS:
                continue
            if _names_an_identifier(text, m.start()) or _ISO_DATE.match(m.group()):
                continue  # "[2024-11-05 03:14:07]": a timestamp, whatever follows the date
            start = max(m.start() - 1, 0)
            window = text[start:m.end() + 1]
            first, last = m.start() - start, m.end() - start
            # The Japanese recognizers' span starts at the first digit or at "(" / "+".
            digits_from = first + len(m.group()) - len(m.group().lstrip("+("))
            if is_japanese_number(window, digits_from, last):
                continue
            for r in self._in_window(window, first, last):
                value = window[r.start:r.end]
                if _ISO_DATE.match(value):
                    continue  # "2024-03-14 09": a timestamp, not a number to call
                if value.isdigit():
                    # A bare digit run (no +, no separators) is as often an order number,
                    # barcode or CUSIP as a phone number: it needs a context word ("tel",
                    # "call") to count, which Presidio's enhancer adds.
                    r.score = _BARE_DIGITS_SCORE
                r.start += start
                r.end += start
                results.append(r)
        return EntityRecognizer.remove_duplicates(results)

    def _in_window(self, window: str, first: int, last: int) -> list[RecognizerResult]:
        # An international number parses the same whatever the default region: once.
        regions = self.supported_regions[:1] if "+" in window else self.supported_regions
        found: list[RecognizerResult] = []
        for region in regions:
            for match in phonenumbers.PhoneNumberMatcher(window, region,
                                                         leniency=self.leniency or 0):
                covers = match.start <= first and match.end >= last
                if phonenumbers.number_type(match.number) in _PUBLIC_NUMBER_TYPES:
                    if covers:
                        return found  # a company's public line: no other reading counts
                    continue
                number_region = phonenumbers.region_code_for_number(match.number) or region
                found.append(self._get_recognizer_result(  # type: ignore[no-untyped-call]
                    match, window, number_region, None))
                if covers:
                    return found
        return found


def _names_an_identifier(text: str, start: int) -> bool:
    """Whether the words just before ``start`` call the number an identifier ("lot", "製番")."""
    before = text[max(start - 24, 0):start]
    end = _ID_WORD_END.search(before)
    head = before[:end.start()] if end is not None else before
    return any(m.end() == len(head) for m in _ID_WORD.finditer(head))


class CardRecognizer(CreditCardRecognizer):
    """Presidio's card recognizer, minus JAN barcodes.

    13-digit Visa numbers are no longer issued; 13 digits starting 45 or 49 that pass Luhn are
    JAN (EAN-13) product codes, common in Japanese retail and manufacturing text.
    """

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = "".join(ch for ch in pattern_text if ch.isdigit())
        return len(digits) == 13 and digits[:2] in ("45", "49")


# Characters no person's name contains: spaCy's small English model tags identifiers, paths,
# code and masked fragments of mixed text as PERSON. (Lowering the score of all-lower-case
# spans or of a lone capitalised word opening a sentence was measured too: both cut
# over-routing but leaked real names — "pls write to dwayne kowalski" — so no.)
_NOT_IN_NAMES = frozenset("0123456789@_/=:{}<>#\\|$%^*+[]();\"`~")


def plausible_name(value: str) -> bool:
    letters = [ch for ch in value if ch.isalpha()]
    return (
        len(value) <= 60
        and bool(letters)
        and not any(ch in _NOT_IN_NAMES for ch in value)
        and set("".join(letters).lower()) != {"x"}  # XXX-XXXX placeholders
    )


# What a Latin-script NER "person" keeps when no word of it is a known name: below the default
# policy's PERSON threshold (0.6), so it is reported (explain shows it) without routing on its
# own. Measured on the corpus: spaCy's guesses that no lexicon confirms were ordinary words
# ("Summarise", "Convert", "Kaizen", "Python", "Acme Support") in 11 of 12 clean prompts, while
# the real names among them were all confirmed by the lexicon or found by another recognizer.
UNCONFIRMED_NAME_SCORE = 0.45
_LATIN_WORDS = re.compile(f"[{LATIN_UPPER}{LATIN_LOWER}]+")


def confirmed_name(value: str, following: str = "") -> bool:
    """True unless ``value`` is Latin script and none of its words is a known name, or it is
    the name of a thing: its last word is a head noun such as "Falls" or "Logistics" ("Victoria
    Falls"), or it is one word and the word ``following`` it is one ("Aurora cluster", "Austin
    office"; "Maria Lopez office hours" still names a person), or its only known names are
    products' ("Claude", "Okta").

    Japanese-script spans are left to the Japanese engines; romaji words count when Sudachi
    knows them as names.
    """
    words = _LATIN_WORDS.findall(value)
    if not words or any("\u3040" <= ch <= "\u9fff" for ch in value):
        return True
    if is_thing_word(words[-1]) or len(words) == 1 and is_thing_word(following):
        return False
    names = lexicon()
    known = [w for w in words if names.is_name(w) or name_kind(w) in ("姓", "名")]
    # "Claude", "Compare Claude": when the only name is a product's and the other words are
    # everyday English, it is the assistant ("Claude Monet" is still a person).
    if known and all(is_product_name(w) for w in known):
        return not all(is_product_name(w) or names.is_english_form(w) or names.is_common(w)
                       for w in words)
    return bool(known)


_POSSESSIVE = ("'s", "’s")
_NEXT_WORD = re.compile(f"[ \u00a0]([{LATIN_UPPER}{LATIN_LOWER}]+)")


class NerRecognizer(SpacyRecognizer):
    """Presidio's spaCy recognizer, with spans trimmed of blanks and implausible names dropped.

    On mixed text the English model reads a copy whose Japanese characters are blanked out, and
    its spans can swallow those blanks.
    """

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        kept: list[RecognizerResult] = []
        for r in super().analyze(text, entities, nlp_artifacts):
            while r.start < r.end and text[r.start].isspace():
                r.start += 1
            while r.end > r.start and text[r.end - 1].isspace():
                r.end -= 1
            if r.entity_type == "PERSON" and text[r.start:r.end].endswith(_POSSESSIVE):
                # "Warren Buffett's": the name is "Warren Buffett" (for the allow-list and for
                # redaction, which keeps the "'s").
                r.end -= 2
            if r.entity_type == "PERSON":
                r.start, r.end = _trim_words(text, r.start, r.end)
            if r.end > r.start and (
                r.entity_type != "PERSON" or plausible_name(text[r.start:r.end])
            ):
                after = _NEXT_WORD.match(text, r.end)
                if r.entity_type == "PERSON" and not confirmed_name(
                    text[r.start:r.end], after.group(1) if after else ""
                ):
                    r.score = min(r.score, UNCONFIRMED_NAME_SCORE)
                    if r.analysis_explanation is not None:
                        r.analysis_explanation.set_improved_score(r.score)
                kept.append(r)
        return kept


_SPAN_WORD = re.compile(r"\S+")


def _trim_words(text: str, start: int, end: int) -> tuple[int, int]:
    """A person span without the everyday words the model swept into it at either end
    ("Summarise Jack Welch" is "Jack Welch"): a leading or trailing word that is no known name
    but an English or everyday word goes, as long as a word remains."""
    names = lexicon()
    words = list(_SPAN_WORD.finditer(text, start, end))

    def extra(word: str) -> bool:
        word = word.strip(",.;:!?")
        return not names.is_name(word) and (names.is_english_form(word) or names.is_common(word))

    while len(words) > 1 and extra(words[0].group()):
        words.pop(0)
    while len(words) > 1 and extra(words[-1].group()):
        words.pop()
    return words[0].start(), words[-1].end()


# Characters Presidio's pattern allows in a local part that, before an address, end a URL's
# path or query instead ("/u?email=liam@outlook.ie": the address starts after "=").
_LOCAL_PART_STOP = re.compile(r"[?=&/:;,|]")


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, with its domain checked offline and its local part cut at
    the query or path syntax in front of it."""

    def validate_result(self, pattern_text: str) -> bool:
        # Offline: Presidio's own check would fetch the public suffix list (see domains).
        return has_public_suffix(pattern_text.rsplit("@", 1)[-1])

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for r in results:
            at = text.rfind("@", r.start, r.end)
            stops = list(_LOCAL_PART_STOP.finditer(text, r.start, at if at >= 0 else r.end))
            if stops:
                r.start = stops[-1].end()
        return [r for r in results if r.end > r.start and text[r.start] != "@"]


def stock_recognizers(language: str) -> list[EntityRecognizer]:
    """Presidio's recognizers for ``language``.

    Left out on purpose: the UK NHS recognizer (any 10-digit number passing mod 11 — one US phone
    number in eleven — with no context required), dates (``DATE_TIME`` is not personal data on
    its own and spaCy's NER already reports it), and country packs for countries our users do not
    handle.
    """
    recognizers: list[EntityRecognizer] = [
        OfflineEmailRecognizer(supported_language=language),
        CardRecognizer(supported_language=language),
        IbanRecognizer(supported_language=language),
        IpRecognizer(supported_language=language),
        UrlRecognizer(supported_language=language),
        CryptoRecognizer(supported_language=language),
        UsSsnRecognizer(supported_language=language),
        UsItinRecognizer(supported_language=language),
        UsPassportRecognizer(supported_language=language),
        UsLicenseRecognizer(supported_language=language),
        UsBankRecognizer(supported_language=language),
        MedicalLicenseRecognizer(supported_language=language),
        WindowedPhoneRecognizer(supported_language=language, supported_regions=PHONE_REGIONS),
    ]
    ner_entities = ["PERSON", "LOCATION", "DATE_TIME"] + (["NRP"] if language == "en" else [])
    recognizers.append(
        NerRecognizer(supported_language=language, supported_entities=ner_entities)
    )
    return recognizers
