"""Presidio's own recognizers that Sekisho uses, made safe to run offline."""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from itertools import groupby

import phonenumbers
import regex
from presidio_analyzer import EntityRecognizer, Pattern, RecognizerResult
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

from proxy.detection import quickre
from proxy.detection.budget import charged, check_budget
from proxy.detection.domains import has_public_suffix
from proxy.detection.names import (
    LATIN_LOWER,
    LATIN_UPPER,
    Lexicon,
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
_PHONE_CANDIDATE = quickre.compile(r"[+(]?\d[\d \t().\-/]{5,}\d")
_MIN_PHONE_DIGITS = 7
_ISO_DATE = quickre.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
# A month/day and a 24-hour time, as schedules write them ("ETA 06/18 0600"), and a range of
# two such times joined by an en or em dash ("Rain stoppage 13 June 0200–0745").
_HHMM = r"(?:[01]\d|2[0-3])[0-5]\d"
_DAY_AND_TIME = quickre.compile(rf"(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01])[ \t]+{_HHMM}")
# (The canonical text has made an en dash a hyphen, so a range counts only after its day.)
_TIME_RANGE = quickre.compile(rf"{_HHMM}[ \t]*[-–—][ \t]*{_HHMM}")
_DAY_BEFORE = quickre.compile(
    r"(?i:\b\d{1,2}(?:st|nd|rd|th)?[ \t]+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    r"|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?|\b\d{1,2}/\d{1,2})[ \t,]*$")
_BARE_DIGITS_SCORE = 0.3
_IPV4 = quickre.compile(r"(?:\d{1,3}\.){3}\d{1,3}")
# A code glued to the digits by a hyphen: "#A-4417-9920", "CS-2024-118823", "INV-…". Nobody
# writes a phone number that way, but order, ticket and case numbers look like this.
_ID_PREFIX = quickre.compile(r"(?<![A-Za-z])([A-Za-z]{1,6})[-_]$")
_PHONE_WORDS = frozenset({"tel", "fax", "phone", "mobile", "mob", "cell", "ph", "call"})
# ... or named as an identifier: "lot 240611-07", "serial no. 4417 9920", "製番 2406-1107".
_ID_WORD = quickre.compile(
    r"(?i:\b(?:lot|batch|order|invoice|ticket|case|serial|part|po|sku|item|ref|build|version|"
    r"model|job|run|tracking|error|err|errno)\b\.?(?:[ \t]*(?:no\b\.?|number|code|#|id\b))?)"
    r"|ロット|注文|伝票|製番|品番|型番|製造番号|受付番号|問い合わせ番号|管理番号|エラー(?:コード)?"
)
_ID_WORD_END = quickre.compile(r"[ \t]*[:#：]?[ \t]*$")
# Business lines, not a person's: toll-free, shared-cost and premium numbers of any country
# (1-800-…, 0800 …; Japan's 0120 has its own recognizer).
_PUBLIC_NUMBER_TYPES = frozenset({
    phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.SHARED_COST,
    phonenumbers.PhoneNumberType.PREMIUM_RATE, phonenumbers.PhoneNumberType.UAN,
})


# A stretch longer than this is read in windows of this many characters, each overlapping the
# next by ``_NUMBER_REACH``, so every number of up to that many characters (more than any
# number's digits and separators: "+44 (0) 20 7946 0321" has 20) lies whole in one of them.
# Stretches up to this length (every number of the evaluation corpora, lists of a few numbers)
# are read whole, as before; lists of realistic numbers read in windows give the same findings.
_MAX_STRETCH = 256
_NUMBER_REACH = 32


# The longest digit string a valid number can be written with: libphonenumber's longest national
# significant number (17 digits) after an international prefix (at most 4 digits in
# PHONE_REGIONS) and a country code (3).
_MAX_WRITTEN_DIGITS = 17 + 4 + 3
# Where a region's national prefix is rewritten (Brazil's carrier codes: a transform rule keeps
# a later group), the reader lets it be any leading digits up to this many ("90" and "15").
_MAX_REWRITTEN_PREFIX = 7
_DIGIT_GROUP = quickre.compile(r"\d+")


# The number types ``is_valid_number`` accepts (``phonenumberutil._number_type_helper``).
_NUMBER_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager",
                 "uan", "voicemail", "fixed_line", "mobile")


