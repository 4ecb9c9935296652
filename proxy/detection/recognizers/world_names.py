"""Person names written in Hangul, simplified Chinese and Cyrillic inside Japanese and English
requests: Korean, Chinese and Russian-speaking customers, students and colleagues are ordinary
in Japanese companies, and neither spaCy's English model nor Sudachi reads their names.

Each script has the shape of its names, checked against Faker's person data (a pinned
package; read at start, nothing downloaded):

- **Hangul**: a family name of one syllable (김, 이, 박, … and the two-syllable 남궁, 제갈, …)
  and a given name of one or two syllables: ``박서연``. Followed by an honorific (씨, 님, さん,
  様, 氏, 선생님) it is a name (0.85); standing alone in a text that is mostly not Korean it is
  one too (0.7), since Hangul words there are names far more often than not; inside Korean
  prose a bare word of that shape is as often an ordinary word, so it is only reported weakly.
- **Simplified Chinese**: a Chinese family name and a given name Faker lists (or any, before
  an honorific), at the start of a word — Chinese writes no spaces, so after a character that
  is not Han or after 给, 请, 和 … — with a simplified form no Japanese text uses among them
  (张, 刘, 陈, 伟 …; not in Shift_JIS): ``张伟``, ``刘洋`` (0.7; 0.85 with an honorific). Names
  in characters Japanese shares are Sudachi's.
- **Cyrillic**: two or three capitalised words of which one is a known given name and another
  a known family name, a patronymic (-ович, -овна) or a word with a family-name ending (-ов,
  -ова, -ский, -енко …): ``Дмитрий Волков``, ``Петрова Анна Сергеевна`` (0.85; 0.7 when only
  the ending speaks for the family name).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from functools import lru_cache

from proxy.detection import quickre
from proxy.detection.recognizers.base import Hit, PatternRecognizer

_HANGUL = "\uac00-\ud7a3"
_HANGUL_WORD = quickre.compile(f"(?<![{_HANGUL}])[{_HANGUL}]{{2,4}}(?![{_HANGUL}])")
_TWO_SYLLABLE_FAMILY = frozenset({"남궁", "제갈", "선우", "황보", "독고", "사공", "서문", "동방"})
_HONORIFICS = quickre.compile(
    r"[ \u3000]?(?:씨|님|선생님|선생|고객님|さん|様|さま|氏|くん|ちゃん|先生|殿)"
)

_CHINESE_HONORIFICS = quickre.compile(
    r"[ \u3000]?(?:さん|様|さま|氏|先生|女士|小姐|同学|老师|经理|くん|ちゃん)"
)
# Words after which a Chinese sentence names a person: 给/请/和/与/对/向/跟/把/被/让/叫/找/问/是/由.
_CHINESE_BEFORE_A_NAME = frozenset("给请和与对向跟把被让叫找问是由及或")

_CYRILLIC_WORD = quickre.compile(r"(?<![\w-])[А-ЯЁЄІЇҐ][а-яёєіїґʼ'-]{1,29}(?![\w-])")
_FAMILY_ENDINGS = ("ов", "ова", "ев", "ева", "ёв", "ёва", "ин", "ина", "ын", "ына", "ский",
                   "ская", "цкий", "цкая", "енко", "ук", "юк", "чук", "ич", "ян", "швили", "дзе",
                   "ько", "ных", "их", "ых")
_PATRONYMIC_ENDINGS = ("ович", "евич", "ьич", "овна", "евна", "ична", "инична")


@lru_cache(maxsize=1)
def _faker_names() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """(given, family) names per script, from Faker's ko_KR, zh_CN, ru_RU, uk_UA, bg_BG data."""

    def names(locale: str, *attributes: str) -> set[str]:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        out: set[str] = set()
        for attribute in attributes:
            value = getattr(provider, attribute, ())
            out.update(k for k in value if isinstance(k, str))
        return out

    given_attrs = ("first_names", "first_names_male", "first_names_female")
    family_attrs = ("last_names", "last_names_male", "last_names_female")
    cyrillic_given: set[str] = set()
    cyrillic_family: set[str] = set()
    for locale in ("ru_RU", "uk_UA", "bg_BG"):
        cyrillic_given |= names(locale, *given_attrs)
        cyrillic_family |= names(locale, *family_attrs)
    return {
        "hangul": (frozenset(names("ko_KR", *given_attrs)),
                   frozenset(names("ko_KR", *family_attrs)) | _TWO_SYLLABLE_FAMILY),
        "chinese": (frozenset(names("zh_CN", *given_attrs)),
                    frozenset(names("zh_CN", *family_attrs))),
        "cyrillic": (frozenset(cyrillic_given), frozenset(cyrillic_family)),
    }


