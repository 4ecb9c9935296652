"""Reversible pseudonyms: the placeholders one request's values are sent to the cloud as, and
their restoration in the answer, whole or streamed.

The default placeholder is ``[[PERSON_1]]``: ASCII, typed, short, and a shape ordinary text
does not contain. Double square brackets are what wiki and template languages use for a
reference, so models treat them as an opaque name to copy rather than prose to rephrase or
translate (single brackets and ``<TYPE>`` are read as Markdown links and HTML tags, ``{{…}}``
as a template to fill in); the type tells the model what it stands for, so "Dear [[PERSON_1]]"
still reads as a greeting. The format is configurable (``pseudonym_format``).

Numbering is per request: a chat resends its history with the real values (the client saw
them restored), so the same value gets the same placeholder again without any state across
requests. A Responses follow-up (``previous_response_id``) does not resend its history, and the
cloud still holds the earlier turns' placeholders, which this request cannot restore; it
numbers from a random base (``[[PERSON_417]]``) so that its own placeholders never collide with
theirs. A placeholder the client itself wrote in the request is never issued, so it cannot be
confused with Sekisho's: it comes back as it was.

Restoration tolerates what models do to placeholders: case changes, spaces inside the
brackets or around the separator, Markdown escapes (``\\[\\[PERSON\\_1\\]\\]``), text glued on
either side (``[[PERSON_1]]様``). A placeholder never issued (``[[PERSON_7]]`` invented by the
model) is left as it is. Inside tool-call arguments, which are JSON text, a value is put back
JSON-escaped.

The mapping lives in the request that made it: never logged, cached or kept after its answer.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field

import regex

DEFAULT_FORMAT = "[[{type}_{n}]]"
# Short placeholder kinds for the entity types models meet most; others keep their own name.
KINDS = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "JP_PHONE_NUMBER": "PHONE",
    "JP_POSTAL_CODE": "POSTCODE",
    "JP_ADDRESS": "ADDRESS",
    "STREET_ADDRESS": "ADDRESS",
    "DATE_OF_BIRTH": "BIRTHDATE",
    "LOCATION": "PLACE",
}
_MAX_N = 6  # digits


class FormatError(ValueError):
    """A placeholder format Sekisho cannot restore reliably."""


@dataclass(frozen=True)
class PlaceholderFormat:
    """``prefix{type}separator{n}suffix``, e.g. ``[[{type}_{n}]]``."""

    template: str = DEFAULT_FORMAT
    prefix: str = field(init=False)
    separator: str = field(init=False)
    suffix: str = field(init=False)
    pattern: regex.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        t = self.template
        if t.count("{type}") != 1 or t.count("{n}") != 1 or t.index("{type}") > t.index("{n}"):
            raise FormatError("the placeholder format needs {type} then {n}, once each")
        prefix, rest = t.split("{type}")
        separator, suffix = rest.split("{n}")
        for name, part in (("prefix", prefix), ("suffix", suffix)):
            if not part or not part.isascii() or any(ch.isalnum() or ch.isspace() for ch in part):
                raise FormatError(f"the placeholder {name} must be ASCII punctuation, not"
                                  f" {part!r}")
        if len(separator) > 1 or separator.isalnum():
            raise FormatError("the separator between {type} and {n} must be one punctuation"
                              " character or nothing")
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "separator", separator)
        object.__setattr__(self, "suffix", suffix)
        object.__setattr__(self, "pattern", _tolerant(prefix, separator, suffix))

    def render(self, kind: str, n: int) -> str:
        return f"{self.prefix}{kind}{self.separator}{n}{self.suffix}"


def _tolerant(prefix: str, separator: str, suffix: str) -> regex.Pattern[str]:
    """What a model may make of a placeholder, bounded in length (so a partial match at the
    end of a streamed piece is short, and holding it back costs little)."""
    def loose(part: str) -> str:
        # Each character optionally backslash-escaped (Markdown), spaces between them.
        return r"\s{0,2}".join(r"\\?" + regex.escape(ch) for ch in part)

    sep = (r"\s{0,2}(?:\\?" + regex.escape(separator) + r"|\s)\s{0,2}") if separator else r"\s?"
    return regex.compile(
        loose(prefix) + r"\s{0,3}(?P<type>[A-Za-z][A-Za-z_]{0,39}?)" + sep
        + r"(?P<n>[0-9]{1," + str(_MAX_N) + r"})\s{0,3}" + loose(suffix),
        regex.IGNORECASE,
    )


class Pseudonyms:
    """One request's mapping: value key → placeholder, placeholder → value."""

    def __init__(self, fmt: PlaceholderFormat, *, taken: set[tuple[str, int]] | None = None,
                 base: int = 1) -> None:
        self.format = fmt
        self._by_key: dict[str, str] = {}
        self._values: dict[tuple[str, int], str] = {}
        self._next: Counter[str] = Counter()
        self._taken = set(taken or ())
        self._base = base
        self.issued: Counter[str] = Counter()
        """Placeholders issued per kind (for the audit line and ``explain``)."""

    @classmethod
    def for_request(cls, fmt: PlaceholderFormat, texts: list[str], *,
                    follow_up: bool = False) -> Pseudonyms:
        """A mapping for a request whose texts are ``texts``: placeholders the client wrote
        are never issued; a follow-up numbers from a random base."""
        taken = {(m.group("type").upper(), int(m.group("n")))
                 for text in texts for m in fmt.pattern.finditer(text)}
        base = random.SystemRandom().randrange(100, 1000) if follow_up else 1
        return cls(fmt, taken=taken, base=base)

    def placeholder(self, entity_type: str, key: str, value: str) -> str:
        """The placeholder of the value keyed ``key`` (issued on first use)."""
        existing = self._by_key.get(key)
        if existing is not None:
            return existing
        kind = KINDS.get(entity_type, entity_type)
        n = self._base + self._next[kind]
        while (kind, n) in self._taken:
            n += 1
        self._next[kind] = n - self._base + 1
        self._values[(kind, n)] = value
        self.issued[kind] += 1
        placeholder = self.format.render(kind, n)
        self._by_key[key] = placeholder
        return placeholder

    def value(self, kind: str, n: int) -> str | None:
        return self._values.get((kind.upper(), n))

    def __bool__(self) -> bool:
        return bool(self._values)


