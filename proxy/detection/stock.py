"""Presidio's own recognizers that Sekisho uses, made safe to run offline."""

from __future__ import annotations

import re

import tldextract
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

# Presidio validates e-mail domains with tldextract's default extractor, which fetches the public
# suffix list from the internet on first use. This one only ever reads the snapshot bundled
# with the package (no URLs, no cache directory), so validation never touches the network.
_OFFLINE_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

# Japan is left out on purpose: Japanese numbers are JP_PHONE_NUMBER, from our own recognizer.
PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN", "CA", "AU", "SG", "KR", "CN", "TW", "HK", "BR")


# A stretch of digits and the separators people put in phone numbers, with at least 7 digits
# (no valid number in PHONE_REGIONS is shorter).
_PHONE_CANDIDATE = re.compile(r"[+(]?\d[\d \t().\-/]{5,}\d")
_MIN_PHONE_DIGITS = 7
_ISO_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
_BARE_DIGITS_SCORE = 0.3


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phonenumbers-based recognizer, run only where a phone number could be.

    ``PhoneNumberMatcher`` parses every digit group of the whole text once per region, which
    made it the costliest recognizer. Here it runs on each candidate stretch (plus one character
    on each side, so its boundary checks still see the neighbours); results map back by offset.
    """

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for m in _PHONE_CANDIDATE.finditer(text):
            if sum(ch.isdigit() for ch in m.group()) < _MIN_PHONE_DIGITS:
                continue
            start = max(m.start() - 1, 0)
            window = text[start:m.end() + 1]
            for r in self._in_window(window, entities, nlp_artifacts):
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


    def _in_window(
        self, window: str, entities: list[str], nlp_artifacts: NlpArtifacts | None
    ) -> list[RecognizerResult]:
        if "+" in window:
            # An international number parses the same whatever the default region: once.
            regions = self.supported_regions
            self.supported_regions = regions[:1]
            try:
                return list(super().analyze(window, entities, nlp_artifacts))  # type: ignore[arg-type]
            finally:
                self.supported_regions = regions
        return list(super().analyze(window, entities, nlp_artifacts))  # type: ignore[arg-type]


class OfflineEmailRecognizer(EmailRecognizer):
    def validate_result(self, pattern_text: str) -> bool:
        return bool(_OFFLINE_TLD(pattern_text).fqdn)


def stock_recognizers(language: str) -> list[EntityRecognizer]:
    """Presidio's recognizers for ``language``.

    Left out on purpose: the UK NHS recognizer (any 10-digit number passing mod 11 — one US phone
    number in eleven — with no context required), dates (``DATE_TIME`` is not personal data on
    its own and spaCy's NER already reports it), and country packs for countries our users do not
    handle.
    """
    recognizers: list[EntityRecognizer] = [
        OfflineEmailRecognizer(supported_language=language),
        CreditCardRecognizer(supported_language=language),
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
    if language == "en":
        recognizers.append(
            SpacyRecognizer(
                supported_language="en",
                supported_entities=["PERSON", "LOCATION", "NRP", "DATE_TIME"],
            )
        )
    else:
        recognizers.append(
            SpacyRecognizer(
                supported_language=language, supported_entities=["PERSON", "LOCATION", "DATE_TIME"]
            )
        )
    return recognizers
