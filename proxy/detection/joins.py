"""Identifiers cut in pieces, joined again as a reader joins them.

A model reads a phone number given in two messages ("携帯は 090-84 から" … "続きは 36-4147"), a
card split over three content parts or four CSV cells, a My Number in halves ("前半: 2213",
"後半: 5873 9837"), digits spaced out one by one ("0.9.0.4.0.3.9…") and an e-mail address cut
at its ``@`` across two turns as one value. Each text on its own holds only a fragment, which no
recognizer reports. ``joins`` assembles, for one request:

- **digit chains**: runs of two to five consecutive digit fragments, in document order across
  all of the request's texts (close together and short inside one text), holding 10 to 19
  digits together, when the text before or between them names a number of that length (a
  phone for 10-11 digits, a My Number for 12, a card for 13-19: 電話, 個人番号, カード, …);
  and a single fragment spelled out digit by digit. The chain is read as its digits, joined,
  after the 40 characters that precede it, so the recognizers see their context words;
- **e-mail seams**: the token ending one text and the token starting the next when one of them
  holds the ``@`` (or the domain is cut), also across one intervening text ("And the
  domain?"), and the two sides of a line break inside an address.

A finding in a join counts only when it covers pieces of more than one fragment (or, for a
digit-by-digit fragment, the fragment): what lies within one piece is found where it stands.
A number assembled from a digit chain counts only as the kind of number the text around it
names (a card next to "card" or カード, a phone next to 電話 or "mobile", a My Number next to
個人番号), so two unrelated numbers that happen to pass a checksum together are not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from proxy.detection import quickre
from proxy.values import Segment

JOINED_NUMBER_MIN_SCORE = 0.5
_MAX_JOINS = 64
_CONTEXT_CHARS = 40
_EDGE_CHARS = 64
_MAX_GAP = 24
# A number cut within one text is cut into short pieces (4+8 for a My Number, 8+8 or 4x4 for
# a card, 3-4-4 for a phone); across texts a piece may be longer (a card wrapped at 12).
_MAX_PIECE_IN_TEXT = 8

# A digit fragment: two or more digits with single separators between them ("8桁" says how
# many, it is no piece).
# A digit fragment: two or more digits with single separators between them, standing apart
# from letters (not "call_abc123", not the 6771 of an escape such as \u6771).
_FRAGMENT = quickre.compile(
    r"(?<![0-9A-Za-z%#\\])\d(?:[ .\-/ー\u2010-\u2015\u2212\uff0d\uff70\u30fb\u3000]?\d)+"
    r"(?![0-9A-Za-z])"
)
_STRETCH_GAP = quickre.compile(r"[ \t().\-/]+")
_PHONE_CUE = quickre.compile(r"(?i:\bphone|\btel\b|\bmobile\b|\bcell\b|\bfax\b|\bcall\b)"
                        r"|電話|携帯|連絡先")
# What the text must call a number assembled from pieces for it to count as that kind.
_KIND_CUES: dict[str, re.Pattern[str]] = {
    "CREDIT_CARD": re.compile(r"(?i:\bcards?\b|\bcredit\b|\bvisa\b|master\s?card|\bamex\b"
                              r"|\bjcb\b|\bpan\b)|カード|クレジット"),
    "JP_PHONE_NUMBER": _PHONE_CUE,
    "PHONE_NUMBER": _PHONE_CUE,
    "JP_MY_NUMBER": re.compile(r"(?i:my[ _-]?number|individual number)|個人番号|マイナンバー"),
    "JP_BANK_ACCOUNT": re.compile(r"(?i:account|acct|bank)|口座|銀行"),
    "US_BANK_NUMBER": re.compile(r"(?i:account|acct|bank)|口座|銀行"),
    "IBAN_CODE": re.compile(r"(?i:iban|account)|口座"),
    "US_SSN": re.compile(r"(?i:ssn|social security)"),
}
# What a join can assemble (all the recognizers a join is read with report one of these).
JOINED_ENTITIES = frozenset(_KIND_CUES) | {"EMAIL_ADDRESS"}
_EDGE_TOKEN = quickre.compile(r"[\w.@+\-]*$")
_HEAD_TOKEN = quickre.compile(r"[\w.@+\-]*")
_LINE_BREAK = quickre.compile(r"(?<=[\w.@+\-])[ \t]*\r?\n[ \t]*(?=[\w.@+\-])")


@dataclass(frozen=True, slots=True)
class Piece:
    """Characters ``start:end`` of the text at ``path``, standing at ``lo:hi`` of a join's
    text; ``exact`` when the two correspond character for character (else the join holds the
    piece's digits only, and a finding covers the whole piece)."""

    path: str
    start: int
    end: int
    lo: int
    hi: int
    exact: bool


@dataclass(frozen=True, slots=True)
class Join:
    """A text assembled from pieces of a request's texts (``text``), and its pieces.

    ``context`` is what the request says around a digit chain: a number assembled from
    pieces counts only as the kind of number that text names (``_KIND_CUES``).
    """

    text: str
    pieces: tuple[Piece, ...]
    min_pieces: int = 2
    context: str | None = None


def _texts(segments: Sequence[Segment]) -> list[Segment]:
    return [s for s in segments if s.kind in ("text", "tokens", "number") and not s.is_key]


# --- digit chains -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Fragment:
    segment: int
    path: str
    start: int
    end: int
    digits: str
    spelled: bool  # one digit at a time: "0 9 0 1", "0.9.0.4"


def _fragments(texts: Sequence[Segment]) -> list[_Fragment]:
    out: list[_Fragment] = []
    for i, segment in enumerate(texts):
        for m in _FRAGMENT.finditer(segment.text):
            digits = "".join(str(int(ch)) for ch in m.group() if ch.isdigit())
            groups = re.split(r"\D", m.group())
            spelled = len(groups) >= 7 and all(len(g) == 1 for g in groups)
            out.append(_Fragment(i, segment.path, m.start(), m.end(), digits, spelled))
    return out


def _before(texts: Sequence[Segment], fragment: _Fragment, chars: int) -> str:
    """The ``chars`` characters of the request before ``fragment`` (earlier texts included)."""
    parts = [texts[fragment.segment].text[:fragment.start]]
    i = fragment.segment - 1
    while sum(len(p) for p in parts) < chars and i >= 0:
        parts.insert(0, texts[i].text + "\n")
        i -= 1
    return "".join(parts)[-chars:]


def _chain_join(texts: Sequence[Segment], chain: Sequence[_Fragment]) -> Join:
    before = _before(texts, chain[0], _CONTEXT_CHARS).replace("\n", " ")
    gaps = [texts[b.segment].text[a.end:b.start] for a, b in zip(chain, chain[1:], strict=False)
            if a.segment == b.segment]
    pos = len(before) + 1
    pieces: list[Piece] = []
    for f in chain:
        pieces.append(Piece(f.path, f.start, f.end, pos, pos + len(f.digits), False))
        pos += len(f.digits)
    text = before + " " + "".join(f.digits for f in chain)
    return Join(text, tuple(pieces), 1 if len(chain) == 1 else 2, " ".join([before, *gaps]))


def _adjacent(texts: Sequence[Segment], a: _Fragment, b: _Fragment) -> bool:
    """Whether ``b`` could continue ``a``: close by in one text (both short pieces), or the
    first number of a later text after the last one of an earlier text."""
    if a.segment == b.segment:
        gap = texts[a.segment].text[a.end:b.start]
        wrapped = "\n" in gap and gap.isspace()  # a line wrapped inside the number
        longest = 12 if wrapped else _MAX_PIECE_IN_TEXT
        return (b.start - a.end <= _MAX_GAP and len(a.digits) <= longest
                and len(b.digits) <= longest)
    return True


def _kinds_for(digits: int) -> tuple[str, ...]:
    """The identifiers a number of ``digits`` digits could be (phone, My Number, card)."""
    if digits in (10, 11):
        return ("JP_PHONE_NUMBER", "PHONE_NUMBER")
    if digits == 12:
        return ("JP_MY_NUMBER",)
    if 13 <= digits <= 19:
        return ("CREDIT_CARD",)
    return ()


def _named(context: str, digits: int) -> bool:
    """Whether ``context`` names a kind of number ``digits`` digits long."""
    return any(_KIND_CUES[kind].search(context) for kind in _kinds_for(digits))


def _digit_chains(texts: Sequence[Segment]) -> Iterable[Join]:
    fragments = _fragments(texts)
    for i, first in enumerate(fragments):
        before = _before(texts, first, _CONTEXT_CHARS)
        if first.spelled and _named(before, len(first.digits)):
            yield _chain_join(texts, [first])
        if len(first.digits) > 12:
            continue
        chain = [first]
        total = len(first.digits)
        context = before
        # Fragments only brackets and separators apart in one text ("(202) 555-0199") are one
        # stretch to the recognizers where it stands, which read it in its own context (a
        # placeholder there is one here too): a join of them says nothing new.
        stretch = True
        for nxt in fragments[i + 1:i + 5]:
            if len(nxt.digits) > 12 or not _adjacent(texts, chain[-1], nxt):
                break
            if nxt.segment == chain[-1].segment:
                gap = texts[nxt.segment].text[chain[-1].end:nxt.start]
                context += " " + gap
                stretch = stretch and _STRETCH_GAP.fullmatch(gap) is not None
            else:
                stretch = False
            chain.append(nxt)
            total += len(nxt.digits)
            if total > 19:
                break
            if not stretch and _named(context, total):
                yield _chain_join(texts, chain)


# --- e-mail seams -----------------------------------------------------------------------------


def _email_cut(left: str, right: str) -> bool:
    """Whether the token ending ``left`` and the one starting ``right`` are an e-mail address
    cut in two: before or after its ``@``, or inside its domain."""
    tail = _EDGE_TOKEN.search(left)
    head = _HEAD_TOKEN.match(right)
    a = tail.group() if tail else ""
    b = head.group() if head else ""
    if not a or not b:
        return False
    return a.endswith("@") or b.startswith("@") or ("@" in a and "." not in a.rsplit("@", 1)[1])


def _seam(left: Segment, ls: int, le: int, right: Segment, rs: int, re_: int) -> Join:
    a, b = left.text[ls:le], right.text[rs:re_]
    return Join(a + b, (Piece(left.path, ls, le, 0, len(a), True),
                        Piece(right.path, rs, re_, len(a), len(a) + len(b), True)))


def _email_seams(texts: Sequence[Segment]) -> Iterable[Join]:
    for i, right in enumerate(texts):
        b = right.text.lstrip()
        if not b:
            continue
        rs = len(right.text) - len(b)
        # The text just before, or the one before that when the turn between asks a question
        # ("And the domain?").
        for left in texts[max(0, i - 2):i][::-1]:
            a = left.text.rstrip()
            if a and _email_cut(a, b):
                yield _seam(left, max(0, len(a) - _EDGE_CHARS), len(a), right, rs,
                            min(len(right.text), rs + _EDGE_CHARS))
                break
            if left is not texts[i - 1] or not b.startswith("@"):
                break
    for segment in texts:
        text = segment.text
        if "\n" not in text or "@" not in text:
            continue
        for m in _LINE_BREAK.finditer(text):
            before = text[max(0, m.start() - _EDGE_CHARS):m.start()]
            if _email_cut(before, text[m.end():m.end() + _EDGE_CHARS]):
                yield _seam(segment, max(0, m.start() - _EDGE_CHARS), m.start(), segment,
                            m.end(), min(len(text), m.end() + _EDGE_CHARS))


def joins(segments: Sequence[Segment]) -> list[Join]:
    """Every join worth reading for one request (at most ``_MAX_JOINS``)."""
    texts = _texts(segments)
    found: list[Join] = []
    for join in (*_email_seams(texts), *_digit_chains(texts)):
        found.append(join)
        if len(found) >= _MAX_JOINS:
            break
    return found


def spans_of(
    join: Join, entity_type: str, start: int, end: int, score: float
) -> list[tuple[str, int, int]]:
    """Where a finding at ``start:end`` of ``join.text`` lies in the request's texts, one span
    per piece it covers; empty when it does not cross pieces as the join requires, or when
    the join is a digit chain and its text does not name this kind of number."""
    if join.context is not None:
        cue = _KIND_CUES.get(entity_type)
        if score < JOINED_NUMBER_MIN_SCORE or cue is None or not cue.search(join.context):
            return []
    covered = [p for p in join.pieces if start < p.hi and end > p.lo]
    if len(covered) < join.min_pieces:
        return []
    out: list[tuple[str, int, int]] = []
    for p in covered:
        if p.exact:
            out.append((p.path, p.start + max(start, p.lo) - p.lo,
                        p.start + min(end, p.hi) - p.lo))
        else:
            out.append((p.path, p.start, p.end))
    return out