class Restorer:
    """Puts one request's values back into the answer; counts what it restored."""

    def __init__(self, pseudonyms: Pseudonyms) -> None:
        self.pseudonyms = pseudonyms
        self.pattern = pseudonyms.format.pattern
        self.restored = 0

    def _replace(self, match: regex.Match[str], json_string: bool) -> str:
        value = self.pseudonyms.value(match.group("type"), int(match.group("n")))
        if value is None:
            return str(match.group(0))  # never issued: the model's own, or the client's
        self.restored += 1
        return json.dumps(value, ensure_ascii=False)[1:-1] if json_string else value

    def text(self, text: str, *, json_string: bool = False) -> str:
        """``text`` with every issued placeholder replaced by its value."""
        if not self.pseudonyms or not text:
            return text
        return str(self.pattern.sub(lambda m: self._replace(m, json_string), text))

    def stream(self, *, json_string: bool = False) -> TextStream:
        return TextStream(self, json_string)


class TextStream:
    """One streamed text (a choice's content, a tool call's arguments, an output item's
    text): ``feed`` each piece, get what can be shown now; ``flush`` at its end. Held back is
    only a tail that could still become a placeholder."""

    def __init__(self, restorer: Restorer, json_string: bool) -> None:
        self.restorer = restorer
        self.json_string = json_string
        self.pending = ""

    def feed(self, piece: str) -> str:
        text = self.pending + piece
        self.pending = ""
        if not self.restorer.pseudonyms:
            return text
        cut = len(text)
        for match in self.restorer.pattern.finditer(text, partial=True):
            if match.partial:
                cut = match.start()
        self.pending = text[cut:]
        return self.restorer.text(text[:cut], json_string=self.json_string)

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self.restorer.text(text, json_string=self.json_string)
