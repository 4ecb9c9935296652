"""Japanese names written in romaji (Hiroshi Kobayashi, KOBAYASHI Hiroshi, Takeshi Ono).

Neither engine finds them: English NER does not know Japanese names, and Sudachi sees Latin
letters. Each capitalised word is transliterated (Hepburn) to katakana and looked up in
Sudachi's dictionary, which tags katakana surnames and given names as 人名 (コバヤシ → 姓,
ヒロシ → 名). Two adjacent words count as a name when both are names, or when one is a family
name and the other a word that is valid romaji. English words rarely transliterate at all
("Project" has no vowel after its p), so this stays quiet on English text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from sudachipy import dictionary as sudachi_dictionary
from sudachipy import tokenizer as sudachi_tokenizer

from proxy.detection import quickre
from proxy.detection.recognizers.base import Hit, PatternRecognizer

_KANA = {
    "a": "ア", "i": "イ", "u": "ウ", "e": "エ", "o": "オ",
    "ka": "カ", "ki": "キ", "ku": "ク", "ke": "ケ", "ko": "コ",
    "ga": "ガ", "gi": "ギ", "gu": "グ", "ge": "ゲ", "go": "ゴ",
    "sa": "サ", "shi": "シ", "si": "シ", "su": "ス", "se": "セ", "so": "ソ",
    "za": "ザ", "ji": "ジ", "zi": "ジ", "zu": "ズ", "ze": "ゼ", "zo": "ゾ",
    "ta": "タ", "chi": "チ", "ti": "チ", "tsu": "ツ", "tu": "ツ", "te": "テ", "to": "ト",
    "da": "ダ", "de": "デ", "do": "ド",
    "na": "ナ", "ni": "ニ", "nu": "ヌ", "ne": "ネ", "no": "ノ",
    "ha": "ハ", "hi": "ヒ", "fu": "フ", "hu": "フ", "he": "ヘ", "ho": "ホ",
    "ba": "バ", "bi": "ビ", "bu": "ブ", "be": "ベ", "bo": "ボ",
    "pa": "パ", "pi": "ピ", "pu": "プ", "pe": "ペ", "po": "ポ",
    "ma": "マ", "mi": "ミ", "mu": "ム", "me": "メ", "mo": "モ",
    "ya": "ヤ", "yu": "ユ", "yo": "ヨ",
    "ra": "ラ", "ri": "リ", "ru": "ル", "re": "レ", "ro": "ロ",
    "wa": "ワ", "wo": "ヲ",
    "kya": "キャ", "kyu": "キュ", "kyo": "キョ", "gya": "ギャ", "gyu": "ギュ", "gyo": "ギョ",
    "sha": "シャ", "shu": "シュ", "sho": "ショ", "ja": "ジャ", "ju": "ジュ", "jo": "ジョ",
    "cha": "チャ", "chu": "チュ", "cho": "チョ", "nya": "ニャ", "nyu": "ニュ", "nyo": "ニョ",
    "hya": "ヒャ", "hyu": "ヒュ", "hyo": "ヒョ", "bya": "ビャ", "byu": "ビュ", "byo": "ビョ",
    "pya": "ピャ", "pyu": "ピュ", "pyo": "ピョ", "mya": "ミャ", "myu": "ミュ", "myo": "ミョ",
    "rya": "リャ", "ryu": "リュ", "ryo": "リョ",
}
_WORD = quickre.compile(r"(?<![A-Za-z])([A-Z][a-z]{1,14}|[A-Z]{2,15})(?![A-Za-z])")


def to_katakana(word: str) -> str | None:
    """Hepburn romaji to katakana; None when the word is not valid romaji."""
    w = word.lower()
    out: list[str] = []
    i = 0
    while i < len(w):
        if i + 1 < len(w) and w[i] == w[i + 1] and w[i] not in "aeioun":
            out.append("ッ")  # doubled consonant: Hattori, Kobayashi's kk…
            i += 1
            continue
        if w[i] == "n" and (i + 1 == len(w) or w[i + 1] not in "aeiouy"):
            out.append("ン")
            i += 1
            continue
        for size in (3, 2, 1):
            kana = _KANA.get(w[i:i + size])
            if kana is not None:
                out.append(kana)
                i += size
                break
        else:
            return None
    return "".join(out)


# Katakana to Hepburn: the inverse of _KANA, its first spelling of each kana (シ → shi).
_ROMAJI: dict[str, str] = {}
for _romaji, _kana in _KANA.items():
    _ROMAJI.setdefault(_kana, _romaji)


def to_romaji(kana: str) -> str | None:
    """A katakana reading in Hepburn as English text and titles write Japanese names: long
    vowels unmarked (イトウ → ito, オオタニ → otani, ユウコ → yuko); None for kana it does
    not know (ヴ, ファ …)."""
    out: list[str] = []
    i, double = 0, False
    while i < len(kana):
        if kana[i] == "ッ":
            double, i = True, i + 1
            continue
        if kana[i] == "ー":
            i += 1
            continue
        if kana[i] == "ン":
            out.append("n")
            i += 1
            continue
        romaji = _ROMAJI.get(kana[i:i + 2]) if i + 1 < len(kana) else None
        size = 2 if romaji is not None else 1
        romaji = romaji or _ROMAJI.get(kana[i])
        if romaji is None:
            return None
        out.append(romaji[0] + romaji if double and romaji[0] not in "aeiou" else romaji)
        double, i = False, i + size
    word = "".join(out)
    return re.sub(r"(?<=[ou])u|(?<=o)o", "", word)


@lru_cache(maxsize=1)
def _tokenizer() -> sudachi_tokenizer.Tokenizer:
    return sudachi_dictionary.Dictionary(dict="core").create(
        sudachi_tokenizer.Tokenizer.SplitMode.C
    )


@lru_cache(maxsize=65536)
def name_kind(word: str) -> str | None:
    """'姓', '名', '' (valid romaji, not a name) or None (not romaji)."""
    kana = to_katakana(word)
    if kana is None:
        return None
    variants = [kana] + ([kana + "ウ"] if kana.endswith(("オ", "ト", "ド", "ゴ", "コ", "ソ",
                                                         "ホ", "ノ", "モ", "ヨ", "ロ")) else [])
    kinds: set[str] = set()
    for variant in variants:
        morphemes = _tokenizer().tokenize(variant)
        if len(morphemes) == 1:
            pos = morphemes[0].part_of_speech()
            if pos[1] == "固有名詞" and pos[2] == "人名":
                kinds.add(str(pos[3]))
    # A long vowel is often not written (Sato = サトウ): a family-name reading wins.
    if "姓" in kinds:
        return "姓"
    if kinds:
        return "名"
    return ""


# The parts most Japanese family names are built of, in romaji (森 mori, 川 kawa/gawa, 山 yama,
# 田 ta/da, 中 naka, 村 mura …): a family name the dictionary lacks in katakana (モリカワ is a
# common noun to Sudachi, ヤマグチ a name) is still two of them (Mori-kawa, Kami-yama,
# Naka-gawa). A list, because it is the name system's own vocabulary; read only for a word in
# capitals before a capitalised one, the order passports write names in.
_FAMILY_PARTS = frozenset("""
mori kawa gawa yama naka ta da ki gi moto mura no fuji shima jima hara bara wara ishi matsu
take dake tani ya sawa zawa kami shita hashi bashi ike oka saka zaka zaki saki uchi nishi
higashi kita minami kubo hira ko go sato suzu taka ichi iwa kuro shira aki fuku yoshi hayashi
kiyo kado kane hori nagi naga hama tsuka zuka tsu hata bata sugi kuma maru mizu numa ue
shiba kaji tachi wada wata yokota yoko ota oda oga kuri hagi nara sano seki
""".split())


def compound_family(word: str) -> bool:
    """Whether ``word`` (romaji, any case) splits wholly into two or three family-name parts
    (``_FAMILY_PARTS``), each of two letters or more: MORIKAWA, NAKAGAWA, KAMIYAMA."""
    w = word.lower()

    def split(rest: str, parts: int) -> bool:
        if not rest:
            return parts >= 2
        if parts == 3:
            return False
        return any(rest.startswith(p) and split(rest[len(p):], parts + 1)
                   for p in _FAMILY_PARTS)

    return len(w) >= 5 and to_katakana(w) is not None and split(w, 0) and not is_place(w)


@lru_cache(maxsize=4096)
def is_place(word: str) -> bool:
    """Whether ``word`` in romaji is a place to Sudachi's dictionary read in katakana
    (FUKUOKA → フクオカ, Tenjin → テンジン): a caps city before its district is no name."""
    kana = to_katakana(word.lower())
    if kana is None:
        return False
    morphemes = _tokenizer().tokenize(kana)
    return len(morphemes) == 1 and morphemes[0].part_of_speech()[2] == "地名"


class RomajiNameRecognizer(PatternRecognizer):
    ENTITIES = ("PERSON",)
    CONTEXT = ("name", "san", "さん", "様", "氏")

    def find(self, text: str) -> Iterable[Hit]:
        words = list(_WORD.finditer(text))
        used_until = -1
        for first, second in zip(words, words[1:], strict=False):
            gap = text[first.end():second.start()]
            # "SUZUKI/AKANE", "SUZUKI<<AKANE": passports and airline bookings write the family
            # name, a slash (or the MRZ's <<), then the given name, in capitals.
            capitals = first.group().isupper() and second.group().isupper()
            if (gap not in (" ", "\u3000", ", ", ",") and not (capitals and gap in ("/", "<<"))
                    or first.start() < used_until):
                continue
            a, b = name_kind(first.group()), name_kind(second.group())
            if a is None or b is None:
                continue
            kinds = {a, b}
            if {"姓", "名"} <= kinds:
                score = 0.85
            elif "姓" in kinds and "" in kinds:
                score = 0.7
            elif gap in ("/", "<<") and kinds & {"姓", "名"}:
                score = 0.7  # the FAMILY/GIVEN shape says it is a name (スズキ is also a fish)
            else:
                continue
            used_until = second.end()
            yield Hit("PERSON", first.start(), second.end(), score, "romaji-name",
                      context_checked=True)