def _typed_national(meta: phonenumbers.PhoneMetadata) -> str:
    """A pattern for the national significant numbers of ``meta``'s region that are of a number
    type: per type, its pattern behind a look-ahead for its possible lengths (the general ones
    where the type lists none, as ``_is_number_matching_desc`` reads them)."""
    general = (meta.general_desc.possible_length if meta.general_desc is not None else None) or ()
    alternatives: list[str] = []
    for name in _NUMBER_TYPES:
        desc = getattr(meta, name)
        if desc is None or desc.national_number_pattern is None:
            continue
        lengths = sorted({n for n in (desc.possible_length or general) if n > 0})
        ahead = "|".join(rf"\d{{{n}}}" for n in lengths)
        alternatives.append(f"(?=(?:{ahead})$)(?:{desc.national_number_pattern})" if ahead
                            else f"(?:{desc.national_number_pattern})")
    return "|".join(alternatives) or "(?!)"


def _region_readers(regions: tuple[str, ...]) -> dict[str, re.Pattern[str]]:
    """Per region, a pattern that every digit string the matcher could read as a valid number
    of that default region fully matches.

    With leniency VALID, a match is a number ``is_valid_number`` accepts, so its national
    significant number is of some number type of a region of its country code: it fully
    matches that type's pattern and has one of its possible lengths (``_typed_national``; the
    general pattern, the union of the types', let through twice as many regions for the card-
    and date-shaped digit groups that make up most stretches). Written without ``+``, its
    digits are that national number after what ``parse`` strips for the default region: the
    region's country code, then its national prefix (``national_prefix_for_parsing``, where the
    reader tries every way that pattern can match, not only the one ``parse`` takes) — or they
    start with the region's international prefix, after which any country's number may follow
    (with ``+``, which any region reads alike, the recognizer tries one region anyway). The
    reader accepts a superset of those strings, so skipping a region it rejects skips nothing
    the matcher would have found (``tests/detection/test_phone_regions.py`` compares both on
    every region's example numbers and on number-like stretches).
    """
    readers: dict[str, re.Pattern[str]] = {}
    for region in regions:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        if meta is None or meta.general_desc is None or meta.country_code is None:
            raise ImportError(f"phonenumbers has no metadata for {region}")
        national = "|".join(
            _typed_national(other)
            for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[meta.country_code]
            if (other := phonenumbers.PhoneMetadata.metadata_for_region(code)) is not None
            and other.general_desc is not None
        )
        prefix = meta.national_prefix_for_parsing
        stripped = ("" if prefix is None else
                    rf"\d{{0,{_MAX_REWRITTEN_PREFIX}}}?" if meta.national_prefix_transform_rule
                    else f"(?:{prefix})?")
        alternatives = [f"(?:{meta.country_code})?{stripped}(?:{national})"]
        if meta.international_prefix is not None:
            alternatives.append(rf"(?:{meta.international_prefix})\d*")
        readers[region] = re.compile("|".join(f"(?:{a})" for a in alternatives))
    return readers


_REGION_READERS = _region_readers(PHONE_REGIONS)


def _regions_for(window: str, regions: tuple[str, ...]) -> tuple[str, ...]:
    """The ``regions`` in which some run of ``window``'s digit groups could be a valid number.

    The matcher's candidates begin and end between a digit and a separator (its inner matches
    split at separators), so every number it reads is written with the digits of consecutive
    groups; those of at most ``_MAX_WRITTEN_DIGITS`` digits are tried against each region's
    reader (``_region_readers``).
    """
    groups = [phonenumbers.normalize_digits_only(g) for g in _DIGIT_GROUP.findall(window)]
    runs: list[str] = []
    for i in range(len(groups)):
        run = ""
        for group in groups[i:]:
            run += group
            if len(run) > _MAX_WRITTEN_DIGITS:
                break
            runs.append(run)
    return tuple(r for r in regions
                 if (reader := _REGION_READERS.get(r)) is None
                 or any(reader.fullmatch(run) for run in runs))


