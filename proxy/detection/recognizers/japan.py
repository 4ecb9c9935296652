"""Recognizers for Japanese personal identifiers.

Every digit run is delimited with lookarounds, never ``\\b``: kana and kanji are word characters,
so ``\\b`` finds no boundary in ``マイナンバーは123456789012です`` and would either miss the number
or, worse, match 12 digits inside a 13-digit 法人番号. Identifiers that are just "N digits" without
a checksum (licence, bank account, insurance, passport, date of birth) are reported only next to
a label, in Japanese or English, that the recognizer checks itself.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import ClassVar

from proxy.detection import quickre
from proxy.detection.recognizers.base import (
    CONTEXT_BOOST,
    Hit,
    LabelledNumberRecognizer,
    PatternRecognizer,
    context_before,
    context_near,
)

# Character classes: kanji (with 々〆ヶ) and katakana (with the prolonged sound mark); hiragana
# is spelled out below, without the particles that cannot occur inside a name.
_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヵヶ"
_KATAKANA = "\u30a1-\u30fa\u30fc"
# Hiragana particles cannot be part of a municipality's name, so excluding them makes
# 「私は大阪市…」 start the address at 大阪市 rather than at 私.
_PARTICLES = "はがをでにへとものや"
_HIRAGANA_NAME = "".join(
    chr(c) for c in range(0x3041, 0x3097) if chr(c) not in _PARTICLES
)
_TOWN_PARTICLES = "はをでにへ"
_HIRAGANA_TOWN = "".join(
    chr(c) for c in range(0x3041, 0x3097) if chr(c) not in _TOWN_PARTICLES
)

# A digit run must not continue an alphanumeric run, nor a hyphenated/dotted number
# (so 12 digits inside 13, or inside 1234-5678-9012-3456, never match). A comma does not join
# numbers here: CSV puts one between fields, and thousands groups never hold 7 or 12 digits.
_NUM_END = r"(?![0-9A-Za-z])(?![-./][0-9])"


def _digit_run(first: str, rest: str) -> str:
    """A pattern for a number starting with ``first`` (one digit or a digit class), then ``rest``.

    The left boundary is checked *after* the first digit is consumed, as a lookbehind over it:
    a pattern that begins with a character class lets ``re`` skip straight to candidate
    positions, while a leading lookbehind is tried at every position (3-5x slower on prose).
    """
    return rf"{first}(?<![0-9A-Za-z]{first})(?<![0-9][-./]{first}){rest}"


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _words(*alternatives: str) -> re.Pattern[str]:
    """A case-insensitive context regex from alternatives (each carries its own boundaries)."""
    return re.compile("|".join(alternatives), re.IGNORECASE)


# ---------------------------------------------------------------------------------------------
# マイナンバー (個人番号)


def my_number_check_digit(first_eleven: str) -> int:
    """The check digit of a My Number, from its first 11 digits (個人番号の検査用数字).

    P_n is the n-th digit counting from the right of the 11 (n = 1..11) and Q_n = n + 1 for
    n <= 6, n - 5 for n >= 7; with r = sum(P_n * Q_n) mod 11 the check digit is 0 if r <= 1,
    else 11 - r.
    """
    if len(first_eleven) != 11 or not first_eleven.isdigit():
        raise ValueError("a My Number check digit needs exactly 11 digits")
    total = 0
    for n in range(1, 12):
        p = int(first_eleven[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def is_valid_my_number(number: str) -> bool:
    """Whether 12 digits (separators ignored) form a My Number with a correct check digit."""
    digits = _digits(number)
    if len(digits) != 12 or len(set(digits)) == 1:
        return False
    return my_number_check_digit(digits[:11]) == int(digits[11])


# 4-4-4 with one consistent separator (space, hyphen, dot, slash or underscore), or 12 digits
# in a row. Spaced groups must not continue a spaced run either (4111 1111 1111 1111 is a card).
_TWELVE_DIGITS = quickre.compile(
    _digit_run(r"\d", r"(?<![0-9][ _]\d)\d{3}([-. /_]?)\d{4}\1\d{4}(?!\1?[0-9])") + _NUM_END
)


class JapanMyNumberRecognizer(PatternRecognizer):
    """個人番号: 12 digits whose mod-11 check digit is right; reported with or without a label.

    One random 12-digit number in eleven passes the check, so an unlabelled number scores
    0.65 and a labelled one 1.0. A 13-digit 法人番号 (public) never matches: the lookarounds
    refuse a 12-digit window inside a longer digit run.
    """

    ENTITIES = ("JP_MY_NUMBER",)
    CONTEXT = (
        "マイナンバー", "個人番号", "my number", "mynumber", "individual number", "通知カード"
    )
    SCORE: ClassVar[float] = 0.65
    SCORE_WITH_CONTEXT: ClassVar[float] = 1.0
    _CONTEXT = _words(
        r"マイナンバー", r"個人番号", r"my[ _-]?number", r"individual[ _-]?number", r"通知カード"
    )

    def find(self, text: str) -> Iterator[Hit]:
        for m in _TWELVE_DIGITS.finditer(text):
            if not is_valid_my_number(m.group()):
                continue
            if context_near(text, m.start(), m.end(), self._CONTEXT, before=30, after=10):
                yield Hit("JP_MY_NUMBER", m.start(), m.end(), self.SCORE_WITH_CONTEXT,
                          "my_number_checksum_context", True)
            else:
                yield Hit("JP_MY_NUMBER", m.start(), m.end(), self.SCORE, "my_number_checksum")


# ---------------------------------------------------------------------------------------------
# Phone numbers

# Each branch starts with a literal (+, ( or 0) so ``re`` skips to those characters; the left
# boundary is a lookbehind over that first character.
_PHONE = quickre.compile(
    r"""
    (?:
        # +81, then the national number without its leading 0: +81-90-1234-5678, +81 3 1234 5678
        \+(?<![0-9A-Za-z+]\+)81[-. ]?(?:\(0\)[-. ]?)?
        (?P<i1>[1-9]\d{0,3})(?P<is1>[-. ]?)(?P<i2>\d{1,4})(?P<is2>[-. ]?)(?P<i3>\d{4})
      | # area code in parentheses: (03) 1234-5678
        \((?<![0-9A-Za-z]\()(?P<p1>0\d{1,4})\)[ ]?(?P<p2>\d{1,4})[-. ]?(?P<p3>\d{4})
      | 0(?<![0-9A-Za-z+]0)(?<![0-9][-.]0)
        (?:
            # separated: 090-1234-5678, 03 1234 5678, 03(1234)5678
            (?P<d1>\d{1,4})(?:[-. ]|\()(?P<d2>\d{1,4})(?:[-. ]|\))(?P<d3>\d{4})
          | # no separators: 09012345678, 0312345678
            (?P<bare>\d{9,10})
        )
    )
    (?![0-9A-Za-z])(?![-.][0-9])
    """,
    re.VERBOSE,
)

_MOBILE_PREFIXES = ("050", "070", "080", "090")
# Toll-free, navi-dial and other non-geographic 10-digit prefixes: not a person's line.
_NON_PERSONAL_PREFIXES = ("0120", "0800", "0570", "0180", "0990")


def _classify_phone(groups: tuple[str, ...]) -> str | None:
    """'mobile', 'landline' or None, from the digit groups (national form, leading 0)."""
    digits = "".join(groups)
    if len(digits) == 11 and digits.startswith(_MOBILE_PREFIXES):
        if len(groups) == 3 and (len(groups[0]), len(groups[1])) != (3, 4):
            return None
        return "mobile"
    if len(digits) != 10 or digits[1] == "0" or digits.startswith(_NON_PERSONAL_PREFIXES):
        return None
    if digits.startswith("020"):
        return None
    # Area code (with its 0) and exchange always add up to six digits: 03-1234, 045-123, 0742-12.
    if len(groups) == 3 and len(groups[0]) + len(groups[1]) != 6:
        return None
    return "landline"


class JapanPhoneRecognizer(PatternRecognizer):
    """Japanese phone numbers: mobile/IP (070/080/090/050), landlines, +81 and bracket forms.

    The digit groups are checked against the numbering plan (11 digits for mobile/IP, 10 for
    landlines with area code + exchange = 6 digits), which rejects dates, versions and order
    numbers that merely look hyphenated. Toll-free numbers are left to the toll-free recognizer.
    """

    ENTITIES = ("JP_PHONE_NUMBER",)
    CONTEXT = ("電話", "携帯", "tel", "phone", "mobile", "fax", "連絡先", "call")
    SCORE_SEPARATED: ClassVar[float] = 0.7
    SCORE_BARE_MOBILE: ClassVar[float] = 0.6
    SCORE_BARE_LANDLINE: ClassVar[float] = 0.4
    _CONTEXT = _words(
        r"電話", r"携帯", r"連絡先", r"ファックス", r"(?<![a-z])(?:tel|phone|mobile|cell|fax|call)"
    )

    def find(self, text: str) -> Iterator[Hit]:
        for m in _PHONE.finditer(text):
            if m.group("i1") is not None:
                groups: tuple[str, ...] = ("0" + m.group("i1"), m.group("i2"), m.group("i3"))
                if not (m.group("is1") and m.group("is2")):
                    groups = ("".join(groups),)
                rule, score = "phone_international", self.SCORE_SEPARATED
            elif m.group("p1") is not None:
                groups = (m.group("p1"), m.group("p2"), m.group("p3"))
                rule, score = "phone_parenthesised", self.SCORE_SEPARATED
            elif m.group("d1") is not None:
                groups = ("0" + m.group("d1"), m.group("d2"), m.group("d3"))
                rule, score = "phone_separated", self.SCORE_SEPARATED
            else:
                groups = ("0" + m.group("bare"),)
                rule = "phone_bare"
                score = self.SCORE_BARE_MOBILE if len(groups[0]) == 11 else self.SCORE_BARE_LANDLINE
            if _classify_phone(groups) is None:
                continue
            if context_near(text, m.start(), m.end(), self._CONTEXT, before=25):
                yield Hit("JP_PHONE_NUMBER", m.start(), m.end(), score + CONTEXT_BOOST,
                          rule + "_context", True)
            else:
                yield Hit("JP_PHONE_NUMBER", m.start(), m.end(), score, rule)


_TOLL_FREE = quickre.compile(
    _digit_run("0", r"(?:120[-. ]?(?:\d{3}[-. ]?\d{3}|\d{2}[-. ]?\d{4})|800[-. ]?\d{3}[-. ]?\d{4})")
    + _NUM_END
)


class JapanTollFreeRecognizer(PatternRecognizer):
    """フリーダイヤル 0120-xxx-xxx and 0800-xxx-xxxx: businesses' public numbers.

    Reported separately and at a low score so policies can treat them as informational; they
    identify a company's call centre, not a person.
    """

    ENTITIES = ("JP_TOLL_FREE_NUMBER",)
    CONTEXT = ("フリーダイヤル", "フリーコール", "toll free", "toll-free", "free dial")
    GATE = ("0120", "0800")
    SCORE: ClassVar[float] = 0.3
    _CONTEXT = _words(r"フリーダイ[ヤア]ル", r"フリーコール", r"toll[- ]?free", r"free[ -]?dial")

    def find(self, text: str) -> Iterator[Hit]:
        for m in _TOLL_FREE.finditer(text):
            if context_near(text, m.start(), m.end(), self._CONTEXT, before=20):
                yield Hit("JP_TOLL_FREE_NUMBER", m.start(), m.end(), self.SCORE + CONTEXT_BOOST,
                          "toll_free_context", True)
            else:
                yield Hit("JP_TOLL_FREE_NUMBER", m.start(), m.end(), self.SCORE, "toll_free")


# ---------------------------------------------------------------------------------------------
# Postal codes and addresses

_PREFECTURE = (
    r"(?:北海道|東京都|(?:京都|大阪)府|(?:青森|岩手|宮城|秋田|山形|福島|茨城|栃木|群馬|埼玉|千葉"
    r"|神奈川|新潟|富山|石川|福井|山梨|長野|岐阜|静岡|愛知|三重|滋賀|兵庫|奈良|和歌山|鳥取|島根"
    r"|岡山|広島|山口|徳島|香川|愛媛|高知|福岡|佐賀|長崎|熊本|大分|宮崎|鹿児島|沖縄)県)"
)
_PREFECTURE_RE = quickre.compile(_PREFECTURE)

_POSTAL_MARKED = quickre.compile(r"〒[ ]?(" + _digit_run(r"\d", r"\d{2}-?\d{4}") + _NUM_END + ")")
_POSTAL_BARE = quickre.compile(_digit_run(r"\d", r"\d{2}(?:-\d{4}|\d{4})") + _NUM_END)


class JapanPostalCodeRecognizer(PatternRecognizer):
    """郵便番号: 〒123-4567 / 〒1234567, or NNN-NNNN next to a label or followed by a prefecture.

    Without 〒, a label or an address after it, NNN-NNNN is far more often a fragment of
    something else (a phone number, a part number), so it is not reported at all.
    """

    ENTITIES = ("JP_POSTAL_CODE",)
    CONTEXT = ("郵便番号", "〒", "postal", "zip", "post code", "postcode")
    SCORE_MARKED: ClassVar[float] = 0.9
    SCORE_LABELLED: ClassVar[float] = 0.8
    SCORE_BEFORE_ADDRESS: ClassVar[float] = 0.6
    # A prefecture is the "address after" signal; every other signal is one of the labels.
    GATE = ("〒", "郵便", "postal", "zip", "post", "都", "道", "府", "県")
    _CONTEXT = _words(r"郵便番号", r"(?<![a-z])(?:postal|zip|post[ _-]?code)(?![a-z])")
    _ADDRESS_AFTER = re.compile(r"[ 　,、]{0,2}" + _PREFECTURE)

    def find(self, text: str) -> Iterator[Hit]:
        marked: set[int] = set()
        if "〒" in text:
            for m in _POSTAL_MARKED.finditer(text):
                marked.add(m.start(1))
                yield Hit("JP_POSTAL_CODE", m.start(1), m.end(1), self.SCORE_MARKED,
                          "postal_mark", True)
        for m in _POSTAL_BARE.finditer(text):
            if m.start() in marked:
                continue
            if context_before(text, m.start(), self._CONTEXT, 20) is not None:
                yield Hit("JP_POSTAL_CODE", m.start(), m.end(), self.SCORE_LABELLED,
                          "postal_context", True)
            elif "-" in m.group() and self._ADDRESS_AFTER.match(text, m.end()):
                yield Hit("JP_POSTAL_CODE", m.start(), m.end(), self.SCORE_BEFORE_ADDRESS,
                          "postal_before_address", True)


_NAME_CHARS = _KANJI + _KATAKANA + _HIRAGANA_NAME
_TOWN_CHARS = _KANJI + _KATAKANA + _HIRAGANA_TOWN + "・"
_SP = "[ \u3000]?"
# Designated cities have wards (横浜市西区); rural towns sit in a district (比企郡ときがわ町).
_CITY = (
    rf"(?:[{_NAME_CHARS}]{{1,6}}郡{_SP})?[{_NAME_CHARS}]{{1,8}}?[市区町村]"
    rf"(?:{_SP}[{_NAME_CHARS}]{{1,5}}?区)?"
)
# Without a prefecture the municipality must be a 市 of 2+ characters or a 区 (港区, 北区).
_CITY_STRICT = (
    rf"(?:[{_NAME_CHARS}]{{2,8}}?市|[{_NAME_CHARS}]{{1,8}}?区)"
    rf"(?:{_SP}[{_NAME_CHARS}]{{1,5}}?区)?"
)
# Town names may contain block numbers of the Hokkaido grid (北1条西) and kanji numerals.
# The normaliser puts a space wherever kanji meet digits (丸の内 1-2-3, 2 丁目 4 番), so every
# digit/kanji junction below allows one; raw text without those spaces matches too.
_TOWN = rf"(?:[{_TOWN_CHARS}]|{_SP}\d{{1,3}}{_SP}(?:条|線|地割)){{0,15}}?"
_NUM = r"(?:\d{1,5}|[一二三四五六七八九十百〇]{1,4})"
_BAN_GO = rf"{_SP}番地?(?:{_SP}の?{_SP}\d{{1,5}}(?:{_SP}号)?)?"
# 2丁目4番9号 / 1番地の3 / 5丁目 / 2丁目8-1: carries a unit, so it is unmistakably an address.
_BLOCK_UNITS = (
    rf"{_NUM}{_SP}丁目(?:{_SP}\d{{1,5}}(?:{_BAN_GO}|(?:-\d{{1,5}}){{1,2}}))?"
    rf"|\d{{1,5}}{_BAN_GO}(?:-\d{{1,5}})?"
)
# 1-2-3 (and 1-2-3-101); a single hyphen (1-2) only counts after prefecture + municipality.
_BLOCK_DASHES = r"\d{1,5}(?:-\d{1,5}){2,3}"
_BLOCK_DASH = r"\d{1,5}-\d{1,5}"
# A number followed by a counter is a quantity, a date or a rank, not a block (大阪府内2-3割,
# 東京都の2番目).
_BLOCK_END = rf"(?!-?\d)(?!{_SP}[年月日時分秒割円歳人件回度個倍枚本台%目手線])"
# Building and floor: 梅田ビル 5階, 渋谷ヒカリエ 8階, クイーンズタワー10F, 101号室. A name counts
# only with a building word or a floor after it, so the next sentence is never swallowed.
_FLOOR = rf"\d{{1,4}}{_SP}(?:[Ff]|階|号室)"
_BUILDING_NAME = rf"[{_KATAKANA}{_KANJI}{_HIRAGANA_TOWN}A-Za-z・&]{{1,20}}?"
_BUILDING = (
    rf"(?:{_SP}(?:{_BUILDING_NAME}{_SP}{_FLOOR}|{_BUILDING_NAME}"
    r"(?:ビルディング|ビル|タワー|マンション|ハイツ|コーポ|レジデンス|ヒルズ|プラザ|ハウス|荘|館|棟)"
    rf"|{_FLOOR}))?"
)

_ADDRESS = quickre.compile(
    rf"""
    (?:
        (?P<pref>{_PREFECTURE}){_SP}(?:(?P<city>{_CITY}){_SP})?{_TOWN}{_SP}
        (?:(?P<units>{_BLOCK_UNITS})|(?P<dashes>{_BLOCK_DASHES})|(?P<dash>{_BLOCK_DASH}))
      |
        (?<![{_KANJI}{_KATAKANA}])(?P<city_only>{_CITY_STRICT}){_SP}{_TOWN}{_SP}
        (?:(?P<units2>{_BLOCK_UNITS})|(?P<dashes2>{_BLOCK_DASHES}))
    )
    {_BLOCK_END}
    {_BUILDING}
    """,
    re.VERBOSE,
)
# Labels that end up glued to the front of a match when no punctuation separates them
# (住所大阪市北区…): the regex cannot know where a kanji compound ends, so they are trimmed.
_ADDRESS_LABELS = quickre.compile(
    r"(?:現住所|住所|所在地|本社|本店|支社|支店|自宅|実家|勤務先|送付先|届け先|配送先|宛先|連絡先|事務所)+"
)
# Every address ends in a block number; the address regex only runs in a window around one.
_ADDRESS_ANCHOR = quickre.compile(
    rf"\d{{1,5}}{_SP}(?:丁目|番)|[一二三四五六七八九十百〇]{{1,4}}{_SP}丁目|\d{{1,5}}-\d{{1,5}}"
)
_ADDRESS_SUFFIX = quickre.compile(r"[都道府県市区]")
# Prefecture + district + town + building rarely exceed 60 characters before the block number.
_ADDRESS_LOOKBACK = 60
_ADDRESS_LOOKAHEAD = 80


class JapanAddressRecognizer(PatternRecognizer):
    """住所: prefecture and/or municipality, town, and a block number (丁目/番地/号 or 1-2-3).

    A block number is required: 東京 or 大阪市 alone is a place, not where someone lives.
    Without a prefecture the municipality must look like one (2+ character 市, or a 区) and the
    block must carry units or two hyphens, which keeps 「都市部で3-4-5」 out. The full pattern
    is expensive, so it runs only in a window around each block number.
    """

    ENTITIES = ("JP_ADDRESS",)
    CONTEXT = ("住所", "所在地", "自宅", "住んで", "address", "residence", "送付先", "届け先")
    # A prefecture (都道府県) or a municipality without one (市, 区) is part of every match.
    GATE = ("都", "道", "府", "県", "市", "区")
    SCORE_FULL: ClassVar[float] = 0.85
    SCORE_PARTIAL: ClassVar[float] = 0.6
    SCORE_CITY: ClassVar[float] = 0.7
    _CONTEXT = _words(
        r"住所", r"所在地", r"自宅", r"住んで", r"送付先", r"届け先", r"配送先",
        r"(?<![a-z])(?:address|residence|lives? at|resides? at)",
    )

    def find(self, text: str) -> Iterator[Hit]:
        # Where a prefecture or municipality could end: an anchor with none of these in the
        # window before it cannot end an address, so the expensive pattern is not tried there.
        suffixes = [m.start() for m in _ADDRESS_SUFFIX.finditer(text)]
        done = 0  # end of the last reported address: later matches start after it
        for anchor in _ADDRESS_ANCHOR.finditer(text):
            if anchor.start() < done:
                continue
            window_start = max(done, anchor.start() - _ADDRESS_LOOKBACK)
            nearest = bisect.bisect_left(suffixes, window_start)
            if nearest == len(suffixes) or suffixes[nearest] >= anchor.start():
                continue
            window_end = min(len(text), anchor.end() + _ADDRESS_LOOKAHEAD)
            for m in _ADDRESS.finditer(text, window_start, window_end):
                hit = self._hit(text, m)
                if hit is not None:
                    done = hit.end
                    yield hit

    def _hit(self, text: str, m: re.Match[str]) -> Hit | None:
        start, end = m.start(), m.end()
        if m.group("pref") is None:
            # A prefecture name inside a city-only match means leading words were swallowed
            # (本社東京都…): match again from the prefecture.
            pref = _PREFECTURE_RE.search(text, start + 1, m.end("city_only"))
            if pref is not None:
                again = _ADDRESS.match(text, pref.start(), end)
                return None if again is None else self._hit(text, again)
            label = _ADDRESS_LABELS.match(text, start)
            if label is not None:
                start = label.end()
            score, rule = self.SCORE_CITY, "address_municipality"
        else:
            if m.group("dash") is not None and m.group("city") is None:
                return None  # 東京都の1-0: a score, not 都 + 1-chome 0-banchi
            strong = m.group("city") is not None and m.group("dash") is None
            score = self.SCORE_FULL if strong else self.SCORE_PARTIAL
            rule = "address_prefecture"
        if context_near(text, start, end, self._CONTEXT, before=20, after=8):
            return Hit("JP_ADDRESS", start, end, score + CONTEXT_BOOST, rule + "_context", True)
        return Hit("JP_ADDRESS", start, end, score, rule)


# ---------------------------------------------------------------------------------------------
# Identifiers that need a label


class JapanDriverLicenseRecognizer(LabelledNumberRecognizer):
    """運転免許証番号: 12 digits next to 免許 / driver's licence."""

    ENTITIES = ("JP_DRIVER_LICENSE",)
    CONTEXT = ("免許", "運転免許証", "免許証番号", "driver's license", "driving licence", "license")
    GATE = ("免許", "licen", "dl")
    PATTERN = _TWELVE_DIGITS
    LABELS = _words(
        r"免許",
        r"driv(?:er'?s?|ing)[ _-]*licen[cs]e",
        r"(?<![a-z])licen[cs]e[ _-]*(?:no|number|#)",
        r"(?<![A-Za-z])DL[ _-]*(?:no|number|#)",
    )


class JapanPassportRecognizer(LabelledNumberRecognizer):
    """旅券番号: two capital letters and seven digits (TK1234567) next to 旅券 / passport."""

    ENTITIES = ("JP_PASSPORT",)
    CONTEXT = ("旅券", "パスポート", "passport")
    GATE = ("旅券", "パスポート", "passport")
    PATTERN = re.compile(r"[A-Z](?<![0-9A-Za-z][A-Z])[A-Z]\d{7}(?![0-9A-Za-z])")
    LABELS = _words(r"旅券", r"パスポート", r"passport")


class JapanResidenceCardRecognizer(LabelledNumberRecognizer):
    """在留カード番号 and 特別永住者証明書番号: two capital letters, eight digits and two capital
    letters (AB12345678CD) next to 在留カード / 特別永住者 / "residence card". The card every
    foreign resident of Japan carries; employers, schools and landlords copy its number."""

    ENTITIES = ("JP_RESIDENCE_CARD",)
    CONTEXT = ("在留カード", "在留", "特別永住者", "residence card", "zairyu")
    GATE = ("在留", "特別永住", "residence", "resident card", "zairyu")
    PATTERN = re.compile(r"(?<![0-9A-Za-z])[A-Z]{2}\d{8}[A-Z]{2}(?![0-9A-Za-z])")
    LABELS = _words(r"在留", r"特別永住者?", r"residen(?:ce|t)[ _-]*(?:card|permit)", r"zairyu")
    BEFORE = 40


class JapanBankAccountRecognizer(LabelledNumberRecognizer):
    """口座番号: a 7-digit account number next to 銀行/支店/普通/当座/口座 or "account no".

    Also ゆうちょ's 記号-番号 form (1xxxx-xxxxxxx1), written joined or with its labels
    (記号 10230 番号 12345671: each value its own span), and the 店番-口座番号 form of forms
    (012-3456789: the account is the 7 digits after the branch number). Amounts (1234567円,
    ¥1234567) and postal codes (〒1234567) are not accounts even next to a bank's name.
    """

    ENTITIES = ("JP_BANK_ACCOUNT",)
    CONTEXT = (
        "口座", "普通", "当座", "預金", "銀行", "支店", "ゆうちょ", "bank", "account", "acct"
    )
    # 7 digits, or ゆうちょ's 5-digit 記号 and 8-digit 番号 (1xxxx-xxxxxxx1).
    PATTERN = re.compile(_digit_run(r"\d", r"(?:\d{6}|\d{4}[- ]\d{7}1)") + _NUM_END)
    _LABEL_WORDS = (
        "口座", "普通", "当座", "貯蓄", "預金", "貯金", "銀行", "支店", "信用金庫", "信金",
        "信用組合", "ゆうちょ", "振込", "振り込み",
    )
    _ENGLISH_WORDS = ("bank", "branch", "acct", "a/c", "savings", "checking", "mufg", "smbc",
                      "mizuho", "resona")
    GATE = (*_LABEL_WORDS, *_ENGLISH_WORDS, "account")
    LABELS = _words(
        *_LABEL_WORDS,
        r"(?<![a-z])(?:" + "|".join(_ENGLISH_WORDS) + r")(?![a-z])",
        r"(?<![a-z])account[ _-]*(?:no|number|#|num)",
    )
    BEFORE = 30
    AFTER = 20
    _MONEY_BEFORE = re.compile(r"[¥$€£〒]")
    _MONEY_AFTER = re.compile(r"[ ]?(?:円|万|ドル|yen|jpy|usd|dollars?)", re.IGNORECASE)

    _YUCHO_LABELLED = re.compile(
        r"記号[ ]?:?[ ]?(1\d{4})[ ,、]*番号[ ]?:?[ ]?(\d{5,7}1)(?![0-9A-Za-z])(?![-./][0-9])"
    )
    _YUCHO = _words(r"ゆうちょ", r"貯金", r"yucho", r"japan post bank")
    _BRANCH_ACCOUNT = re.compile(
        _digit_run(r"\d", r"\d{2}-(\d{7})") + _NUM_END
    )
    # Right after the word 口座番号 (or "account number"), a branch and an account of any of
    # the lengths banks and brokers give them (証券口座 0552-118734: a four-digit branch, six
    # digits): the label says what the number is, whatever its shape.
    _LABELLED_ACCOUNT = re.compile(
        r"(?:口座番号|(?<![a-z])account[ _-]*(?:no\.?|number|#))[ \u3000]*(?:は|:|：)?[ \u3000]*"
        + "(" + _digit_run(r"\d", r"\d{2,3}[- ]\d{6,8}") + ")" + _NUM_END, re.IGNORECASE)

    def accept(self, text: str, match: re.Match[str]) -> bool:
        if len(match.group()) > 7 and not match.group().startswith("1"):
            return False
        if match.start() > 0 and self._MONEY_BEFORE.match(text, match.start() - 1):
            return False
        return self._MONEY_AFTER.match(text, match.end()) is None

    def find(self, text: str) -> Iterator[Hit]:
        yield from super().find(text)
        for m in self._YUCHO_LABELLED.finditer(text):
            if context_near(text, m.start(), m.end(), self._YUCHO, self.BEFORE, self.AFTER):
                for group in (1, 2):
                    yield Hit("JP_BANK_ACCOUNT", m.start(group), m.end(group), self.SCORE,
                              "yucho_labelled", True)
        for m in self._LABELLED_ACCOUNT.finditer(text):
            if self._BRANCH_ACCOUNT.fullmatch(m.group(1)):
                continue  # 012-3456789: the account is the seven digits, found below
            yield Hit("JP_BANK_ACCOUNT", m.start(1), m.end(1), self.SCORE, "labelled_account",
                      True)
        for m in self._BRANCH_ACCOUNT.finditer(text):
            if self._MONEY_AFTER.match(text, m.end()) is not None:
                continue
            if context_near(text, m.start(), m.end(), self.LABELS, self.BEFORE, self.AFTER):
                yield Hit("JP_BANK_ACCOUNT", m.start(1), m.end(1), self.SCORE,
                          "branch_and_account", True)


_INSURANCE = quickre.compile(
    r"""
    (?P<label>
        被保険者証?の?(?:記号・?番号|記号|番号)
      | 保険者番号
      | 記号・?番号 | 記号 | 番号 | 枝番
      | insurer(?:'s)?[ _-]*(?:no|number)
      | insured[ _-]*(?:person(?:'s)?[ _-]*)?(?:no|number)
      | (?<![a-z])(?:symbol|number|no|branch[ _-]*(?:no|number))
    )(?![a-z])
    \.?[ \u3000]*(?:[:：]|は|is)?[ \u3000]*
    (?P<v1>[0-9A-Za-z]{1,20})(?:[ ]?[・/-][ ]?(?P<v2>[0-9A-Za-z]{1,20}))?
    # not the head of a longer hyphenated number (番号 03-1234-5678 is a phone)
    (?![0-9A-Za-z])(?![ ]?[・/-][ ]?[0-9A-Za-z])
    """,
    re.VERBOSE | re.IGNORECASE,
)


class JapanHealthInsuranceRecognizer(PatternRecognizer):
    """健康保険証の記号・番号: the values after 記号 / 番号 / 枝番 / 保険者番号 / 被保険者番号.

    記号, 番号 and "number" are everyday words, so they count only with 保険 / insurance in the
    40 characters before; the 被保険者 labels are specific enough alone. Each value is its own
    span so redaction keeps the labels readable. 保険者番号 (6 or 8 digits) identifies the
    insurer, an organisation, hence its lower score.
    """

    ENTITIES = ("JP_HEALTH_INSURANCE",)
    CONTEXT = (
        "保険証", "健康保険", "被保険者", "記号", "番号", "health insurance", "insurance card"
    )
    SCORE: ClassVar[float] = 0.85
    SCORE_INSURER: ClassVar[float] = 0.6
    GATE = ("保険", "insur")
    _OTHER_NUMBER = re.compile(
        r"(?:電話|携帯|口座|注文|会員|郵便|受付|管理|予約|fax|phone|account|order|tracking"
        r"|invoice|policy)[ _-]?$",
        re.IGNORECASE,
    )
    _CONTEXT = _words(
        r"保険", r"(?<![a-z])(?:health[ _-]*insurance|insurance[ _-]*card|insured|insurer)"
    )

    def find(self, text: str) -> Iterator[Hit]:
        for m in _INSURANCE.finditer(text):
            label = m.group("label").lower()
            values = [g for g in ("v1", "v2") if any(c.isdigit() for c in m.group(g) or "")]
            if label.startswith("保険者") or label.startswith("insurer"):
                value = m.group("v1")
                if m.group("v2") is None and value.isdigit() and len(value) in (6, 8):
                    yield Hit("JP_HEALTH_INSURANCE", m.start("v1"), m.end("v1"),
                              self.SCORE_INSURER, "insurer_number", True)
                continue
            if label.startswith("被保険者") or label.startswith("insured"):
                rule = "insured_person_label"
            elif self._OTHER_NUMBER.search(text, max(0, m.start() - 8), m.start()):
                continue  # 電話番号, 口座番号, order number: some other number
            elif context_before(text, m.start(), self._CONTEXT, 40) is not None:
                rule = "insurance_card_label"
            else:
                continue
            # Two values (12345・678) only under a combined 記号・番号 label.
            if m.group("v2") is not None and "記号" not in label:
                values = values[:1] if "v1" in values else []
            for group in values:
                yield Hit("JP_HEALTH_INSURANCE", m.start(group), m.end(group), self.SCORE, rule,
                          True)


# ---------------------------------------------------------------------------------------------
# Date of birth

_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_KANJI_NUM = "[一二三四五六七八九十〇○]"
DATE_PATTERN = quickre.compile(
    rf"""
    (?<![0-9A-Za-z])
    (?:
        (?:(?P<y1>(?:19|20)\d{{2}})|(?:明治|大正|昭和|平成|令和)[ ]?(?:\d{{1,2}}|元))
            [ ]?年[ ]?(?P<m1>\d{{1,2}})[ ]?月[ ]?(?P<d1>\d{{1,2}})[ ]?日
      | [MTSHR]\.?[ ]?\d{{1,2}}(?P<s2>[./-])(?P<m2>\d{{1,2}})(?P=s2)(?P<d2>\d{{1,2}})
      | (?P<y3>(?:19|20)\d{{2}})(?P<s3>[/.-])(?P<m3>\d{{1,2}})(?P=s3)(?P<d3>\d{{1,2}})
      | (?P<a4>\d{{1,2}})(?P<s4>[/.-])(?P<b4>\d{{1,2}})(?P=s4)(?:19|20)\d{{2}}
      | (?i:{_MONTHS})\.?[ ]+(?P<d5>\d{{1,2}})(?i:st|nd|rd|th)?,?[ ]+(?:19|20)\d{{2}}
      | (?P<d6>\d{{1,2}})(?i:st|nd|rd|th)?[ ]+(?i:of[ ]+)?(?i:{_MONTHS})\.?,?[ ]+(?:19|20)\d{{2}}
      | (?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])  # 19700312 (HL7, CSV)
      # 平成三年十一月二十日
      | (?:(?:明治|大正|昭和|平成|令和)[ ]?(?:{_KANJI_NUM}{{1,3}}|元)|[一二三四五六七八九〇○]{{4}})
            [ ]?年[ ]?(?P<m7>{_KANJI_NUM}{{1,3}})[ ]?月[ ]?(?P<d7>{_KANJI_NUM}{{1,3}})[ ]?日
    )
    (?![0-9])
    """,
    re.VERBOSE,
)


# Every form of DATE_PATTERN holds a digit or a kanji numeral: a window without one holds no
# date, which one scan tells (a text dense with labels tried every form at every position of
# every label's window).
_DATE_DIGIT = quickre.compile(r"[\d一二三四五六七八九十〇○]")


def _kanji_number(value: str) -> int:
    """A kanji numeral of a month or a day: 十一, 二十, 三十一, or digit by digit (一二, 〇三);
    〇 and ○ are zero (a form's placeholder 〇月〇日 is then no date)."""
    digits = {ch: i for i, ch in enumerate("〇一二三四五六七八九")} | {"○": 0}
    if "十" in value:
        tens, _, ones = value.partition("十")
        return (digits.get(tens, 0) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)
    number = 0
    for ch in value:
        number = number * 10 + digits.get(ch, 0)
    return number


def plausible_date(m: re.Match[str]) -> bool:
    """Month 1-12 and day 1-31 where the form says which is which; d/m/y vs m/d/y either way."""

    def in_range(value: str | None, high: int) -> bool:
        return value is None or 1 <= (int(value) if value.isdigit() else _kanji_number(value)
                                      ) <= high

    for month, day in (("m1", "d1"), ("m2", "d2"), ("m3", "d3"), ("m7", "d7")):
        if not (in_range(m.group(month), 12) and in_range(m.group(day), 31)):
            return False
    if not (in_range(m.group("d5"), 31) and in_range(m.group("d6"), 31)):
        return False
    a, b = m.group("a4"), m.group("b4")
    if a is not None and b is not None:
        x, y = int(a), int(b)
        return 1 <= x <= 31 and 1 <= y <= 31 and (x <= 12 or y <= 12)
    return True


class DateOfBirthRecognizer(PatternRecognizer):
    """生年月日: a date right after 生年月日/誕生日/DOB/date of birth/born, or before 生まれ.

    The label must come at most 30 characters before the date with no other number and no
    sentence end in between, so in 「生年月日：1985年4月12日、入社日：2010年4月1日」 only the
    first date is a birth date.
    The search starts from the labels (rare) rather than from dates (common).
    """

    ENTITIES = ("DATE_OF_BIRTH",)
    CONTEXT = ("生年月日", "誕生日", "生まれ", "dob", "date of birth", "birth date", "born")
    GATE = ("生", "dob", "d.o.b", "d.ob", "do.b", "birth", "born")
    SCORE: ClassVar[float] = 0.85
    WINDOW: ClassVar[int] = 30
    _BEFORE = _words(
        r"生年月日", r"誕生日", r"生まれ",
        r"(?<![a-z])(?:d\.?o\.?b|date[ _-]*of[ _-]*birth|birth[ _-]*(?:date|day)|birthdate"
        r"|born(?:[ _-]*on)?)(?![a-z])",
    )
    # 「1985年4月12日生まれ」: the label right after the date.
    _AFTER = re.compile(r"(?<=[日0-9])[ ]?(?:生まれ|生|誕生)")
    _LONGEST_DATE = 40
    # 「生年月日は必須です。締切は…」: a sentence ending between label and date breaks the link.
    _SENTENCE_END = re.compile(r"[。！？!?]|\.\s+\D")

    def find(self, text: str) -> Iterator[Hit]:
        reported: set[int] = set()
        for label in self._BEFORE.finditer(text):
            limit = min(len(text), label.end() + self.WINDOW + self._LONGEST_DATE)
            if _DATE_DIGIT.search(text, label.end(), limit) is None:
                continue
            m = DATE_PATTERN.search(text, label.end(), limit)
            if m is None or m.start() - label.end() > self.WINDOW or m.start() in reported:
                continue
            between = text[label.end() : m.start()]
            if any(ch.isdigit() for ch in between) or self._SENTENCE_END.search(between):
                continue
            if not plausible_date(m):
                continue
            reported.add(m.start())
            yield Hit("DATE_OF_BIRTH", m.start(), m.end(), self.SCORE, "birth_date_label", True)
        for after in self._AFTER.finditer(text):
            window_start = max(0, after.start() - self._LONGEST_DATE)
            if _DATE_DIGIT.search(text, window_start, after.start()) is None:
                continue
            for m in DATE_PATTERN.finditer(text, window_start, after.start()):
                if m.end() == after.start() and m.start() not in reported and plausible_date(m):
                    reported.add(m.start())
                    yield Hit("DATE_OF_BIRTH", m.start(), m.end(), self.SCORE,
                              "birth_date_label_after", True)


@lru_cache(maxsize=1)
def _number_recognizers() -> tuple[PatternRecognizer, ...]:
    return JapanPhoneRecognizer(), JapanTollFreeRecognizer()


def is_japanese_number(window: str, start: int, end: int) -> bool:
    """True when the Japanese phone or toll-free recognizer reports ``window[start:end]`` whole.

    Lets the generic phone recognizer skip numbers that are reported anyway (and shadow its
    own finding): trying thirteen other regions' numbering plans on them finds nothing.
    """
    return any(
        hit.start <= start and hit.end >= end
        for recognizer in _number_recognizers() for hit in recognizer.find(window)
    )
