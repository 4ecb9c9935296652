"""The text a model reads, as recognizers should see it, with a map back to the original.

Recognizers see a canonical copy of every text (``normalize``), built by passes that each
rewrite what a reader ignores or reads through:

- NFKC: full-width digits and letters become ASCII, half-width katakana full-width, circled and
  mathematical digits plain; every other Unicode decimal digit (Arabic-Indic, Devanagari, …)
  becomes its ASCII digit;
- invisible characters are removed: format characters (zero-width space and joiners, word
  joiner, soft hyphen, LRM/RLM and the other bidi controls, BOM), variation selectors and the
  keycap mark, NUL and the other control characters but tab and line breaks — NFKC keeps them,
  and one inside ``090\u200b1234\u200b5678`` hides the number from every pattern;
- Cyrillic and Greek look-alike letters inside a Latin word become Latin (``tаro@example.com``
  with a Cyrillic а is the address a reader sees); real Cyrillic and Greek words are untouched;
- digits written out: kanji numerals read digit by digit (``〇九〇－一二三四－五六七八``, as 名刺
  and 縦書き documents write them) and spelled digits of call transcripts (``oh nine oh one two
  three …``, ``ぜろきゅうぜろ…``), in runs of at least seven, become ASCII digits;
- e-mail addresses as people spell them to dodge scrapers or dictate them: ``[at]``,
  ``（アット）``, ``アットマーク``, ``(dot)``, ``ドット``, ``sato at example dot co dot jp``, and
  the spaces people put around ``@`` and the dots after it (``taro . yamada @ example . co . jp``)
  become one plain address, which the e-mail recognizer then reads;
- string literals concatenated in code (``"0901" + "2345678"``) become one literal;
- every dash-like character (ー － ‐ – — ― −, and the middle dot ・) between two digits
  becomes ``-``, so ``０９０ー１２３４`` is analysed as ``090-1234``;
- a space is inserted wherever Japanese script touches an ASCII letter or digit
  (``番号は4111…です`` → ``番号は 4111… です``): kana and kanji are word characters to ``re``, so
  without it every ``\\b``-anchored pattern (Presidio's cards, IBANs, SSNs, e-mail) silently
  misses identifiers written inside Japanese sentences.

Every character of the copy maps back to the span of original characters it came from, so a
finding, a redaction or a pseudonym lands on exactly what was written. Inserted characters map
to an empty span. ``Normalized.derive`` composes maps, which is how decoded views (see
``proxy.detection.decoding``) map back through several layers to the original.

Each pass starts with a cheap test for its trigger, so plain text costs one scan per pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from proxy.detection import quickre
from proxy.detection.domains import SUFFIX_LABELS, has_public_suffix

# Characters people type between digit groups instead of a hyphen (after NFKC, which already
# folds U+FF0D to '-'): katakana prolonged sound mark, the hyphen family, the dash family, minus,
# and the katakana middle dot (「090・2231・8874」, half-width ･ becomes ・ under NFKC).
_DASHES = frozenset("ー\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2796\u2e3a\u2e3b"
                    "\uff70\u30fc\u30fb")


def _joins_previous(ch: str) -> bool:
    # Combining marks and half-width (semi-)voiced sound marks compose with the character before
    # them under NFKC (ｶﾞ → ガ), so they must be normalised together with it.
    return unicodedata.combining(ch) != 0 or ch in "\uff9e\uff9f"


@dataclass(frozen=True, slots=True)
class Normalized:
    """A derived text and, per character of it, the original span it came from.

    ``starts[k]``/``ends[k]`` delimit the characters of ``original`` that character ``k`` of
    ``text`` was made from; an inserted character has ``starts[k] == ends[k]``.
    """

    original: str
    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a span ``[start, end)`` of the text to the original text: the smallest span
        holding every character it came from (views need not keep the original's order: a
        reversed text does not)."""
        if start >= end:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        first, last = self.starts[start], self.ends[end - 1]
        if first <= last and (end - start < 3 or self.starts[end - 1] >= first):
            return first, max(last, first)
        return min(self.starts[start:end]), max(self.ends[start:end])

    def derive(self, text: str, starts: Sequence[int], ends: Sequence[int]) -> Normalized:
        """A view of ``text``, whose character ``k`` came from ``self.text[starts[k]:ends[k]]``.

        The result maps straight to ``self.original``: maps compose, however many layers of
        rewriting and decoding lie between.
        """
        if isinstance(self.starts, range) and self.text == self.original:
            # Over the original itself the local map is the answer (empty spans included).
            return Normalized(self.original, text, starts, ends)
        n = len(self.text)
        out_starts: list[int] = []
        out_ends: list[int] = []
        own_starts, own_ends, original_len = self.starts, self.ends, len(self.original)
        for s, e in zip(starts, ends, strict=True):
            if e > s:
                out_starts.append(own_starts[s])
                out_ends.append(max(own_ends[e - 1], own_starts[s]))
            else:
                pos = own_starts[s] if s < n else original_len
                out_starts.append(pos)
                out_ends.append(pos)
        return Normalized(self.original, text, out_starts, out_ends)

    def span_of(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the view's characters ``[start, end)`` (empty: a position)."""
        if end > start:
            return self.starts[start], max(self.ends[end - 1], self.starts[start])
        pos = self.starts[start] if start < len(self.starts) else len(self.original)
        return pos, pos


def identity(text: str) -> Normalized:
    n = len(text)
    return Normalized(text, text, range(n), range(1, n + 1))


# An edit of a view: replace ``text[start:end]`` with ``new``; ``pieces`` optionally gives, per
# character of ``new``, the sub-span of ``[start, end)`` it came from (relative to ``start``).
Edit = tuple[int, int, str, Sequence[tuple[int, int]] | None]


def apply_edits(view: Normalized, edits: Sequence[Edit]) -> Normalized:
    """``view`` with every edit applied (in position order; an edit overlapping an earlier one
    is dropped). Unchanged stretches keep their map by slicing, so an edit costs what it
    touches, not the length of the text."""
    if not edits:
        return view
    text, own_starts, own_ends = view.text, view.starts, view.ends
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pos = 0
    # At one position: insertions first, then the longest replacement (which wins over a
    # shorter one inside it).
    for start, end, new, pieces in sorted(edits, key=lambda e: (e[0], e[1] > e[0], -e[1])):
        if start < pos:
            continue
        parts.append(text[pos:start])
        starts.extend(own_starts[pos:start])
        ends.extend(own_ends[pos:start])
        parts.append(new)
        if new:
            if pieces is None:
                span = view.span_of(start, end)
                starts.extend([span[0]] * len(new))
                ends.extend([span[1]] * len(new))
            else:
                for rel_start, rel_end in pieces:
                    span = view.span_of(start + rel_start, start + rel_end)
                    starts.append(span[0])
                    ends.append(span[1])
        pos = end
    parts.append(text[pos:])
    starts.extend(own_starts[pos:])
    ends.extend(own_ends[pos:])
    return Normalized(view.original, "".join(parts), starts, ends)


# --- NFKC -----------------------------------------------------------------------------------


def _changing_characters() -> re.Pattern[str]:
    """A class of every character NFKC rewrites, and of the marks that compose with the one
    before them: only where these stand does the text change."""
    ranges: list[tuple[int, int]] = []
    planes = [(0x80, 0x10000), (0x1D400, 0x1D800), (0x1F100, 0x1F300), (0x2F800, 0x2FA20)]
    for low, high in planes:
        for code in range(low, high):
            ch = chr(code)
            if 0xD800 <= code < 0xE000:
                continue
            if _joins_previous(ch) or unicodedata.normalize("NFKC", ch) != ch:
                if ranges and ranges[-1][1] == code - 1:
                    ranges[-1] = (ranges[-1][0], code)
                else:
                    ranges.append((code, code))
    body = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
                   for a, b in ranges)
    return re.compile(f"[{body}]")