def _stretch_windows(start: int, end: int) -> list[tuple[int, int]]:
    """The spans of the stretch ``[start, end)`` the matcher reads: the stretch itself, or
    overlapping windows of ``_MAX_STRETCH`` characters that cover it."""
    if end - start <= _MAX_STRETCH:
        return [(start, end)]
    step = _MAX_STRETCH - _NUMBER_REACH
    return [(lo, min(lo + _MAX_STRETCH, end)) for lo in range(start, end - _NUMBER_REACH, step)]


def _day_and_times(text: str, m: re.Match[str]) -> bool:
    """Whether the candidate ``m`` is a day and a time, or a range of two times after its day
    — read forwards, or backwards in the reversed view (``decoding``), where the day follows
    it reversed."""
    value = m.group().strip()
    if _DAY_AND_TIME.fullmatch(value):
        return True
    if _TIME_RANGE.fullmatch(value) and _DAY_BEFORE.search(text, max(0, m.start() - 24),
                                                           m.start()):
        return True
    return (_TIME_RANGE.fullmatch(value[::-1]) is not None
            and _DAY_BEFORE.search(text[m.end():m.end() + 24][::-1]) is not None)


class WindowedPhoneRecognizer(PhoneRecognizer):
    """Presidio's phonenumbers-based recognizer, run only where a phone number could be.

    ``PhoneNumberMatcher`` parses every digit group of the whole text once per region, which
    made it the costliest recognizer. Here it runs on each candidate stretch (plus one character
    on each side, so its boundary checks still see the neighbours), one region at a time, and
    stops as soon as a number covers every digit of the stretch: another region could only
    report the same span or a part of it, which Presidio's duplicate removal drops anyway. A
    stretch that is a Japanese number is left to the Japanese recognizers, whose finding would
    shadow this one. Results map back by offset.

    The matcher costs up to 2 ms a character on long runs of digits and separators ("1/1/1/…",
    a table of numbers): a stretch longer than ``_MAX_STRETCH`` is read in overlapping windows
    (``_stretch_windows``), so no call reads more than one window, and the request's budget is
    checked between two (``budget``): such a run costs at most the budget, then the request
    fails closed.
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
            if (_names_an_identifier(text, m.start())
                    and not phone_entered_as_other(text, m.start(), m.end())
                    or _ISO_DATE.match(m.group())):
                continue  # "[2024-11-05 03:14:07]": a timestamp, whatever follows the date
            if _day_and_times(text, m):
                continue  # "ETA 06/18 0600", "13 June 0200–0745": a day and its times
            if _IPV4.fullmatch(m.group().strip(" \t.")):
                continue  # 203.0.113.200: an address of a host, which the IP recognizer reads
            for lo, hi in _stretch_windows(m.start(), m.end()):
                check_budget()
                results.extend(self._in_stretch(text, lo, hi))
        return EntityRecognizer.remove_duplicates(results)

    def _in_stretch(self, text: str, lo: int, hi: int) -> list[RecognizerResult]:
        """The numbers in ``text[lo:hi]`` (a candidate stretch or a window of one)."""
        stretch = text[lo:hi]
        if sum(ch.isdigit() for ch in stretch) < _MIN_PHONE_DIGITS:
            return []
        start = max(lo - 1, 0)
        window = text[start:hi + 1]
        first, last = lo - start, hi - start
        # The Japanese recognizers' span starts at the first digit or at "(" / "+".
        digits_from = first + len(stretch) - len(stretch.lstrip("+("))
        if is_japanese_number(window, digits_from, last):
            return []
        results: list[RecognizerResult] = []
        found = self._in_window(window, first, last)
        if not found and stretch.startswith("+") and _PHONE_WORD_NEAR.search(
                text, max(text.rfind("\n", 0, lo) + 1, lo - _PHONE_WORD_REACH), lo):
            found = self._possible(window)
        for r in found:
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
        return results

    def _possible(self, window: str) -> list[RecognizerResult]:
        """The numbers of ``window`` that have a country code and a possible length for it,
        valid or not: written with ``+`` after a word of calling, a number is one even where
        phonenumbers' metadata lists its range as unallocated — invented for a form, or
        allocated since the metadata was built ("I'll be calling +44 7700 914382")."""
        return [self._get_recognizer_result(match, window,  # type: ignore[no-untyped-call]
                                            phonenumbers.region_code_for_number(match.number)
                                            or "ZZ", None)
                for match in phonenumbers.PhoneNumberMatcher(
                    window, "ZZ", leniency=phonenumbers.Leniency.POSSIBLE)
                # A whole number's length, not a local one's (+1-555-0123 has seven digits),
                # and not in a range set aside for fiction.
                if phonenumbers.is_possible_number_with_reason(match.number)
                == phonenumbers.ValidationResult.IS_POSSIBLE
                and not FICTIONAL_NUMBER.search(f"{match.number.country_code}"
                                                f"{match.number.national_number}")]

    def _in_window(self, window: str, first: int, last: int) -> list[RecognizerResult]:
        # An international number parses the same whatever the default region: once.
        if "+" in window:
            regions = self.supported_regions[:1]
        elif (self.leniency or 0) >= phonenumbers.Leniency.VALID:
            regions = _regions_for(window, tuple(self.supported_regions))
        else:
            regions = self.supported_regions
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
                result = self._get_recognizer_result(  # type: ignore[no-untyped-call]
                    match, window, number_region, None)
                if not _grouped_as_phone(match.raw_string, regions):
                    result.score = min(result.score, _BARE_DIGITS_SCORE)
                found.append(result)
                if covers:
                    return found
        return found


def _grouped_as_phone(raw: str, regions: Sequence[str]) -> bool:
    """Whether ``raw``'s digit groups are those some region writes its numbers in
    (libphonenumber's ``STRICT_GROUPING``: 0466-12-3456, (412) 555-0100, an Indian mobile's
    90919 02258) — or it has no groups to judge. A valid number's digits in groups no
    numbering plan uses (2024-0615-03, "Reg. No. 62719-608", a part number 43512-47060) are as
    often a lot, a part or a date code: such a number scores as a bare digit run does, counting
    only with a context word of calling nearby. Every region the number was read in is asked
    (0413 882 617 is Australian, though a German reading came first) — on numbers found only,
    and only where the groups are not the usual ones (``_USUAL_GROUPS``)."""
    if not _GROUP_SEPARATOR.search(raw.strip("+( )")) or _USUAL_GROUPS.fullmatch(raw.strip()):
        return True  # no groups, or the groups most numbers are written in: no need to ask
    return any(True for region in regions for _ in phonenumbers.PhoneNumberMatcher(
        raw, region, leniency=phonenumbers.Leniency.STRICT_GROUPING))


_GROUP_SEPARATOR = re.compile(r"\D")
# An area code or a trunk prefix, then groups ending in four digits ((412) 555-0100,
# 03-1234-5678, +44 20 7946 0123): how most numbers are written, read without the matcher.
_USUAL_GROUPS = re.compile(
    r"(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?|\d{1,5}[ .-])\d{2,4}[ .-]\d{4}")


# Numbers set aside for fiction, by the numbering plans that publish them (a published range
# is a list by nature): the NANP's 555-0100 to 0199, with or without an area code, and Ofcom's
# drama ranges (01632 960xxx, 020 7946 0xxx, 0161 496 0xxx, 07700 900xxx …), national or
# with +44 (and a bracketed trunk zero, +44 (0)20 …).
FICTIONAL_NUMBER = quickre.compile(
    r"(?:1?\d{3})?55501\d\d|"
    r"(?:0|440?)(?:11[3-8]4960|1[2-6]14960|1914980|2079460|2896496|2920180|1632960|7700900|"
    r"8081570|9098790|3069990)\d{3}")

# A word of calling before an international number (``WindowedPhoneRecognizer._possible``).
_PHONE_WORD_NEAR = quickre.compile(
    r"(?i:\b(?:call|calling|called|ring|ringing|phone|phoning|tel|mobile|cell|whatsapp|text|"
    r"sms|fax|dial|dialling|dialing|reach)\b)|電話|携帯|連絡先|ＴＥＬ|☎")
_PHONE_WORD_REACH = 48


# A phone number typed into another identifier's field, as the text says: "Booking ref 0412 556
# 983 … the guest typed her phone number into the reference field", 「追跡番号：090-… お客様が
# 追跡番号欄に携帯番号を入力したようです」. The label then names the field, not the number.
_PHONE_ENTERED = quickre.compile(
    r"(?i:\b(?:typed|entered|put|input|filled|wrote|written|keyed)\s+(?:in\s+)?"
    r"(?:(?:her|his|their|a|the|own|my)\s+){0,2}(?:tele)?(?:phone|mobile|cell)\b)|"
    r"(?:電話|携帯|ケータイ)(?:電話)?の?番号(?:を|が)?(?:入力|記入|入れ|書)"
)
_PHONE_ENTERED_REACH = 160


def phone_entered_as_other(text: str, start: int, end: int) -> bool:
    """Whether the line of the number at ``start..end`` says a phone number was entered where
    another identifier belongs (``_PHONE_ENTERED``)."""
    head = text.rfind("\n", 0, start) + 1
    tail = text.find("\n", end)
    tail = len(text) if tail < 0 else tail
    return _PHONE_ENTERED.search(text, max(head, start - _PHONE_ENTERED_REACH),
                                 min(tail, end + _PHONE_ENTERED_REACH)) is not None


def _names_an_identifier(text: str, start: int) -> bool:
    """Whether the words just before ``start`` call the number an identifier ("lot", "製番")."""
    before = text[max(start - 24, 0):start]
    end = _ID_WORD_END.search(before)
    head = before[:end.start()] if end is not None else before
    return any(m.end() == len(head) for m in _ID_WORD.finditer(head))


# Presidio's URL patterns: a host of up to 253 characters, then "." and one of ~670 top-level
# domains tried in its order, then a path. Every match ends in such a domain after a dot, starts
# at most this far before that dot (quote, "https://", "www123." and the host), and ends at the
# first blank, bracket or quote after it (a quoted URL takes that quote too).
_URL_REACH = 1 + len("https://") + len("www123.") + 253
_URL_BASE = UrlRecognizer.BASE_URL_REGEX
if not _URL_BASE.startswith(r"((www\d{0,3}[.])?[a-z0-9.\-]{1,253}[.](?:") or [
    p.regex.replace(_URL_BASE, "BASE") for p in UrlRecognizer.PATTERNS
] != ["(?i)(?:https?://)BASE", "(?i)BASE", r"""(?i)["\'](https?://BASE)["\']""",
      r"""(?i)["\'](BASE)["\']"""]:
    raise ImportError("Presidio's URL patterns changed: url_windows must follow them")
