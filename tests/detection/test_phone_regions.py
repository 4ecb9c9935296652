"""Skipping the regions whose reader rejects a stretch finds every number trying all finds.

``WindowedPhoneRecognizer`` tries a default region only where some run of the stretch's digit
groups could be a valid number of it (``stock._region_readers``). The readers are meant to
accept a superset of what libphonenumber validates, so the recognizer's findings must be the
same as with every region tried: on every example number phonenumbers' metadata holds for each
region and number type, written nationally, internationally and as bare digits with the
separators people use, and on number-like stretches that are not phone numbers.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from proxy.detection import stock
from proxy.detection.stock import PHONE_REGIONS, WindowedPhoneRecognizer

TYPES = [t for t in vars(PhoneNumberType).values() if isinstance(t, int)]


def _examples() -> list[str]:
    rng = random.Random(11)
    texts: list[str] = []
    regions = list(PHONE_REGIONS) + ["JP", "GG", "PR", "CX"]
    for region in regions:
        for kind in TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            for written in (national, international, e164, e164[1:],
                            international.lstrip("+"), "00" + e164[1:], "011 " + e164[1:]):
                separator = rng.choice([" ", "-", ".", "/", ""])
                texts.append(f"Call {written} today.")
                texts.append(f"tel: {written.replace(' ', separator)}, ref 12")
    return texts


def _lookalikes() -> list[str]:
    rng = random.Random(12)
    texts = ["Card 4242 4242 4242 4242 expired", "build 10.0.22631.3447: crash",
             "ISBN 978-0-13-468599-1", "open 24/7 at 1-800-555-0100 (24/7)",
             "serial 0002-1433-80", "total 1,234,567.89 yen", "IP 192.168.10.254"]
    for _ in range(1000):
        groups = [str(rng.randrange(10 ** rng.randint(1, 8))).zfill(rng.randint(1, 6))
                  for _ in range(rng.randint(2, 5))]
        texts.append("x " + rng.choice([" ", "-", ".", "/", ") ("]).join(groups) + " y")
    return texts


def _findings(texts: list[str]) -> list[list[tuple[int, int, float]]]:
    recognizer = WindowedPhoneRecognizer(supported_language="en",
                                         supported_regions=PHONE_REGIONS)
    return [sorted((r.start, r.end, r.score)
                   for r in recognizer.analyze(text, ["PHONE_NUMBER"], None))
            for text in texts]


@pytest.mark.parametrize(("texts", "least_found"), [(_examples(), 0.5), (_lookalikes(), 0.0)],
                         ids=["examples", "lookalikes"])
def test_the_same_numbers_as_trying_every_region(
        texts: list[str], least_found: float, monkeypatch: pytest.MonkeyPatch) -> None:
    filtered = _findings(texts)
    monkeypatch.setattr(stock, "_regions_for", lambda window, regions: regions)
    assert filtered == _findings(texts)
    assert sum(map(bool, filtered)) >= least_found * len(texts)


def test_the_readers_skip_regions_on_numbers_no_region_reads() -> None:
    skipped = stock._regions_for(" 4242 4242 4242 4242 ", PHONE_REGIONS)
    assert len(skipped) < len(PHONE_REGIONS)
    assert "GB" in stock._regions_for(" 020 7946 0958 ", PHONE_REGIONS)
    assert "US" in stock._regions_for(" (617) 555-0142 ", PHONE_REGIONS)
    # A card's groups fit the general patterns of eight regions, a number type of three.
    assert len(stock._regions_for(" 4539 0148 8034 3648 ", PHONE_REGIONS)) <= 3
