"""Presidio's own recognizers that Sekisho uses, made safe to run offline."""

from __future__ import annotations

import tldextract
from presidio_analyzer import EntityRecognizer
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
        PhoneRecognizer(supported_language=language, supported_regions=PHONE_REGIONS),
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