def _simplified_only(ch: str) -> bool:
    """A Han character no Japanese text writes (outside Shift_JIS: 张, 刘, 陈, 伟, 晓 …)."""
    try:
        ch.encode("cp932")
    except UnicodeEncodeError:
        return True
    return False


@lru_cache(maxsize=1)
def _simplified_chars() -> re.Pattern[str]:
    """Every CJK unified ideograph outside Shift_JIS, as one character class."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x4E00, 0xA000):
        if _simplified_only(chr(code)):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return re.compile("[" + "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}"
                                    for a, b in ranges) + "]")


class WorldScriptNameRecognizer(PatternRecognizer):
    ENTITIES = ("PERSON",)
    CONTEXT = ("name", "氏名", "이름", "имя")

    def find(self, text: str) -> Iterable[Hit]:
        if text.isascii():
            return
        names = _faker_names()
        yield from self._hangul(text, *names["hangul"])
        if _simplified_chars().search(text):
            yield from self._chinese(text, *names["chinese"])
        yield from self._cyrillic(text, *names["cyrillic"])

    def _hangul(self, text: str, given: frozenset[str], family: frozenset[str]) -> Iterable[Hit]:
        words = list(_HANGUL_WORD.finditer(text))
        if not words:
            return
        hangul = sum(len(w.group()) for w in words)
        mostly_other = hangul * 3 < len(text.strip())
        for w in words:
            word = w.group()
            surname = word[:2] if word[:2] in family and len(word) == 4 else word[:1]
            rest = word[len(surname):]
            if surname not in family or not 1 <= len(rest) <= 2:
                continue
            if _HONORIFICS.match(text, w.end()) or rest in given:
                score = 0.85
            elif mostly_other and len(word) >= 3:
                score = 0.7
            else:
                score = 0.45
            yield Hit("PERSON", w.start(), w.end(), score, "hangul-name")

    def _chinese(self, text: str, given: frozenset[str], family: frozenset[str]
                 ) -> Iterable[Hit]:
        """A family name and a given name of one or two characters, at a word's start: after
        a character that is not Han, or after a word that introduces a person in Chinese
        (给 张伟, 请 刘洋) — Chinese writes no spaces."""
        # A name holds a simplified character: look only around those.
        starts = sorted({i for m in _simplified_chars().finditer(text)
                         for i in range(max(0, m.start() - 2), m.start() + 1)})
        done = 0
        for i in starts:
            ch = text[i]
            if i < done or ch not in family or i and "\u4e00" <= text[i - 1] <= "\u9fff" and (
                    text[i - 1] not in _CHINESE_BEFORE_A_NAME):
                continue
            for size in (3, 2):
                candidate = text[i:i + size]
                if len(candidate) < size or not all("\u4e00" <= c <= "\u9fff" for c in candidate):
                    continue
                honorific = _CHINESE_HONORIFICS.match(text, i + size) is not None
                if not (candidate[1:] in given or honorific):
                    continue
                if not any(_simplified_only(c) for c in candidate):
                    break
                yield Hit("PERSON", i, i + size, 0.85 if honorific else 0.7,
                          "simplified-chinese-name")
                done = i + size
                break

    def _cyrillic(self, text: str, given: frozenset[str], family: frozenset[str]
                  ) -> Iterable[Hit]:
        words = list(_CYRILLIC_WORD.finditer(text))
        i = 0
        while i < len(words) - 1:
            run = [words[i]]
            while (len(run) < 3 and i + len(run) < len(words)
                   and text[run[-1].end():words[i + len(run)].start()] in (" ", "\u00a0")):
                run.append(words[i + len(run)])
            if len(run) < 2:
                i += 1
                continue
            parts = [w.group() for w in run]
            has_given = any(p in given for p in parts)
            known_family = any(p in family for p in parts)
            patronymic = any(p.endswith(_PATRONYMIC_ENDINGS) for p in parts)
            ending = any(p.endswith(_FAMILY_ENDINGS) for p in parts if p not in given)
            if has_given and (known_family or patronymic):
                score = 0.85
            elif has_given and ending or known_family and patronymic:
                score = 0.7
            else:
                i += 1
                continue
            yield Hit("PERSON", run[0].start(), run[-1].end(), score, "cyrillic-name")
            i += len(run)