_CHANGING = _changing_characters()


def _nfkc(view: Normalized) -> Normalized:
    """NFKC, character by character (a base and the marks composing with it together), where
    it changes anything: a text that is mostly stable costs a scan, not a rebuild."""
    text = view.text
    if text.isascii() or unicodedata.is_normalized("NFKC", text):
        # The common cases: ASCII, and Japanese typed on a PC (one output character per input).
        return view
    n = len(text)
    edits: list[Edit] = []
    done = 0
    for m in _CHANGING.finditer(text):
        i = m.start()
        if i < done:
            continue
        if _joins_previous(text[i]) and i > done:
            i -= 1  # the mark composes with the character before it
        j = i + 1
        while j < n and _joins_previous(text[j]):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j])
        if piece != text[i:j]:
            edits.append((i, j, piece, None))
        done = j
    return apply_edits(view, edits)


# --- single characters: digits, invisible characters, look-alike letters -------------------

# Format characters (Unicode category Cf: zero-width space and joiners, LRM/RLM, bidi controls,
# word joiner, invisible operators, BOM, soft hyphen), variation selectors and the combining
# keycap (0️⃣), and terminal colour sequences (ESC [ 31 m): a reader sees nothing there, so
# they go. Control characters other than tab and line breaks (NUL in a pasted buffer) are read
# as a gap between what they separate: they become a space.
_INVISIBLE = quickre.compile(
    "\x1b\\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\\\-_]|"
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u20e3\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff]"
)
_CONTROL = quickre.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_NON_ASCII_DIGIT = quickre.compile(r"(?![0-9])\d")

