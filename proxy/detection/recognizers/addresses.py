"""Street addresses written without a name beside them: UK and US formats (``STREET_ADDRESS``)
and Japanese addresses in romaji for international shipping (``JP_ADDRESS``).

An address alone still points at a household. Each format is recognised by its parts in
their order:

- **UK**: a house number (and a flat or unit) and a street with its type word (Road, Street,
  Lane, Close, …), a town, and a postcode of the Royal Mail's shape (``LS6 2BQ``,
  ``SW1A 1AA``): ``Flat 3, 27 Kingsley Road, Leeds LS6 2BQ``.
- **US**: a house number and a street with its suffix (St, Ave, Blvd, …; an apartment or suite
  may follow), a city, a state's two-letter code and a ZIP code: ``742 Evergreen Terrace,
  Springfield, OR 97477``.
- **Japan in romaji**: block numbers (``2-14-7``), a town, a ward, city or town with its suffix
  (``Minato-ku``, ``Sapporo-shi``, ``Naka-cho``; after a town, a city without it) and a
  prefecture, optionally the postal code: ``2-14-7 Nishi-Azabu, Minato-ku, Tokyo 106-0031``,
  ``5-6 Dogoyunomachi, Matsuyama, Ehime``.

A street line alone (``123 Main St``) is reported at 0.35, under the shipped policies'
thresholds: the classic placeholder looks exactly like it, and it names no town.
"""

from __future__ import annotations

from collections.abc import Iterable

from proxy.detection import quickre
from proxy.detection.recognizers.base import Hit, PatternRecognizer

_WORD = r"[A-Z][A-Za-z'’.\-]*"
_STREET_TYPES = (
    "Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Cl|Drive|Dr|Way|Place|Pl|Crescent|Cres|Grove|Gr|"
    "Gardens|Gdns|Terrace|Ter|Terr|Court|Ct|Square|Sq|Hill|Row|Mews|Walk|Park|View|Rise|"
    "Boulevard|Blvd|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Trail|Trl|Loop|Pike|Alley|Aly|Run|"
    "Broadway|Green|Parade|Quay|Wharf|Yard"
)
# A unit's number, and Scotland's flat positions (floor/door: "Flat 3/2", "0/1").
_UNIT = (r"(?:(?:Flat|Apartment|Apt|Unit|Suite|Ste|Room|Rm|Floor|Fl)\.?[ ]?[0-9A-Z]{1,5}"
         r"(?:/[0-9A-Z]{1,3})?"
         r"|#[ ]?[0-9A-Z]{1,5})")
_STREET = (
    rf"(?:{_UNIT},?[ ]+)?(?P<number>\d{{1,5}}[A-Za-z]?)(?:[-–]\d{{1,5}})?[ ]+"
    rf"(?P<street>(?:{_WORD}[ ]+){{0,3}}(?:{_STREET_TYPES})\.?)(?![A-Za-z])"
    rf"(?:,?[ ]+{_UNIT})?"
)
_UK_POSTCODE = r"(?P<postcode>[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2})(?![A-Za-z0-9])"
_US_STATE = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|"
    "NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR"
)
_ADDRESS = quickre.compile(
    rf"(?<![A-Za-z0-9]){_STREET}"
    rf"(?P<rest>(?:,?[ ]+(?:{_WORD}[ ]+){{0,3}}{_WORD})?,?[ ]+"
    rf"(?:(?P<state>{_US_STATE})[ ]+(?P<zip>\d{{5}}(?:-\d{{4}})?)(?![0-9])|{_UK_POSTCODE}))?"
)

_ROMAJI_PREFECTURES = (
    "Hokkaido|Aomori|Iwate|Miyagi|Akita|Yamagata|Fukushima|Ibaraki|Tochigi|Gunma|Saitama|Chiba|"
    "Tokyo|Kanagawa|Niigata|Toyama|Ishikawa|Fukui|Yamanashi|Nagano|Gifu|Shizuoka|Aichi|Mie|"
    "Shiga|Kyoto|Osaka|Hyogo|Nara|Wakayama|Tottori|Shimane|Okayama|Hiroshima|Yamaguchi|"
    "Tokushima|Kagawa|Ehime|Kochi|Fukuoka|Saga|Nagasaki|Kumamoto|Oita|Miyazaki|Kagoshima|Okinawa"
)
_ROMAJI_ADDRESS = quickre.compile(
    r"(?<![A-Za-z0-9-])(?P<block>\d{1,4}(?:-\d{1,4}){1,3})(?:[ ,]+(?P<town>"
    r"[A-Z][a-z]+(?:[- ][A-Za-z][a-z]+){0,2}))?,?[ ]+"
    # The municipality with its suffix, or — after a town, before the prefecture — without
    # one, as English writes it ("5-6 Dogoyunomachi, Matsuyama, Ehime").
    r"(?P<municipality>[A-Z][a-z]+-(?:ku|shi|cho|machi|mura|son|gun)\b|"
    r"(?<=[a-z],[ ])[A-Z][a-z]+(?=,[ ]+(?:" + _ROMAJI_PREFECTURES + r")\b))"
    r"(?:,?[ ]+[A-Z][a-z]+-(?:ku|shi|cho|machi|gun)\b)?"
    rf",?[ ]+(?P<prefecture>(?:{_ROMAJI_PREFECTURES})(?:-(?:to|fu|ken|do))?)\b"
    r"(?:,?[ ]+(?P<postal>\d{3}-?\d{4})(?![0-9]))?",
)


class StreetAddressRecognizer(PatternRecognizer):
    """UK and US street addresses, and Japanese ones written in romaji."""

    ENTITIES = ("STREET_ADDRESS", "JP_ADDRESS")
    CONTEXT = ("address", "ship to", "deliver", "lives", "住所", "配送先")
    SCORE_FULL = 0.75
    SCORE_STREET_ONLY = 0.35

    def find(self, text: str) -> Iterable[Hit]:
        for m in _ADDRESS.finditer(text):
            complete = m.group("zip") is not None or m.group("postcode") is not None
            end = m.end() if complete else m.end("street")
            score = self.SCORE_FULL if complete else self.SCORE_STREET_ONLY
            rule = ("address_us" if m.group("zip") else "address_uk") if complete else (
                "street_line")
            yield Hit("STREET_ADDRESS", m.start(), end, score, rule)
        for m in _ROMAJI_ADDRESS.finditer(text):
            yield Hit("JP_ADDRESS", m.start(), m.end(), self.SCORE_FULL, "address_romaji")
