"""Decoded views: what a text says once its encodings are read, mapped back to the original.

A model reads ``\\u5c71\\u7530`` (what ``json.dumps`` writes by default), ``taro%40example.jp``,
``&#64;``, ``=E5=B1=B1`` (quoted-printable mail), hex and base64 as easily as plain text; a
pattern does not. ``canonicalize`` returns the canonical text (``normalize``) and, when the text
holds encoded stretches, one more view per layer of decoding: the same text with every
encoded stretch replaced by what it decodes to (with ``WINDOW`` characters of the text around
it, not the whole text again), canonicalised again. Recognizers analyse every view, and each
character of a view maps back to the characters it was decoded from, so a finding in a decoded
view redacts exactly the encoded characters that carried it.

Decoders, each applied to the stretches that are its encoding:

- escape sequences: ``\\uXXXX`` (surrogate pairs joined), ``\\UXXXXXXXX``, ``\\xXX`` (byte runs
  read as UTF-8), and, in text that has those or escaped quotes, ``\\n \\t \\" \\\\ \\/``;
- percent-encoding (``%40``; byte runs read as UTF-8), HTML character references (``&#64;``,
  ``&#x30;``, ``&commat;``), quoted-printable (``=E5=B1=B1``, soft line breaks);
- hex strings that decode to text (``3039302d…``);
- base64 and base64url, line-wrapped (MIME attachments) or not, when they decode to text.

A payload that decodes to something other than text is not analysed as text: base64 of at least
``BINARY_MIN_CHARS`` characters is a file (``CONTENT_FILE``); shorter ones are hashes, nonces and
keys, which the credential recognizers read as they are. ``data:`` URLs anywhere in a text
(markdown and HTML image embeds included) are flagged by their media type (``CONTENT_IMAGE``,
``CONTENT_AUDIO``, ``CONTENT_FILE``), and their payload is not read as words; ``text/*`` and
JSON payloads are decoded like any other stretch.

Decoding is bounded: at most ``MAX_DEPTH`` layers, and decoded views totalling at most
``budget(len(text))`` characters. A text whose encodings go deeper or further is flagged
``CONTENT_ENCODED``: content Sekisho could not read is never treated as clean.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from proxy.detection import quickre
from proxy.detection.normalize import Edit, Normalized, apply_edits, canonical, identity

MAX_DEPTH = 4
BINARY_MIN_CHARS = 1024
_MIN_BUDGET = 256 * 1024


def budget(length: int) -> int:
    """How many characters of decoded views a text of ``length`` characters may produce."""
    return max(4 * length, _MIN_BUDGET)


@dataclass(frozen=True, slots=True)
class Flag:
    """Content found in a text that is not text to analyse, with its original span."""

    entity_type: str
    start: int
    end: int
    rule: str


@dataclass(frozen=True, slots=True)
class Canonical:
    """The views of one text (the canonical text first, then one per decoding layer) and the
    content flags found while reading it."""

    views: tuple[Normalized, ...]
    flags: tuple[Flag, ...]


# --- helpers --------------------------------------------------------------------------------

_PRINTABLE_OK = frozenset("\t\n\r")
# Control characters, unassigned and private-use code points, lone surrogates: what binary
# decoded by mistake is full of. Format characters (a zero-width space) are text a reader skips.
_NOT_TEXT = frozenset({"Cc", "Cn", "Co", "Cs"})


def _is_text(value: str) -> bool:
    """Readable text: (almost) no control characters but whitespace."""
    if not value:
        return False
    bad = sum(1 for ch in value
              if ch not in _PRINTABLE_OK and unicodedata.category(ch) in _NOT_TEXT)
    return bad == 0 or bad <= len(value) // 50


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


_JAPANESE = quickre.compile("[\u3040-\u30ff\u3400-\u9fff]")


def _text_of(data: bytes, legacy: bool = False) -> tuple[str, str] | None:
    """``data`` read as text, and the encoding that read it: UTF-16LE when every other byte is
    zero (PowerShell's -EncodedCommand), else UTF-8, else — with ``legacy``, for percent and
    byte escapes, where old Japanese systems write them — Shift_JIS (as CP932) or EUC-JP when
    they yield Japanese. (Random bytes often read as CP932: base64 and hex of an ordinary word
    would.)"""
    if len(data) >= 4 and len(data) % 2 == 0 and data[1::2].count(0) * 2 >= len(data) // 2:
        try:
            return data.decode("utf-16-le"), "utf-16-le"
        except UnicodeDecodeError:
            pass
    text = _utf8(data)
    if text is not None:
        return text, "utf-8"
    for encoding in ("cp932", "euc_jp") if legacy else ():
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        wide = [ch for ch in text if not ch.isascii()]
        if wide and sum(bool(_JAPANESE.match(ch)) for ch in wide) * 10 >= 9 * len(wide):
            return text, encoding
    return None


def _bytes_to_chars(
    data: bytes, spans: list[tuple[int, int]], legacy: bool = False
) -> list[tuple[str, int, int]] | None:
    """Decode ``data`` whose byte ``i`` came from ``spans[i]``: (char, start, end) each."""
    decoded = _text_of(data, legacy)
    if decoded is None:
        return None
    text, encoding = decoded
    out: list[tuple[str, int, int]] = []
    i = 0
    for ch in text:
        size = len(ch.encode(encoding, "surrogatepass")) if encoding != "utf-16-le" else (
            4 if ord(ch) > 0xFFFF else 2)
        size = max(1, min(size, len(spans) - i))
        out.append((ch, spans[i][0], spans[i + size - 1][1]))
        i += size
    return out


def _edit(start: int, chars: list[tuple[str, int, int]]) -> Edit:
    """An edit replacing a stretch starting at ``start`` with ``chars`` (view positions)."""
    end = max(e for _, _, e in chars)
    return (start, end, "".join(c for c, _, _ in chars),
            [(s - start, e - start) for _, s, e in chars])


# --- escape sequences -----------------------------------------------------------------------

_ESCAPE = quickre.compile(r'\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[0-3][0-7]{2}'
                     r'|["\\/bfnrt])')
_ESCAPE_TRIGGER = quickre.compile(
    r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[0-3][0-7]{2})"
                             r"|\\\".*\\\"")
_SIMPLE = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _escapes(text: str) -> Iterator[Edit]:
    if "\\" not in text or not _ESCAPE_TRIGGER.search(text):
        return
    run: list[re.Match[str]] = []
    for m in _ESCAPE.finditer(text):
        if run and m.start() != run[-1].end():
            yield from _escape_run(run)
            run = []
        run.append(m)
    if run:
        yield from _escape_run(run)


def _escape_run(run: list[re.Match[str]]) -> Iterator[Edit]:
    chars: list[tuple[str, int, int]] = []
    pending: list[tuple[int, int, int]] = []  # \x bytes: (value, start, end)

    def flush_bytes() -> None:
        if not pending:
            return
        decoded = _bytes_to_chars(bytes(b for b, _, _ in pending),
                                  [(s, e) for _, s, e in pending], legacy=True)
        if decoded is None:
            decoded = [(chr(b), s, e) for b, s, e in pending]
        chars.extend(decoded)
        pending.clear()

    i = 0
    while i < len(run):
        m = run[i]
        token = m.group()[1:]
        if token[0] == "x" or token[0] in "0123":
            # Byte escapes: \xE5 (C, Python), \345 (octal: git's quoted file names).
            value = int(token[1:], 16) if token[0] == "x" else int(token, 8)
            pending.append((value, m.start(), m.end()))
            i += 1
            continue
        flush_bytes()
        if token[0] in "uU":
            code = int(token[1:], 16)
            if 0xD800 <= code < 0xDC00 and i + 1 < len(run) and run[i + 1].group()[1] == "u":
                low = int(run[i + 1].group()[2:], 16)
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    chars.append((chr(code), m.start(), run[i + 1].end()))
                    i += 2
                    continue
            if 0xD800 <= code < 0xE000 or code > 0x10FFFF:
                code = 0xFFFD
            chars.append((chr(code), m.start(), m.end()))
        else:
            chars.append((_SIMPLE[token], m.start(), m.end()))
        i += 1
    flush_bytes()
    yield _edit(run[0].start(), chars)


# --- percent-encoding, quoted-printable, HTML references, hex --------------------------------

_QUOTED_PRINTABLE = quickre.compile(r"(?:=[0-9A-F]{2}|=\r?\n)+")
_QP_TRIGGER = quickre.compile(r"=[0-9A-F]{2}=[0-9A-F]{2}")
_REFERENCE = quickre.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Hex strings, bare or as SQL and C write them (0xE6B1A0…, X'E6B1A0…').
_HEX = quickre.compile(
    r"(?<![0-9A-Za-z])(?:0[xX]|[xX]')?(?P<hex>(?:[0-9a-fA-F]{2}){6,})(?![0-9A-Za-z])")


def _byte_escapes(
    text: str, pattern: re.Pattern[str], width: int, skip: str = ""
) -> Iterator[Edit]:
    """Runs of ``%XX``/``=XX`` escapes read as UTF-8; ``skip`` characters (soft breaks) go."""
    for m in pattern.finditer(text):
        values: list[int] = []
        spans: list[tuple[int, int]] = []
        pos = m.start()
        while pos < m.end():
            if skip and text.startswith(skip, pos) or text.startswith("=\r\n", pos):
                pos += 3 if text.startswith("=\r\n", pos) else len(skip)
                continue
            values.append(int(text[pos + 1:pos + width], 16))
            spans.append((pos, pos + width))
            pos += width
        if not values:
            yield (m.start(), m.end(), "", None)
            continue
        decoded = _bytes_to_chars(bytes(values), spans)
        if decoded is not None and _is_text("".join(c for c, _, _ in decoded)):
            start, end, new, pieces = _edit(m.start(), decoded)
            yield (m.start(), max(end, m.end()), new, pieces)


# A form-encoded value (``a=b&cardholder=LUCAS+FERREIRA``), where "+" is a space.
_FORM_VALUE = quickre.compile(r"(?:^|(?<=[?&\s]))[\w.\[\]%-]{1,64}=(?P<v>[\w.%+@\-]*\+[\w.%+@\-]*)"
                         r"(?=&|\s|$)")


# A stretch of a URL or form body holding percent-escapes: the literal characters between
# escapes are bytes too (Shift_JIS leaves ASCII trail bytes unescaped: "%8Eq").
_ESCAPED_BYTE = quickre.compile(r"%([0-9A-Fa-f]{2})")
_TOKEN_STOPS = frozenset(" \t\r\n&=?#\"'<>")


def _percent_tokens(text: str) -> Iterator[tuple[int, int]]:
    """Each stretch between URL delimiters holding a percent-escape, found from the escapes
    outwards (linear: a long text without spaces is scanned once)."""
    done = 0
    for m in _ESCAPED_BYTE.finditer(text):
        if m.start() < done:
            continue
        start = m.start()
        while start > done and text[start - 1] not in _TOKEN_STOPS:
            start -= 1
        end = m.end()
        while end < len(text) and text[end] not in _TOKEN_STOPS:
            end += 1
        done = end
        yield start, end


def _percent(text: str) -> Iterator[Edit]:
    if "%" in text:
        for token_start, token_end in _percent_tokens(text):
            values: list[int] = []
            spans: list[tuple[int, int]] = []
            pos = token_start
            while pos < token_end:
                escaped = _ESCAPED_BYTE.match(text, pos)
                if escaped is not None:
                    values.append(int(escaped.group(1), 16))
                    spans.append((pos, pos + 3))
                    pos += 3
                else:
                    values.extend(text[pos].encode("utf-8"))
                    spans.extend([(pos, pos + 1)] * len(text[pos].encode("utf-8")))
                    pos += 1
            chars = _bytes_to_chars(bytes(values), spans, legacy=True)
            if chars is not None and _is_text("".join(c for c, _, _ in chars)):
                yield _edit(token_start, chars)
    if "+" in text and "=" in text and ("&" in text or "%" in text):
        for m in _FORM_VALUE.finditer(text):
            for i in range(m.start("v"), m.end("v")):
                if text[i] == "+":
                    yield (i, i + 1, " ", None)


def _quoted_printable(text: str) -> Iterator[Edit]:
    if "=" in text and _QP_TRIGGER.search(text):
        yield from _byte_escapes(text, _QUOTED_PRINTABLE, 3, skip="=\n")


def _references(text: str) -> Iterator[Edit]:
    if "&" not in text:
        return
    for m in _REFERENCE.finditer(text):
        decoded = html.unescape(m.group())
        if decoded != m.group():
            yield (m.start(), m.end(), decoded, None)


def _hex(text: str) -> Iterator[Edit]:
    for m in _HEX.finditer(text):
        digits, at = m.group("hex"), m.start("hex")
        if digits.isdigit() and not (len(digits) >= 14 and all(
                0x20 <= b < 0x7F for b in bytes.fromhex(digits))):
            continue  # a number, unless it spells printable text (30 39 30 2d …)
        spans = [(at + 2 * i, at + 2 * i + 2) for i in range(len(digits) // 2)]
        chars = _bytes_to_chars(bytes.fromhex(digits), spans)
        if chars is not None:
            decoded = "".join(c for c, _, _ in chars)
            if _is_text(decoded) and any(ch.isalnum() for ch in decoded):
                start, end, new, pieces = _edit(m.start(), chars)
                yield (m.start(), max(end, m.end()), new, pieces)


# --- base64 ----------------------------------------------------------------------------------

_B64_CHARS = "A-Za-z0-9+/_\\-"
# One token, or lines of base64 as MIME and PEM wrap them (40+ characters a line).
_BASE64 = quickre.compile(
    rf"(?<![{_B64_CHARS}])(?:[{_B64_CHARS}]{{40,}}={{0,2}}[ \t]*\r?\n[ \t]*)*"
    rf"[{_B64_CHARS}]{{12,}}={{0,2}}(?![{_B64_CHARS}=])"
)
_UPPER = quickre.compile("[A-Z]")
_LOWER = quickre.compile("[a-z]")
_DIGIT = quickre.compile("[0-9]")


def _b64_payload(candidate: str) -> bytes | None:
    body = candidate.rstrip("=")
    if "-" in body or "_" in body:
        if "+" in body or "/" in body:
            return None
        altchars: bytes | None = b"-_"
    else:
        altchars = None
    if len(body) % 4 == 1:
        return None
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        return None


def _base64(text: str, flags: list[Flag], view: Normalized) -> Iterator[Edit]:
    for m in _BASE64.finditer(text):
        raw = m.group()
        kinds = bool(_UPPER.search(raw)) + bool(_LOWER.search(raw)) + bool(_DIGIT.search(raw))
        if kinds < 2 and not raw.endswith("="):
            continue
        # Positions of the payload characters (line breaks and indentation skipped).
        positions = [m.start() + i for i, ch in enumerate(raw) if ch not in " \t\r\n"]
        compact = "".join(text[p] for p in positions)
        data = _b64_payload(compact)
        if data is None:
            continue
        read = _text_of(data)
        if read is None or not _is_text(read[0]):
            if len(compact) >= BINARY_MIN_CHARS:
                flags.append(Flag("CONTENT_FILE", *view.span_of(m.start(), m.end()),
                                  "binary_base64"))
            continue
        spans = []
        for i in range(len(data)):
            group = 4 * (i // 3)
            first = positions[group]
            last = positions[min(group + 3, len(positions) - 1)]
            spans.append((first, last + 1))
        chars = _bytes_to_chars(data, spans)
        if chars is not None:
            yield _edit(m.start(), chars)


# --- data: URLs ------------------------------------------------------------------------------

_DATA_URL = quickre.compile(
    r"(?<![A-Za-z0-9])data:(?P<mime>[A-Za-z0-9.+\-]+/[A-Za-z0-9.+\-]+)?"
    r"(?P<params>(?:;[A-Za-z0-9.+\-]+(?:=[^;,\s\"'<>()]*)?)*),"
    r"(?P<payload>[^\s\"'<>()\]]*)",
    re.IGNORECASE,
)
_TEXT_MEDIA = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded")


def _data_urls(view: Normalized, flags: list[Flag]) -> Normalized:
    """Flag the data: URLs of ``view`` and blank the payloads that are not text."""
    if "data:" not in view.text.lower():
        return view
    edits: list[Edit] = []
    for m in _DATA_URL.finditer(view.text):
        mime = (m.group("mime") or "text/plain").lower()
        if mime.startswith("image/"):
            kind = "CONTENT_IMAGE"
        elif mime.startswith("audio/"):
            kind = "CONTENT_AUDIO"
        elif mime.startswith(_TEXT_MEDIA):
            continue  # text: the decoders read the payload like any other stretch
        else:
            kind = "CONTENT_FILE"
        flags.append(Flag(kind, *view.span_of(m.start(), m.end()), "data_url"))
        payload = m.group("payload")
        if payload:
            edits.append((m.start("payload"), m.end("payload"), " " * len(payload),
                          [(i, i + 1) for i in range(len(payload))]))
    return apply_edits(view, edits)


# --- transforms a reader applies when told to ------------------------------------------------

# "Decode this ROT13", 「逆から書いてあるので直して」: the text says how to read it, and a
# model does. Only then is the text also read rotated or reversed (a whole extra view each).
_ROT13_CUE = quickre.compile(r"(?i:rot[ \-_]?13|caesar|シーザー)")
_REVERSED_CUE = quickre.compile(r"(?i:\brevers|backwards?\b|逆から|逆さ|逆順|反転|右から左)")
_ROT13 = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)


def _told_views(view: Normalized) -> list[Normalized]:
    text, n = view.text, len(view.text)
    out: list[Normalized] = []
    if _ROT13_CUE.search(text):
        out.append(view.derive(text.translate(_ROT13), range(n), range(1, n + 1)))
    if _REVERSED_CUE.search(text):
        out.append(view.derive(text[::-1], range(n - 1, -1, -1), range(n, 0, -1)))
    return out


# --- layers ----------------------------------------------------------------------------------


def _layer_edits(view: Normalized, flags: list[Flag]) -> list[Edit]:
    text = view.text
    edits: list[Edit] = []
    edits.extend(_escapes(text))
    edits.extend(_percent(text))
    edits.extend(_quoted_printable(text))
    edits.extend(_references(text))
    edits.extend(_hex(text))
    edits.extend(_base64(text, flags, view))
    return edits


# A decoded view holds only what changed, with this much of the text around it on each side
# (more than any recognizer's context window); windows are joined with a gap no context
# crosses.
WINDOW = 64
_GAP = "\n" + " " * 80 + "\n"


def _windowed(view: Normalized, edits: list[Edit]) -> Normalized:
    """``view`` decoded: each stretch of edits with ``WINDOW`` characters either side, the
    stretches joined by a gap (which maps to no original character). A long text with one
    base64 token costs a view of that token, not a second copy of the text."""
    n = len(view.text)
    windows: list[list[int]] = []
    for start, end, _new, _pieces in sorted(edits, key=lambda e: e[0]):
        low, high = max(0, start - WINDOW), min(n, end + WINDOW)
        if windows and low <= windows[-1][1]:
            windows[-1][1] = max(windows[-1][1], high)
        else:
            windows.append([low, high])
    texts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for k, (low, high) in enumerate(windows):
        piece = Normalized(view.original, view.text[low:high], view.starts[low:high],
                           view.ends[low:high])
        inside = [(s - low, e - low, new, p) for s, e, new, p in edits if low <= s and e <= high]
        decoded = apply_edits(piece, inside)
        if k:
            texts.append(_GAP)
            anchor = decoded.starts[0] if decoded.starts else len(view.original)
            starts.extend([anchor] * len(_GAP))
            ends.extend([anchor] * len(_GAP))
        texts.append(decoded.text)
        starts.extend(decoded.starts)
        ends.extend(decoded.ends)
    return Normalized(view.original, "".join(texts), starts, ends)


def canonicalize(text: str, start: Normalized | None = None) -> Canonical:
    """The canonical text and its decoded views, with the content flags found on the way.

    ``start`` is a view of ``text`` to begin from (a label in front, say); by default the text.
    """
    flags: list[Flag] = []
    main = _data_urls(canonical(start if start is not None else identity(text)), flags)
    views = [main]
    spent = 0
    limit = budget(len(text))
    current = main
    for depth in range(MAX_DEPTH + 1):
        edits = _layer_edits(current, flags)
        if not edits:
            break
        if depth == MAX_DEPTH:
            flags.append(Flag("CONTENT_ENCODED", 0, len(text), "nested_encoding"))
            break
        decoded = _data_urls(canonical(_windowed(current, edits)), flags)
        spent += len(decoded.text)
        if spent > limit:
            flags.append(Flag("CONTENT_ENCODED", 0, len(text), "decoding_budget"))
            break
        views.append(decoded)
        current = decoded
    views.extend(_told_views(main))
    return Canonical(tuple(views), tuple(dict.fromkeys(flags)))