_URL_DOMAINS_START = _URL_BASE.index("[.](?:") + len("[.]")
_URL_DOMAINS = re.findall(
    r"\(\?:([a-z]+)\)", _URL_BASE[_URL_DOMAINS_START:_URL_BASE.index(")(?:/[^") + 1])


def _starts_of(words: list[str]) -> str:
    """A pattern that matches where one of ``words`` (lower-case letters) starts: a trie of the
    shortest ones ("co" stands for "com" too)."""
    shortest = sorted({w for w in words if not any(w.startswith(v) for v in words if v != w)})
    branches, letters = [], []
    for first, group in groupby(shortest, key=lambda w: w[0]):
        rest = [w[1:] for w in group]
        if rest == [""]:
            letters.append(first)
        else:
            branches.append(first + _starts_of(rest))
    if letters:
        branches.append(letters[0] if len(letters) == 1 else f"[{''.join(letters)}]")
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


_URL_DOMAIN_AHEAD = f"(?={_starts_of(_URL_DOMAINS)})"
_URL_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
_URL_DOT = regex.compile(r"[.]" + _URL_DOMAIN_AHEAD, _URL_FLAGS)
_URL_STOP = regex.compile(r"[\s()<>\"']", _URL_FLAGS)
_GUARDED_URL_BASE = (_URL_BASE[:_URL_DOMAINS_START] + _URL_DOMAIN_AHEAD
                     + _URL_BASE[_URL_DOMAINS_START:])


