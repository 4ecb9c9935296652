"""Person names in Latin script found with the name lexicon, without a model.

Two shapes, each of which NER misses in business prose:

- A given name followed by a capitalised word: "review for Priya Raghunathan". The given name
  must be in the lexicon and not an everyday word ("Will", "May"); the next word counts as a
  family name when the lexicon knows it (0.85) or when it is any other capitalised word that is
  not an everyday word (0.7). A third capitalised name word is taken along ("Mary Ann Smith").
- An initial and a known family name, in any case: "inspector: d. patel", "J. Okafor" (0.75).
- Two lower-case words, a given name and a family name, as people type in chat: "reply to sandra
  oyelaran", "dwayne kowalski" (0.85 when the lexicon knows the family name, else 0.7). Not
  when both are English words ("grace period", "rose gold", "john smith": NER's call), nor
  when the family-name word is unknown and either word is English ("max value"); a given name
  that is an everyday word only before a family name English never uses ("bill nwachukwu", 0.7).
- A name after a title: "Mr Okonkwo", "Dr. Ahmed Hassan", "Ms. LIN Meihua" (0.85).
- A known family name in capitals and a given name, as Japanese records write a foreign
  resident's: "LEE Ji-hoon", "WANG Fang" (0.85; the given name known, or in the hyphenated
  shape of romanised Korean and Chinese names).
- Two lower-case words after a word that addresses a person (as below), a given name and no
  everyday word, before a word that goes on about the person: "ask marguerite delacroix about
  her PTO" (0.7).
- A lone given name after a word that addresses or mentions a person: "Dear Agnieszka",
  "ask Oluwadamilare", "cc: Ingrid" (0.65). Not after "for" or "to": "migrate to Aurora" names
  a database.
- Any other lone capitalised given name that is not an English word, an everyday word or a
  family name too: "a birthday message for Agnieszka", "Adaeze." as the answer to "her first
  name?" (0.6, the default policy's threshold: a given name in context identifies a colleague).
  Names that English also uses as words ("Grace", "Will", "Aurora") are left to NER, and
  products named like people ("Claude", "Okta", "Julia") never count alone.

See ``proxy.detection.names`` for where the names come from.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Iterable

from spacy.lang.en.stop_words import STOP_WORDS

from proxy.detection import quickre
from proxy.detection.domains import has_public_suffix
from proxy.detection.names import (
    LATIN_LOWER,
    LATIN_UPPER,
    Lexicon,
    is_product_name,
    is_thing_word,
    lexicon,
)
from proxy.detection.recognizers.base import Hit, PatternRecognizer
from proxy.detection.recognizers.romaji_names import compound_family, is_place, to_katakana

__all__ = ["LexiconNameRecognizer"]

# A capitalised name word: Smith, O'Connell, McDonald, Al-Sayed, Chloé, Wiśniewska; or an
# all-caps family name as Japanese business text writes it (TANAKA).
_U, _L = LATIN_UPPER, LATIN_LOWER
# A possessive "'s" is not part of the name ("Warren Buffett's letter").
_NOT_POSSESSIVE = r"(?<!['’]s)"
_NAME_WORD = (rf"[{_U}](?:['’][{_U}])?[{_L}'’]+(?:[{_U}][{_L}]+)?"
              rf"(?:-[{_U}][{_L}'’]+)?{_NOT_POSSESSIVE}")
_WORD = quickre.compile(rf"(?<![\w.@/\-])(?:{_NAME_WORD}|[{_U}]{{2,}}(?![{_L}]))(?![\w@])")
# (The first word may be a family name in capitals, as Japanese records write a foreign
# resident's: "Ms. LIN Meihua", "Mr. KIM".)
_TITLE = quickre.compile(
    rf"\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Professor|Sir|Dame)\.?[ \u00a0]+"
    rf"((?:{_NAME_WORD}|[{_U}]{{2,}}(?![{_L}]))(?:[ \u00a0]{_NAME_WORD})?)(?![\w@])"
)
_INITIAL = quickre.compile(
    rf"(?<![\w.])([A-Za-z])\.[ \u00a0]?"
    rf"([{_U}{_L}][{_L}'’{_U}]{{2,}}(?:-[{_U}{_L}][{_L}'’{_U}]{{2,}})?){_NOT_POSSESSIVE}(?![\w@])"
)
_GAP = (" ", "\u00a0")
_LOGIN_NAME = quickre.compile(rf"(?<![\w.@/\-])([{_L}]{{3,}})[._]([{_L}]{{3,}})(?![\w.@\-(])")
_NEXT = quickre.compile(rf"[ \u00a0]([{_U}{_L}]+)")
_LOWER_WORD = quickre.compile(rf"(?<![\w.@/\-])[{_L}][{_L}'’-]{{2,}}{_NOT_POSSESSIVE}(?![\w@])")
# Names in capitals, as mainframe exports, airline bookings and passports write them:
# "THORNBURY  MARGARET A", "OLSEN/DEREK MR", "000231THORNBURY" (a fixed-width record glues the
# name to the id before it). A pair starts where a word does, or after its leading apostrophe
# ('O'BRIEN'), never after an apostrophe inside a word: from there the first word runs to the
# same end as from the word's start, so a run of "O'O'O'…" was read to its end once per letter.
_CAPS_WORD = rf"[{_U}](?:['’][{_U}])?[{_U}'’\-]+"
_CAPS_PAIR = quickre.compile(
    rf"(?<![{_U}{_L}@/\-])(?<![{_U}{_L}]\.)(?<![{_U}'’\-]['’])"
    rf"(?P<a>{_CAPS_WORD})(?P<gap>[ ]{{1,12}}|/|,[ ]?)"
    rf"(?P<b>{_CAPS_WORD})"
    rf"(?![{_U}{_L}])"
)
# A family name in capitals, then a given name, as Japanese records write foreign residents'
# names ("LEE Ji-hoon", "WANG Fang").
_CAPS_FAMILY_GIVEN = quickre.compile(
    rf"(?<![\w@/.-])(?P<family>[{_U}]{{2,}})[ \u00a0]"
    rf"(?P<given>[{_U}][{_L}]+(?:-[{_U}{_L}][{_L}]+)?)(?![\w@-])")
_ROMANISED_SYLLABLES = quickre.compile(r"[A-Z][a-z]{1,5}-[a-z]{2,6}")
_CUE = quickre.compile(
    r"(?i:\b(?:dear|hi|hello|hey|thanks|thank you|cc|attn|ask|tell|remind|ping|call|email|"
    r"e-mail|message|congratulate|welcome|introduce)[,:]?[ \u00a0]+)"
    rf"([{_U}][{_L}'’]{{2,}}){_NOT_POSSESSIVE}(?![\w@])"
)

# The same cues before two lower-case words, a given name then a word that is no everyday
# one, and a word that goes on about the person ("ask marguerite delacroix about her PTO"):
# the verb says person where the lexicon knows only the given name.
_LOWER_CUE = quickre.compile(
    r"(?i:(?<![\w-])(?:dear|hi|hello|hey|thanks|cc|attn|ask|tell|remind|ping|call|email|"
    r"e-mail|message|congratulate|welcome|introduce)[,:]?[ \u00a0]+)"
    rf"([{_L}]{{3,}})[ \u00a0]([{_L}][{_L}'’-]{{3,}})"
    r"(?=[ \u00a0]+(?:about|re|regarding|whether|if|that|to|for|and|on)\b|[,.;:!?]|$)"
)


# A capital inside a word, after a lower-case letter: products write it (OptiPlex, ThinkPad,
# PowerEdge); names only after their prefixes (McDonald, MacKenzie, DeShawn, LaToya, DiCaprio,
# VanDyke, FitzGerald, O'Brien).
_INNER_CAPITAL = quickre.compile(r"[a-z][A-Z]")
_NAME_PREFIX = quickre.compile(r"(?:Mc|Mac|Fitz|De|Di|Da|Du|La|Le|Van|Von|St)[A-Z][a-z]+")


def _product_cased(word: str) -> bool:
    return _INNER_CAPITAL.search(word) is not None and not _NAME_PREFIX.fullmatch(word)


def _family_score(word: str, names: Lexicon) -> float:
    if is_thing_word(word) or _product_cased(word):
        return 0.0  # "Phoenix Logistics", "Victoria Falls", "Dell OptiPlex"
    if names.is_family(word) or names.is_given(word):
        return 0.85
    if names.is_common(word) or word.isupper() and len(word) <= 4:
        return 0.0  # "Priya Team", "Maria API"
    return 0.7


def _caps_pair_score(a: str, b: str, names: Lexicon, slash: bool = False) -> float:
    """Two words in capitals as a name, read as the title-case rules read them: a given and a
    family name in either order, neither an everyday word ("JOHN SMITH", "OLSEN/DEREK" as a
    booking writes it); a known given name beside a word that is no English word (a family
    name the lexicon lacks: "THORNBURY MARGARET"); in the FAMILY/GIVEN shape of bookings and
    passports, a known family name before a given name the lexicon lacks ("OKONKWO/CHIDI")."""
    if names.is_common(a) or names.is_common(b) or is_thing_word(a) or is_thing_word(b):
        return 0.0
    if (names.is_given(a) and names.is_family(b)) or (names.is_family(a) and names.is_given(b)):
        return 0.8
    if (slash and names.is_family(a) and len(b) >= 4 and not names.is_english(b)
            and not names.is_common(b)):
        return 0.75
    for given, other in ((a, b), (b, a)):
        # Both of four letters or more: ISO/IEC, JIS and other acronyms are not names.
        if (names.is_given(given) and not names.is_english(given) and len(given) >= 4
                and len(other) >= 4 and not names.is_english(other)):
            return 0.7
    return 0.0


def _lower_pair_score(given: str, family: str, names: Lexicon) -> float:
    if (not names.is_given(given) or given.casefold() in STOP_WORDS or names.is_common(family)
            or is_thing_word(family)):
        return 0.0  # "the compère": a function word is nobody's given name, whatever a list says
    if names.is_common(given):
        # A given name that is also an everyday word ("bill", "mark", "may") counts only
        # before a family name no English text uses ("bill nwachukwu, tier 2 support").
        return 0.7 if (names.is_family(family) and not names.is_english(family)
                       and len(family) >= 5) else 0.0
    if names.is_english(given) and names.is_english_form(family):
        return 0.0  # "core walls": an English word and a plural of one
    if names.is_family(family):
        return 0.85
    if names.is_english(given) or names.is_english(family) or names.is_given(family):
        return 0.0
    return 0.7


class LexiconNameRecognizer(PatternRecognizer):
    ENTITIES = ("PERSON",)
    CONTEXT = ("name", "mr", "ms", "mrs", "dr", "patient", "employee", "customer")

    def find(self, text: str) -> Iterable[Hit]:
        names = lexicon()
        words = list(_WORD.finditer(text))
        used_until = -1
        # The full names of the first rule, in order: the later rules skip what they hold, and
        # only that (a name further on must not hide one before it).
        taken: list[tuple[int, int]] = []

        def free(start: int, end: int) -> bool:
            i = bisect_right(taken, (start, len(text) + 1)) - 1
            return not (i >= 0 and taken[i][1] > start) and not (
                i + 1 < len(taken) and taken[i + 1][0] < end)
        for i, first in enumerate(words[:-1]):
            given, second = first.group(), words[i + 1]
            if (first.start() < used_until or text[first.end():second.start()] not in _GAP
                    or given.isupper() or not names.is_given(given) or names.is_common(given)):
                continue
            score = _family_score(second.group(), names)
            if score == 0.0:
                continue
            if is_product_name(given) and (names.is_english_form(second.group())
                                           or names.is_common(second.group())):
                continue  # "Siri Shortcuts", "Julia Computing": a product and an English word
            if score < 0.85 and names.is_english_form(second.group()):
                continue  # "Lane Granola", "Harvest Moon": a known name, then an English word
                # that is no name (family names the lexicon lacks are rarely English words)
            end = second.end()
            if i + 2 < len(words) and text[end:words[i + 2].start()] in _GAP:
                third = words[i + 2].group()
                if is_thing_word(third):
                    continue  # "Grace Hopper Center"
                if names.is_name(third) and not names.is_common(third):
                    end = words[i + 2].end()
            used_until = end
            taken.append((first.start(), end))
            yield Hit("PERSON", first.start(), end, score, "given-name-then-capitalised")
        for m in _CAPS_FAMILY_GIVEN.finditer(text):
            family, given = m.group("family"), m.group("given")
            if not free(m.start(), m.end()):
                continue
            # A Japanese family name the lexicon lacks, built of a family name's parts
            # (MORIKAWA), before a given name in valid romaji that is no English word
            # ("MORIKAWA Yuto").
            japanese = (compound_family(family) and to_katakana(given) is not None
                        and not names.is_english_form(given) and not names.is_common(given)
                        and not is_place(given))
            if not names.is_family(family) and not japanese:
                continue
            # A given name the lexicon holds, or one in the hyphenated shape Korean and
            # Chinese given names take in romanisation ("LEE Ji-hoon", "PARK Min-jun").
            if (names.is_given(given) and not names.is_common(given)
                    and not names.is_english(given)) or _ROMANISED_SYLLABLES.fullmatch(given) or (
                    japanese):
                insort(taken, (m.start(), m.end()))
                yield Hit("PERSON", m.start(), m.end(), 0.85, "capitals-family-then-given")
        lower = list(_LOWER_WORD.finditer(text))
        for first, second in zip(lower, lower[1:], strict=False):
            if (text[first.end():second.start()] not in _GAP
                    or not free(first.start(), second.end())):
                continue
            score = _lower_pair_score(first.group(), second.group(), names)
            if score:
                yield Hit("PERSON", first.start(), second.end(), score, "lower-case-full-name")
        # Login names in logs and exports, given.family or given_family ("user=dwight.okonkwo"):
        # the same test as a lower-case pair, the dot or underscore for the blank. Not inside
        # a longer dotted name (os.path.join) nor before an @ (an e-mail address's own).
        for m in _LOGIN_NAME.finditer(text):
            if not free(m.start(), m.end()) or has_public_suffix(m.group()):
                continue  # ada.org is a domain
            score = _lower_pair_score(m.group(1), m.group(2), names)
            if score:
                yield Hit("PERSON", m.start(), m.end(), score, "login-name")
        for m in _TITLE.finditer(text):
            first_word = m.group(1).split()[0]
            if first_word.isupper() and " " not in m.group(1) and not names.is_family(first_word):
                continue  # "Dr. API": capitals alone are a name only when one is known
            if free(m.start(1), m.end(1)) and not names.is_common(first_word):
                yield Hit("PERSON", m.start(1), m.end(1), 0.85, "title-then-name")
        for first in words:
            given = first.group()
            if (free(first.start(), first.end()) and len(given) >= 4 and not given.isupper()
                    and names.is_given(given) and not names.is_english(given)
                    and not names.is_common(given) and not names.is_family(given)
                    and not is_product_name(given)):
                # Not before a thing ("Agnieszka garden") nor before a capitalised word the
                # full-name rule turned down ("Priya API", "Priya Team").
                after = _NEXT.match(text, first.end())
                if after is None or not (is_thing_word(after.group(1))
                                         or after.group(1)[0].isupper()):
                    yield Hit("PERSON", first.start(), first.end(), 0.6, "lone-given-name")
        for m in _CUE.finditer(text):
            given = m.group(1)
            if (names.is_given(given) and not names.is_common(given)
                    and not is_product_name(given) and free(m.start(1), m.end(1))):
                yield Hit("PERSON", m.start(1), m.end(1), 0.65, "cue-then-given-name")
        for m in _LOWER_CUE.finditer(text):
            given, family = m.group(1), m.group(2)
            if (names.is_given(given) and not names.is_common(given)
                    and not names.is_common(family) and not is_thing_word(family)
                    and free(m.start(1), m.end(2))):
                yield Hit("PERSON", m.start(1), m.end(2), 0.7, "cue-then-lower-case-name")
        for m in _CAPS_PAIR.finditer(text):
            a, b = m.group("a"), m.group("b")
            if not free(m.start(), m.end()) or len(a) < 2 or len(b) < 2:
                continue
            score = _caps_pair_score(a, b, names, slash=m.group("gap") == "/")
            if score and len(m.group("gap")) >= 3 and min(len(a), len(b)) < 4:
                continue  # "SHIMIZU         ETA": a column's word after padding, no name part
            if score:
                yield Hit("PERSON", m.start(), m.end(), score, "capitals-full-name")
        for m in _INITIAL.finditer(text):
            # "J. Pryce-Evans": a double-barrelled name needs one known part and no everyday one
            parts = m.group(2).split("-")
            if (any(names.is_family(p) for p in parts)
                    and not any(names.is_common(p) or names.is_english(p) and not names.is_family(p)
                                for p in parts)):
                yield Hit("PERSON", m.start(1), m.end(2), 0.75, "initial-then-family-name")