# Cyrillic and Greek letters that look like Latin ones; replaced only inside a word that also
# has Latin letters, so Russian and Greek words stay what they are.
_LOOKALIKES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w", "А": "A", "В": "B", "Е": "E",
    "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "І": "I",
    "Ј": "J", "Ѕ": "S", "α": "a", "ο": "o", "ρ": "p", "ν": "v", "τ": "t", "υ": "u", "ι": "i",
    "κ": "k", "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
})
_CYRILLIC_OR_GREEK = quickre.compile("[\u0370-\u03ff\u0400-\u04ff]")
_LATIN_LETTER = quickre.compile("[A-Za-z]")
_WORDISH = quickre.compile(r"[\w.@+\-]+")


def _characters(view: Normalized) -> Normalized:
    text = view.text
    edits: list[Edit] = []
    for m in _INVISIBLE.finditer(text):
        edits.append((m.start(), m.end(), "", None))
    for m in _CONTROL.finditer(text):
        edits.append((m.start(), m.end(), " ", None))
    if not text.isascii():
        for m in _NON_ASCII_DIGIT.finditer(text):
            edits.append((m.start(), m.end(), str(unicodedata.decimal(m.group())), None))
        words = _WORDISH.finditer(text) if _CYRILLIC_OR_GREEK.search(text) else ()
        for m in words:
            word = m.group()
            if not (_CYRILLIC_OR_GREEK.search(word) and _LATIN_LETTER.search(word)):
                continue
            latin = word.translate(_LOOKALIKES)
            if latin != word:
                edits.extend((m.start() + k, m.start() + k + 1, b, None)
                             for k, (a, b) in enumerate(zip(word, latin, strict=True)) if a != b)
    return apply_edits(view, edits)


# --- digits written as words ----------------------------------------------------------------

_KANJI_DIGITS = str.maketrans("〇零一二三四五六七八九○", "001234567890")
# Digit-by-digit kanji numerals (no 十/百/千: those write quantities, not numbers read out),
# with the separators of phone and card numbers between groups; at least seven digits.
_KANJI_RUN = quickre.compile(
    r"[〇零一二三四五六七八九○](?:[ー\-－‐―−・ 　()（）]{0,2}[〇零一二三四五六七八九○])+"
)
_MIN_SPELLED = 7
_EN_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9", "niner": "9",
}
_EN_WORDS = (r"(?:(?:double|triple)[ ]+)?"
             r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|niner)(?![A-Za-z])")
# A run of digit words read out, with the pauses between groups: "oh nine oh, one two three
# four, five six seven eight". Groups are words (or digits, between pauses). Runs are found
# from their groups of words outwards, so a long list of plain numbers costs one scan.
_EN_WORD_GROUP = quickre.compile(rf"(?i:(?<![A-Za-z0-9]){_EN_WORDS}(?:[ ]+{_EN_WORDS})*)")
_EN_PAUSE = r"(?:[ ]*[,.\-][ ]*|[ ]+dash[ ]+)"
_EN_NEXT = quickre.compile(rf"(?i:{_EN_PAUSE}(?:{_EN_WORDS}(?:[ ]+{_EN_WORDS})*|[0-9]+(?![0-9])))")
_EN_PREVIOUS = quickre.compile(rf"(?i:(?<![0-9])[0-9]+{_EN_PAUSE}$)")
_EN_WORD = quickre.compile(r"(?i:(?:(double|triple)[ ]+)?(zero|oh|o|one|two|three|four|five|six"
                      r"|seven|eight|nine|niner|[0-9]+)(?![A-Za-z]))")