def url_windows(text: str) -> list[tuple[int, int]]:
    """The stretches of ``text`` that hold every match of Presidio's URL patterns: from
    ``_URL_REACH`` characters before each dot a top-level domain follows to the first blank,
    bracket or quote after it (and that quote), overlapping stretches merged."""
    windows: list[tuple[int, int]] = []
    stop = -1
    for dot in _URL_DOT.finditer(text):
        if stop <= dot.start():
            found = _URL_STOP.search(text, dot.start() + 1)
            stop = found.start() if found is not None else len(text)
        start, end = max(dot.start() - _URL_REACH, 0), min(stop + 1, len(text))
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


class WindowedUrlRecognizer(UrlRecognizer):
    """Presidio's URL recognizer, run only where a URL can be.

    Presidio's patterns read up to 253 host characters from every position and try their
    top-level domains, in order, at every dot they walk back over: about a millisecond per
    character of a text like "a.a.a.…" that holds no URL at all. Here the same patterns run
    only inside ``url_windows`` (each window holds whole matches, and no match lies outside
    one, so the matches are Presidio's), and a lookahead of the domains' shortest forms turns
    away, before the alternatives are tried, every dot no domain follows.
    """

    PATTERNS = [Pattern(p.name, p.regex.replace(_URL_BASE, _GUARDED_URL_BASE), p.score)
                for p in UrlRecognizer.PATTERNS]

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for start, end in url_windows(text):
            for r in super().analyze(text[start:end], entities, None, regex_flags):
                r.start += start
                r.end += start
                results.append(r)
        return results


