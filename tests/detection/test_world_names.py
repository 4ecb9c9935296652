"""Names in Hangul, simplified Chinese and Cyrillic, and street addresses without a name."""

from __future__ import annotations

import pytest
from recognizer_cases import detect

from proxy.detection.recognizers.addresses import StreetAddressRecognizer
from proxy.detection.recognizers.base import PatternRecognizer, scan
from proxy.detection.recognizers.world_names import WorldScriptNameRecognizer

NAMES = WorldScriptNameRecognizer()
ADDRESSES = StreetAddressRecognizer()


def found(recognizer: object, text: str, threshold: float = 0.6) -> list[tuple[str, str]]:
    from proxy.detection.normalize import normalize

    norm = normalize(text)
    assert isinstance(recognizer, PatternRecognizer)
    return [(h.entity, text[slice(*norm.to_original(h.start, h.end))])
            for h in scan(recognizer, norm.text) if h.score >= threshold]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("留学生の박서연さんの在留カード更新の案内文", "박서연",
                     id="hangul-in-japanese"),
        pytest.param("Please welcome 김민준 to the team.", "김민준", id="hangul-in-english"),
        pytest.param("请给张伟发一封邮件，说明会议改期。", "张伟", id="chinese-sentence"),
        pytest.param("王伟さんの出張申請", "王伟", id="chinese-name-in-japanese"),
        pytest.param("入館申請: Дмитрий Волков さん", "Дмитрий Волков", id="cyrillic"),
        pytest.param("Петрова Анна Сергеевна, бухгалтер", "Петрова Анна Сергеевна",
                     id="cyrillic-with-patronymic"),
    ],
)
def test_names_in_other_scripts_are_found(text: str, name: str) -> None:
    assert ("PERSON", name) in found(NAMES, text)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("这是一个简单的问题", id="chinese-prose"),
        pytest.param("张家界旅游攻略", id="a-place"),
        pytest.param("Москва и Санкт-Петербург", id="cyrillic-places"),
        pytest.param("本日は晴天なり", id="japanese"),
    ],
)
def test_ordinary_text_in_those_scripts_is_not_a_name(text: str) -> None:
    assert found(NAMES, text) == []


@pytest.mark.parametrize(
    ("text", "entity", "address"),
    [
        pytest.param("courier: Flat 3, 27 Kingsley Road, Leeds LS6 2BQ", "STREET_ADDRESS",
                     "Flat 3, 27 Kingsley Road, Leeds LS6 2BQ", id="uk"),
        pytest.param("Ship to 742 Evergreen Terrace, Springfield, OR 97477 today",
                     "STREET_ADDRESS", "742 Evergreen Terrace, Springfield, OR 97477", id="us"),
        pytest.param("1420 Larkspur Lane, Apt 3B, Tucson, AZ 85701", "STREET_ADDRESS",
                     "1420 Larkspur Lane, Apt 3B, Tucson, AZ 85701", id="us-with-apartment"),
        pytest.param("2-14-7 Nishi-Azabu, Minato-ku, Tokyo 106-0031, JAPAN", "JP_ADDRESS",
                     "2-14-7 Nishi-Azabu, Minato-ku, Tokyo 106-0031", id="japan-in-romaji"),
    ],
)
def test_street_addresses_without_a_name_are_found(text: str, entity: str, address: str
                                                   ) -> None:
    assert (entity, address) in found(ADDRESSES, text)


def test_a_street_line_alone_is_weak() -> None:
    assert found(ADDRESSES, "Example: John Doe, 123 Main St") == []
    assert [e for e, _, _ in detect(ADDRESSES, "123 Main St")] == ["STREET_ADDRESS"]