_JA_DIGIT_WORDS = {
    "ぜろ": "0", "ゼロ": "0", "れい": "0", "まる": "0", "いち": "1", "イチ": "1", "にい": "2",
    "に": "2", "ニ": "2", "さん": "3", "サン": "3", "よん": "4", "ヨン": "4", "し": "4",
    "ごお": "5", "ご": "5", "ゴ": "5", "ろく": "6", "ロク": "6", "なな": "7", "ナナ": "7",
    "しち": "7", "はち": "8", "ハチ": "8", "きゅう": "9", "キュウ": "9", "く": "9",
}
_JA_WORDS = "|".join(sorted(_JA_DIGIT_WORDS, key=len, reverse=True))
# Digit words read out in Japanese, groups joined by の or a pause, as a call-centre
# transcript writes 「ぜろきゅうぜろの、さんにいいちきゅうの…」; a group may be digits
# (「０３の７４７０のヨンゴロクキュウ」). A group of words has two or more (a lone に, し, ご or
# く is a particle or a kanji reading); groups are separated by の or a pause mark, never by a
# plain space (「4321 に折り返し」).
_JA_WORD_GROUP = quickre.compile(rf"(?:{_JA_WORDS}){{2,}}")
_JA_PAUSE = r"(?:[、,・ー\-]|の、?)"
_JA_NEXT = quickre.compile(rf"{_JA_PAUSE}(?:(?:{_JA_WORDS}){{2,}}|[0-9]+(?![0-9]))")
_JA_PREVIOUS = quickre.compile(rf"(?<![0-9])[0-9]+{_JA_PAUSE}$")
_JA_WORD = quickre.compile(rf"{_JA_WORDS}|[0-9]+")
_SPELLED_TRIGGER = quickre.compile(
    r"(?i:\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)\b)")
_JA_TRIGGER = quickre.compile("[ぜゼれまいイにニさサよヨしごゴろロなナはハきキく]")
_MAX_LOOKBACK = 24