class CardRecognizer(CreditCardRecognizer):
    """Presidio's card recognizer, minus EAN-13 barcodes.

    Presidio reads 13 digits starting with 4 as a Visa number, but 13-digit Visa numbers are no
    longer issued, and every 13-digit number starting 40-49 is an EAN-13 product code's country
    prefix (400-440 Germany, 450-459 and 490-499 Japan's JAN …): a tenth of them pass Luhn, and
    retail, salon and warehouse stock lists are full of them.
    """

    def invalidate_result(self, pattern_text: str) -> bool:
        digits = "".join(ch for ch in pattern_text if ch.isdigit())
        return len(digits) == 13


_LICENCE_LABEL = quickre.compile(
    r"(?i:\blicen[cs]e\b|\bDL\b|\bdriver'?s?\b|\blic\b)[^\n]{0,12}?[:#]?\s*$")


class ShapedUsLicenseRecognizer(UsLicenseRecognizer):
    """Presidio's US driver's licence recognizer without its shortest and version-shaped
    candidates: its weak pattern takes any letter and digit ("A4" paper, "E5" of a seat map,
    "v3" of "v3.2"), and a context word nearby ("licensed", "ID") lifted them over the
    policy's threshold. A candidate of under five characters, or one a ``.digit`` continues,
    is no licence — unless a licence's label stands right before it ("DL 1234567" of a state
    that issues short numbers, "driver's licence no. A4821"). A number written in hyphenated
    groups (Florida's S530-460-56-789-0) is one value: the patterns take its first group only,
    which would leave the rest unredacted and hide what the whole says (D000-0000-0000 (dummy))."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        kept: list[RecognizerResult] = []
        for r in super().analyze(text, entities, nlp_artifacts, regex_flags):
            groups = _HYPHENATED_GROUPS.match(text, r.end)
            if groups is not None:
                r.end = groups.end()
            if (_LICENCE_LABEL.search(text, max(0, r.start - 24), r.start)
                    or (r.end - r.start >= 5 and not re.match(r"\.\d", text[r.end:r.end + 2]))):
                kept.append(r)
        return kept


_HYPHENATED_GROUPS = quickre.compile(r"(?:-[A-Za-z0-9]{1,6})+(?![\w-])")


class WordMedicalLicenseRecognizer(MedicalLicenseRecognizer):
    """Presidio's DEA-number recognizer, for whole words only: its pattern has no word
    boundary, so it read ``HG0009921`` inside the change ticket ``CHG0009921`` (the checksum
    passes one time in ten)."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        return [r for r in super().analyze(text, entities, nlp_artifacts, regex_flags)
                if not (r.start > 0 and text[r.start - 1].isalnum())
                and not (r.end < len(text) and text[r.end].isalnum())]


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
_LATIN_WORDS = quickre.compile(f"[{LATIN_UPPER}{LATIN_LOWER}]+")


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
    names = lexicon()
    if len(words) == 1 and value.islower():
        return False  # "money bin", "ask mark": a lone lower-case word is a word
    if is_thing_word(words[-1]) and not _family_named_like_a_thing(words, names):
        return False
    if len(words) == 1 and is_thing_word(following):
        return False
    known = [w for w in words if names.is_name(w) or name_kind(w) in ("姓", "名")]
    # "Claude", "Compare Claude": when the only name is a product's and the other words are
    # everyday English, it is the assistant ("Claude Monet" is still a person).
    if known and all(is_product_name(w) for w in known):
        return not all(is_product_name(w) or names.is_english_form(w) or names.is_common(w)
                       for w in words)
    return bool(known)


