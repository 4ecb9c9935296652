"""The documented vocabulary of entity types.

Policies name entity types from this table only; an unknown name is a load error, so a typo
can never silently disable a rule. Presidio's names are kept where Presidio has one,
Japanese-specific types are ``JP_…``, credentials are ``SECRET_…``, and a few are Sekisho's
own signals (``DETECTION_FAILED`` and the non-text ``CONTENT_…`` flags).
"""

from __future__ import annotations

import fnmatch
from enum import StrEnum


class Category(StrEnum):
    CONTACT = "contact"
    GOVERNMENT_ID = "government_id"
    FINANCIAL = "financial"
    PERSON = "person"
    CREDENTIAL = "credential"
    HEALTH = "health"
    NETWORK = "network"
    GENERAL = "general"
    CONTENT = "content"
    SIGNAL = "signal"


ENTITY_TYPES: dict[str, tuple[Category, str]] = {
    # Presidio's own names.
    "PERSON": (Category.PERSON, "A person's name (name lexicon and English NER, Japanese "
                                "dictionary or NER, romaji, name fields)."),
    "EMAIL_ADDRESS": (Category.CONTACT, "An e-mail address."),
    "PHONE_NUMBER": (Category.CONTACT, "A phone number outside Japan's numbering plan."),
    "CREDIT_CARD": (Category.FINANCIAL, "A payment card number passing the Luhn check."),
    "IBAN_CODE": (Category.FINANCIAL, "An IBAN with a valid checksum."),
    "US_BANK_NUMBER": (Category.FINANCIAL, "A US bank account number (with context)."),
    "US_SSN": (Category.GOVERNMENT_ID, "A US social security number."),
    "US_ITIN": (Category.GOVERNMENT_ID, "A US individual taxpayer identification number."),
    "US_PASSPORT": (Category.GOVERNMENT_ID, "A US passport number (with context)."),
    "US_DRIVER_LICENSE": (Category.GOVERNMENT_ID, "A US driver's licence number (with context)."),
    "MEDICAL_LICENSE": (Category.HEALTH, "A medical licence number."),
    "IP_ADDRESS": (Category.NETWORK, "An IPv4 or IPv6 address."),
    "URL": (Category.GENERAL, "A URL (not personal data on its own)."),
    "LOCATION": (Category.GENERAL, "A place name (not personal data on its own)."),
    "DATE_TIME": (Category.GENERAL, "A date or time (not personal data on its own)."),
    "NRP": (Category.GENERAL, "A nationality, religious or political group."),
    "CRYPTO": (Category.FINANCIAL, "A cryptocurrency wallet address."),
    # Japan.
    "JP_MY_NUMBER": (Category.GOVERNMENT_ID, "個人番号 (My Number), mod-11 check digit."),
    "JP_PHONE_NUMBER": (Category.CONTACT, "A Japanese phone number: mobile, IP, landline, +81."),
    "JP_TOLL_FREE_NUMBER": (Category.GENERAL, "A Japanese toll-free number (0120/0800): public."),
    "JP_POSTAL_CODE": (Category.CONTACT, "A Japanese postal code (〒123-4567)."),
    "JP_ADDRESS": (Category.CONTACT, "A Japanese street address (都道府県 + 市区町村 + 番地, or "
                                     "in romaji)."),
    "STREET_ADDRESS": (Category.CONTACT, "A UK or US street address (number, street, town, "
                                         "postcode or ZIP)."),
    "JP_DRIVER_LICENSE": (Category.GOVERNMENT_ID, "運転免許証番号: 12 digits with 免許 context."),
    "JP_PASSPORT": (Category.GOVERNMENT_ID, "旅券番号: two letters + 7 digits with context."),
    "JP_RESIDENCE_CARD": (Category.GOVERNMENT_ID, "在留カード番号: two letters + 8 digits + two "
                                                  "letters with context."),
    "JP_HEALTH_INSURANCE": (Category.GOVERNMENT_ID, "健康保険証の記号・番号."),
    "JP_BANK_ACCOUNT": (Category.FINANCIAL, "A bank account (銀行/支店/普通/当座 + 7 digits)."),
    "PUBLIC_CONTACT": (Category.GENERAL, "An organisation's published phone number, postal "
                                         "code or address, or a public place's address (a "
                                         "switchboard, a head office, a landmark)."),
    "PUBLIC_FIGURE": (Category.GENERAL, "A public figure or fictional character written about "
                                        "as such (a historical figure, a work's character)."),
    "DATE_OF_BIRTH": (Category.PERSON, "A date of birth (生年月日, DOB, born on …)."),
    "MEDICAL_RECORD": (Category.HEALTH, "Record number, or diagnosis/treatment of a person."),
    # Credentials.
    "SECRET_OPENAI_KEY": (Category.CREDENTIAL, "An OpenAI API key (sk-…, sk-proj-…)."),
    "SECRET_ANTHROPIC_KEY": (Category.CREDENTIAL, "An Anthropic API key (sk-ant-…)."),
    "SECRET_GITHUB_TOKEN": (Category.CREDENTIAL, "A GitHub token (ghp_, gho_, github_pat_…)."),
    "SECRET_SLACK_TOKEN": (Category.CREDENTIAL, "A Slack token (xoxb-, xoxp-…) or webhook URL."),
    "SECRET_GOOGLE_API_KEY": (Category.CREDENTIAL, "A Google API key (AIza…)."),
    "SECRET_AWS_KEY": (Category.CREDENTIAL, "An AWS access key id or secret access key."),
    "SECRET_JWT": (Category.CREDENTIAL, "A JSON Web Token."),
    "SECRET_PRIVATE_KEY": (Category.CREDENTIAL, "A PEM private key block."),
    "SECRET_PASSWORD": (Category.CREDENTIAL, "A password assignment in code, config or prose."),
    "SECRET_TOKEN": (Category.CREDENTIAL, "A high-entropy token next to key/secret/token words."),
    # Non-text content, flagged by extraction rather than detected.
    "CONTENT_IMAGE": (Category.CONTENT, "An image part (image_url, input_image)."),
    "CONTENT_AUDIO": (Category.CONTENT, "An audio part (input_audio)."),
    "CONTENT_FILE": (Category.CONTENT, "A file part or data: URL that is not text."),
    "CONTENT_UNKNOWN": (Category.CONTENT, "A content part of a type Sekisho does not know."),
    "CONTENT_TOKENS": (Category.CONTENT, "Token ids no known tokenizer can read."),
    "CONTENT_ENCODED": (Category.CONTENT, "Text encoded deeper or longer than Sekisho decodes."),
    # Sekisho's own signals.
    "DETECTION_FAILED": (Category.SIGNAL, "The detector errored or missed its deadline."),
}


def is_known(name: str) -> bool:
    return name in ENTITY_TYPES


def expand(pattern: str) -> frozenset[str]:
    """Entity names matched by a name or a glob such as ``SECRET_*``; empty if none."""
    if any(ch in pattern for ch in "*?["):
        return frozenset(n for n in ENTITY_TYPES if fnmatch.fnmatchcase(n, pattern))
    return frozenset({pattern}) if pattern in ENTITY_TYPES else frozenset()


def category_of(name: str) -> Category:
    return ENTITY_TYPES[name][0]