def _runs(text: str, groups: re.Pattern[str], following: re.Pattern[str],
          previous: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans of spelled-digit runs: each group of words, extended over the pauses and groups
    after it and the digit groups before it."""
    spans: list[tuple[int, int]] = []
    done = 0
    for g in groups.finditer(text):
        if g.start() < done:
            continue
        start, end = g.start(), g.end()
        while (m := following.match(text, end)) is not None:
            end = m.end()
        while (m := previous.search(text, max(done, start - _MAX_LOOKBACK), start)) is not None:
            start = m.start()
        spans.append((start, end))
        done = end
    return spans


def _numbers(view: Normalized) -> Normalized:
    text = view.text
    edits: list[Edit] = []
    if not text.isascii():
        for m in _KANJI_RUN.finditer(text):
            digits = sum(ch in "〇零一二三四五六七八九○" for ch in m.group())
            if digits >= _MIN_SPELLED:
                converted = m.group().translate(_KANJI_DIGITS)
                edits.extend((m.start() + k, m.start() + k + 1, b, None)
                             for k, (a, b) in enumerate(zip(m.group(), converted, strict=True))
                             if a != b)
        if _JA_TRIGGER.search(text):
            for start, end in _runs(text, _JA_WORD_GROUP, _JA_NEXT, _JA_PREVIOUS):
                edits.extend(_word_digits(text, start, end, _JA_WORD, _ja_digits))
    if _SPELLED_TRIGGER.search(text):
        for start, end in _runs(text, _EN_WORD_GROUP, _EN_NEXT, _EN_PREVIOUS):
            edits.extend(_word_digits(text, start, end, _EN_WORD, _en_digits))
    return apply_edits(view, edits)


def _ja_digits(word: re.Match[str]) -> str:
    return _JA_DIGIT_WORDS.get(word.group(), word.group())


def _en_digits(word: re.Match[str]) -> str:
    spoken = word.group(2).lower()
    digit = _EN_DIGIT_WORDS.get(spoken, spoken)
    repeat = {"double": 2, "triple": 3}.get((word.group(1) or "").lower(), 1)
    return digit * repeat


def _word_digits(
    text: str, start: int, end: int, words: re.Pattern[str],
    digit_of: Callable[[re.Match[str]], str],
) -> list[Edit]:
    """A run of digit words as digits: words next to each other join, a pause between groups
    (a comma, a dash, の) becomes ``-``. Runs of fewer than seven digits, or of digits alone,
    are left as they are: "one or two", "3 or 4"."""
    pieces = list(words.finditer(text, start, end))
    digits = [digit_of(w) for w in pieces]
    if sum(len(d) for d in digits) < _MIN_SPELLED or all(w.group().isdigit() for w in pieces):
        return []
    edits: list[Edit] = []
    for i, (w, d) in enumerate(zip(pieces, digits, strict=True)):
        if i:
            gap = text[pieces[i - 1].end():w.start()]
            pause = not gap.isspace() and gap != ""
            edits.append((pieces[i - 1].end(), w.start(), "-" if pause else "", None))
        if d != w.group():
            edits.append((w.start(), w.end(), d, None))
    return edits


# Letters OCR and careless typing put for digits in a number: O for 0, l and I for 1 —
# "O9O-948l-96l2" on a scanned business card. Only in a token that is otherwise digits and the
# separators of a phone or card number, with at least six digits already.
_OCR_TOKEN = quickre.compile(r"(?<![\w@])[0-9OolI()+\-.]{8,}(?![\w@])")
_OCR_DIGITS = str.maketrans("OolI", "0011")


def _ocr_digits(view: Normalized) -> Normalized:
    text = view.text
    if not any(ch in text for ch in "OolI"):
        return view
    edits: list[Edit] = []
    for m in _OCR_TOKEN.finditer(text):
        token = m.group()
        digits = sum(ch.isdigit() for ch in token)
        letters = sum(ch in "OolI" for ch in token)
        if letters and digits >= 6 and letters <= digits:
            converted = token.translate(_OCR_DIGITS)
            edits.extend((m.start() + k, m.start() + k + 1, b, None)
                         for k, (a, b) in enumerate(zip(token, converted, strict=True)) if a != b)
    return apply_edits(view, edits)


# --- e-mail addresses as people spell them --------------------------------------------------

# The at-sign as people spell it: bracketed words ("[at]", "（アット）"), アットマーク, アット, or a
# bare " at " — the last only when a dot is spelled too ("sato at example dot co dot jp"):
# "meet John at example.com" is a meeting.
_AT_WORDS = (r"\s*(?:[(（\[［【<＜{]\s*(?:アット|あっと|at|@)\s*[)）\]］】>＞}]|アットマーク|アット"
             r"|あっと|@)\s*|\s+at\s+")
# A dot as people write it in a spelled address: a word (ドット, "(dot)", " dot "), with or
# without spaces; a plain "." only unspaced or spaced on both sides ("taro . yamada"), never
# "com. Then" at the end of a sentence.
_DOT_WORD = (r"\s*(?:[(（\[［{]\s*(?:ドット|どっと|dot|\.)\s*[)）\]］}]|ドット|どっと)\s*"
             r"|\s+dot\s+")
_DOT = rf"(?:{_DOT_WORD}|\s+\.\s+|\.)"
_PART = r"[A-Za-z0-9_%+\-]"
# Never tried from inside a run of blanks: a try from there ends where the one from the run's
# start did (or the run's start was taken by the match before), and tried from every blank
# of a long run it cost the square of the run.
_NOT_IN_BLANKS = r"(?:(?!\s)|(?<!\s))"
_AT_MARK = quickre.compile(rf"{_NOT_IN_BLANKS}(?:{_AT_WORDS})", re.IGNORECASE)
_LOCAL_BEFORE = quickre.compile(rf"[A-Za-z0-9]{_PART}*(?:{_DOT}{_PART}+)*$", re.IGNORECASE)
_DOMAIN_AFTER = quickre.compile(rf"[A-Za-z0-9\-]+(?:{_DOT}[A-Za-z0-9\-]+)+", re.IGNORECASE)
_EMAIL_TRIGGER = quickre.compile(r"@|アット|あっと|[(（\[［【<＜{]\s*at\s*[)）\]］】>＞}]|\sat\s",
                            re.IGNORECASE)
_SEPARATOR = quickre.compile(rf"{_NOT_IN_BLANKS}(?:{_DOT})", re.IGNORECASE)
_SPELLED_DOT = quickre.compile(rf"{_NOT_IN_BLANKS}(?:{_DOT_WORD})", re.IGNORECASE)
_LOCAL_WINDOW = 96
# A domain name has at most 253 characters (RFC 1035); spelled out ("dot" for each ".") about
# four times that. The window bounds what each at-sign reads: unbounded, the at-signs of
# "x at b dot at dot at …" each read the rest of the text.
_DOMAIN_WINDOW = 1024


def _valid_domain_end(text: str, start: int, end: int) -> int | None:
    """Where the domain ``text[start:end]`` ends once cut back to a public suffix, if ever.

    Each cut is judged by its last labels (``SUFFIX_LABELS`` and one more decide), so a domain
    costs one look per label rather than one read of the whole domain per label.
    """
    seps = list(_SEPARATOR.finditer(text, start, end))
    ends = [sep.start() for sep in seps] + [end]
    labels = [text[a:b] for a, b in zip([start] + [sep.end() for sep in seps], ends, strict=True)]
    for k in range(len(labels), 1, -1):
        if has_public_suffix(".".join(labels[max(k - SUFFIX_LABELS - 1, 0):k])):
            return ends[k - 1]
    return None


def _emails(view: Normalized) -> Normalized:
    """Spelled e-mail addresses as one plain address. Each at-sign is read with the longest
    local part before it and the longest domain after it that ends in a public suffix
    ("marcus dot pemberton at gmail dot com": not "me at marcus dot pemberton")."""
    text = view.text
    if not _EMAIL_TRIGGER.search(text):
        return view
    edits: list[Edit] = []
    done = 0
    for at in _AT_MARK.finditer(text):
        if at.start() < done:
            continue
        domain = _DOMAIN_AFTER.match(text, at.end(), at.end() + _DOMAIN_WINDOW)
        if domain is None:
            continue
        local = _LOCAL_BEFORE.search(text, max(done, at.start() - _LOCAL_WINDOW), at.start())
        if local is None:
            continue
        mark = at.group()
        plain = mark == "@" and not any(ch.isspace() for ch in local.group() + domain.group())
        if plain or mark.strip().lower() == "at" and not _SPELLED_DOT.search(domain.group()):
            continue  # a plain address already; "meet John at example.com": a place
        end = _valid_domain_end(text, domain.start(), domain.end())
        if end is None:
            continue
        for start, stop in ((local.start(), local.end()), (domain.start(), end)):
            for sep in _SEPARATOR.finditer(text, start, stop):
                if sep.group() != ".":
                    edits.append((sep.start(), sep.end(), ".", None))
        edits.append((at.start(), at.end(), "@", None))
        done = end
    return apply_edits(view, edits)


# --- string literals concatenated in code ---------------------------------------------------

_CONCATENATED = quickre.compile(r"(?<=[\w.@+\-])([\"'])\s*\+\s*\1(?=[\w.@+\-])")


def _literals(view: Normalized) -> Normalized:
    text = view.text
    if "+" not in text:
        return view
    return apply_edits(view, [(m.start(), m.end(), "", None)
                              for m in _CONCATENATED.finditer(text)])


# --- dashes and script boundaries ------------------------------------------------------------

_DASH_BETWEEN_DIGITS = quickre.compile(
    "(?<=\\d)[" + "".join(sorted(_DASHES)) + "](?=\\d)"
)
_JA = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff"
# Where Japanese script touches an ASCII letter or digit, in either order.
_SCRIPT_BOUNDARY = quickre.compile(f"(?<=[{_JA}])(?=[A-Za-z0-9])|(?<=[A-Za-z0-9])(?=[{_JA}])")


def _dashes(view: Normalized) -> Normalized:
    if view.text.isascii():
        return view
    # Fold dashes only between digits: ー inside katakana words (サーバー) must stay a vowel mark.
    return apply_edits(view, [(m.start(), m.end(), "-", None)
                              for m in _DASH_BETWEEN_DIGITS.finditer(view.text)])


def _boundaries(view: Normalized) -> Normalized:
    if view.text.isascii():
        return view
    return apply_edits(view, [(m.start(), m.start(), " ", None)
                              for m in _SCRIPT_BOUNDARY.finditer(view.text)])


_PASSES = (_nfkc, _characters, _numbers, _ocr_digits, _emails, _literals, _dashes,
           _boundaries)


def canonical(view: Normalized) -> Normalized:
    """Every pass applied to ``view``; the result maps to ``view.original``."""
    for step in _PASSES:
        view = step(view)
    return view


def normalize(original: str) -> Normalized:
    """The canonical copy of ``original`` that recognizers analyse."""
    return canonical(identity(original))