def _family_named_like_a_thing(words: list[str], names: Lexicon) -> bool:
    """"Jessica Hall", "Tom Street", "Jenny Park": a head noun that is also a family name, after
    a given name (neither an everyday word nor a product's). NER reads them as people, and so
    must the lexicon's check, or the commonest Korean family name and many English ones would
    never count; "Victoria Falls" and "Grace Hopper Center" end in no family name."""
    return (len(words) >= 2 and names.is_family(words[-1]) and names.is_given(words[-2])
            and not names.is_common(words[-2]) and not is_product_name(words[-2]))


_POSSESSIVE = ("'s", "’s")
_NEXT_WORD = quickre.compile(f"[ \u00a0]([{LATIN_UPPER}{LATIN_LOWER}]+)")


# Japanese brackets a span of the blanked English copy can swallow ("Lemon」").
_BRACKETS = frozenset("「」『』【】（）〈〉《》")
_QUOTES = frozenset("'\"‘’“”")


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
            while r.start < r.end and (text[r.start].isspace() or text[r.start] in _BRACKETS):
                r.start += 1
            while r.end > r.start and (text[r.end - 1].isspace() or text[r.end - 1] in _BRACKETS):
                r.end -= 1
            if (r.end - r.start >= 3 and text[r.end - 1] in _QUOTES
                    and text[r.end - 2].isspace()):
                # "Deborah Lippmann '" of "Deborah Lippmann 'Fade to Black'": the quote opens
                # what follows the name.
                r.end -= 2
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


_SPAN_WORD = quickre.compile(r"\S+")


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
_LOCAL_PART_STOP = quickre.compile(r"[?=&/:;,|]")


# Presidio's e-mail pattern, in its parts: a local part (one character, or characters of
# ``_EMAIL_LOCAL`` with one of ``_EMAIL_EDGE`` at each end), "@", a domain.
_EMAIL_EDGE = r"[!#$%&'*+\-/=?^_`{|}~\w]"
_EMAIL_LOCAL = r"[!#$%&'*+\-/=?^_`{|}~\.\w]"
_EMAIL_DOMAIN = r"\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+"
if [p.regex for p in EmailRecognizer.PATTERNS] != [
    rf"\b((({_EMAIL_EDGE})|({_EMAIL_EDGE}{_EMAIL_LOCAL}{{0,}}{_EMAIL_EDGE}))[@]{_EMAIL_DOMAIN})\b"
]:
    raise ImportError("Presidio's e-mail pattern changed: email_windows must follow it")
_EMAIL_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
_EMAIL_LOCAL_RUN = regex.compile(_EMAIL_LOCAL + "+", _EMAIL_FLAGS)
_EMAIL_EDGE_CHAR = regex.compile(_EMAIL_EDGE, _EMAIL_FLAGS)
_EMAIL_AT_DOMAIN = regex.compile(r"[@]" + _EMAIL_DOMAIN + r"\b", _EMAIL_FLAGS)


def email_windows(text: str) -> list[tuple[int, int]]:
    """The stretches of ``text`` that hold every match of Presidio's e-mail pattern: for each
    "@" with a local-part character before it and a domain after it, the run of local-part
    characters before it and the domain, with one character on each side for the pattern's
    word boundaries; overlapping stretches merged."""
    runs = [(m.start(), m.end()) for m in _EMAIL_LOCAL_RUN.finditer(text)]
    run_ends = [end for _, end in runs]
    windows: list[tuple[int, int]] = []
    at = text.find("@")
    while at >= 0:
        domain = _EMAIL_AT_DOMAIN.match(text, at)
        if at > 0 and domain is not None and _EMAIL_EDGE_CHAR.match(text, at - 1):
            # "@" is no local-part character, so the run before it ends right there.
            run_start = runs[bisect.bisect_left(run_ends, at)][0]
            start, end = max(run_start - 1, 0), min(domain.end() + 1, len(text))
            if windows and start <= windows[-1][1]:
                windows[-1] = (windows[-1][0], end)
            else:
                windows.append((start, end))
        at = text.find("@", at + 1)
    return windows


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's e-mail recognizer, with its domain checked offline and its local part cut at
    the query or path syntax in front of it.

    Presidio's pattern reads the whole run of local-part characters from every word boundary
    in it and back: a run of "1/1/1/…" before an "@" cost the square of its length. The pattern
    runs only inside ``email_windows`` (each holds whole matches and no match lies outside one,
    so the matches are Presidio's), where the first try succeeds.
    """

    def validate_result(self, pattern_text: str) -> bool:
        # Offline: Presidio's own check would fetch the public suffix list (see domains).
        return has_public_suffix(pattern_text.rsplit("@", 1)[-1])

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        results: list[RecognizerResult] = []
        for start, end in email_windows(text):
            for r in super().analyze(text[start:end], entities, None, regex_flags):
                r.start += start
                r.end += start
                results.append(r)
        for r in results:
            at = text.rfind("@", r.start, r.end)
            stops = list(_LOCAL_PART_STOP.finditer(text, r.start, at if at >= 0 else r.end))
            if stops:
                r.start = stops[-1].end()
        return [r for r in results if r.end > r.start and text[r.start] != "@"]


class MeteredRecognizer(EntityRecognizer):
    """One of Presidio's recognizers, its time charged to the request's budget (``budget``).

    Presidio calls its recognizers itself, inside ``AnalyzerEngine.analyze``, so each is wrapped:
    the wrapper answers for the recognizer (same name, id, entities, language, context words and
    score thresholds: the context step and the thresholds find it as before) and charges the
    time of every ``analyze`` call to it.
    """

    def __init__(self, inner: EntityRecognizer) -> None:
        name = str(inner.name)  # type: ignore[has-type]  # Presidio leaves it unannotated
        super().__init__(supported_entities=inner.supported_entities, name=name,
                         supported_language=inner.supported_language, version=inner.version,
                         context=inner.context, score_thresholds=inner.score_thresholds)
        self.inner = inner
        self._id = inner.id
        self._charged_as = name

    def load(self) -> None:
        """The wrapped recognizer loaded itself when it was built."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts
    ) -> list[RecognizerResult]:
        with charged(self._charged_as):
            results: list[RecognizerResult] = self.inner.analyze(text, entities, nlp_artifacts)
        return results

    def enhance_using_context(
        self, text: str, raw_recognizer_results: list[RecognizerResult],
        other_raw_recognizer_results: list[RecognizerResult], nlp_artifacts: NlpArtifacts,
        context: list[str] | None = None,
    ) -> list[RecognizerResult]:
        with charged(self._charged_as):
            results: list[RecognizerResult] = self.inner.enhance_using_context(
                text, raw_recognizer_results, other_raw_recognizer_results, nlp_artifacts,
                context)
        return results


def stock_recognizers(language: str) -> list[EntityRecognizer]:
    """Presidio's recognizers for ``language``.

    Left out on purpose: the UK NHS recognizer (any 10-digit number passing mod 11 — one US phone
    number in eleven — with no context required), dates (``DATE_TIME`` is not personal data on
    its own and spaCy's NER already reports it), and country packs for countries our users do not
    handle. Each is wrapped in a ``MeteredRecognizer``, which charges its time to the request.
    """
    recognizers: list[EntityRecognizer] = [
        OfflineEmailRecognizer(supported_language=language),
        CardRecognizer(supported_language=language),
        IbanRecognizer(supported_language=language),
        IpRecognizer(supported_language=language),
        WindowedUrlRecognizer(supported_language=language),
        CryptoRecognizer(supported_language=language),
        UsSsnRecognizer(supported_language=language),
        UsItinRecognizer(supported_language=language),
        UsPassportRecognizer(supported_language=language),
        ShapedUsLicenseRecognizer(supported_language=language),
        UsBankRecognizer(supported_language=language),
        WordMedicalLicenseRecognizer(supported_language=language),
        WindowedPhoneRecognizer(supported_language=language, supported_regions=PHONE_REGIONS),
    ]
    ner_entities = ["PERSON", "LOCATION", "DATE_TIME"] + (["NRP"] if language == "en" else [])
    recognizers.append(
        NerRecognizer(supported_language=language, supported_entities=ner_entities)
    )
    return [MeteredRecognizer(r) for r in recognizers]
