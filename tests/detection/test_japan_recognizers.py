"""Japanese identifier recognizers: tables of ``text → [(entity, start, end)]``.

Every text goes through ``normalize`` first, as in the detector, and every span is mapped back to
the text as written, so the expectations are spans of the table's own strings. No NLP engine:
the recognizers check their context themselves. All identifiers are synthetic.
"""

from __future__ import annotations

import pytest
from recognizer_cases import detect, expect

from proxy.detection.detector import Detector
from proxy.detection.normalize import normalize
from proxy.detection.recognizers.base import Hit, PatternRecognizer, scan
from proxy.detection.recognizers.common import (
    DottedCardRecognizer,
    LowerCaseIbanRecognizer,
    SpacedCardRecognizer,
    TrunkPrefixPhoneRecognizer,
    UsBankAccountLabelledRecognizer,
    UsDriverLicenseLabelledRecognizer,
    UsPassportLabelledRecognizer,
    UsSsnLabelledRecognizer,
)
from proxy.detection.recognizers.japan import (
    DateOfBirthRecognizer,
    JapanAddressRecognizer,
    JapanBankAccountRecognizer,
    JapanDriverLicenseRecognizer,
    JapanHealthInsuranceRecognizer,
    JapanMyNumberRecognizer,
    JapanPassportRecognizer,
    JapanPhoneRecognizer,
    JapanPostalCodeRecognizer,
    JapanResidenceCardRecognizer,
    JapanTollFreeRecognizer,
    is_valid_my_number,
    my_number_check_digit,
)
from proxy.detection.registry import SEKISHO_RECOGNIZERS, Registry
from proxy.vocabulary import ENTITY_TYPES


def check_digit(first_eleven: str) -> int:
    """個人番号の検査用数字, written out independently of the recognizer from the specification."""
    weights = [n + 1 if n <= 6 else n - 5 for n in range(1, 12)]
    digits_from_right = [int(d) for d in reversed(first_eleven)]
    r = sum(p * q for p, q in zip(digits_from_right, weights, strict=True)) % 11
    return 0 if r <= 1 else 11 - r


def my_number(first_eleven: str) -> str:
    return first_eleven + str(check_digit(first_eleven))


def bad_check_digit(first_eleven: str) -> str:
    return first_eleven + str((check_digit(first_eleven) + 1) % 10)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


MN = my_number("12345678901")  # 123456789018
MN2 = my_number("98765432109")
MN_BAD = bad_check_digit("12345678901")


def results_for(recognizer: PatternRecognizer, text: str) -> list[Hit]:
    return scan(recognizer, normalize(text).text)


# ---------------------------------------------------------------------------------------------
# The registry


def test_every_recognizer_emits_only_documented_entities() -> None:
    recognizers = Registry().build()
    assert len(recognizers) == len(SEKISHO_RECOGNIZERS)
    for recognizer in recognizers:
        name = type(recognizer).__name__
        assert recognizer.entities, name
        assert set(recognizer.entities) <= set(ENTITY_TYPES), name


def test_every_recognizer_has_japanese_and_english_context_words() -> None:
    japanese = [r for r in Registry().build()
                if type(r).__module__ == "proxy.detection.recognizers.japan"]
    assert len(japanese) == 11  # … with the residence card
    for recognizer in japanese:
        name = type(recognizer).__name__
        assert any(not w.isascii() for w in recognizer.context), name
        assert any(w.isascii() for w in recognizer.context), name


def test_self_checked_context_is_marked_so_it_is_not_boosted_twice(detector: Detector) -> None:
    (hit,) = results_for(JapanPassportRecognizer(), "旅券番号 TK1234567")
    assert hit.context_checked
    assert JapanPassportRecognizer().name == "JapanPassportRecognizer"
    # Through the engine: the score is the recognizer's own, the enhancer adds nothing.
    found = detector.analyze_texts(["旅券番号 TK1234567"])["旅券番号 TK1234567"]
    (passport,) = [d for d in found if d.entity_type == "JP_PASSPORT"]
    assert passport.score == round(hit.score, 4)
    assert passport.recognizer == "JapanPassportRecognizer"


def test_unrequested_entities_are_not_reported() -> None:
    recognizer = JapanMyNumberRecognizer()
    assert scan(recognizer, f"マイナンバー {MN}", ["JP_PASSPORT"]) == []


# ---------------------------------------------------------------------------------------------
# My Number


def test_check_digit_matches_the_specification() -> None:
    for first in ("12345678901", "98765432109", "00000000001", "31415926535", "27182818284"):
        assert my_number_check_digit(first) == check_digit(first)
        assert is_valid_my_number(my_number(first))
        assert not is_valid_my_number(bad_check_digit(first))


MY_NUMBER_FOUND = [
    (f"マイナンバーは{MN}です", [("JP_MY_NUMBER", MN)]),
    (f"個人番号：{MN[:4]}-{MN[4:8]}-{MN[8:]}", [("JP_MY_NUMBER", f"{MN[:4]}-{MN[4:8]}-{MN[8:]}")]),
    (
        f"My Number: {MN[:4]} {MN[4:8]} {MN[8:]}.",
        [("JP_MY_NUMBER", f"{MN[:4]} {MN[4:8]} {MN[8:]}")],
    ),
    (f"マイナンバー：{full_width(MN)}", [("JP_MY_NUMBER", full_width(MN))]),
    (
        f"ﾏｲﾅﾝﾊﾞｰ {full_width(MN[:4])}ー{full_width(MN[4:8])}ー{full_width(MN[8:])}",
        [("JP_MY_NUMBER", f"{full_width(MN[:4])}ー{full_width(MN[4:8])}ー{full_width(MN[8:])}")],
    ),
    (f'{{"name": "山田", "my_number": "{MN}"}}', [("JP_MY_NUMBER", MN)]),
    (
        f"name,mynumber\n山田太郎,{MN}\n佐藤花子,{MN2}",
        [("JP_MY_NUMBER", MN), ("JP_MY_NUMBER", MN2)],
    ),
    (f"employee.my_number = '{MN}'", [("JP_MY_NUMBER", MN)]),
    (f"個人番号 {MN[:4]}.{MN[4:8]}.{MN[8:]}", [("JP_MY_NUMBER", f"{MN[:4]}.{MN[4:8]}.{MN[8:]}")]),
    (
        f"個人番号 {full_width(MN[:4])}．{full_width(MN[4:8])}．{full_width(MN[8:])}",
        [("JP_MY_NUMBER", f"{full_width(MN[:4])}．{full_width(MN[4:8])}．{full_width(MN[8:])}")],
    ),
    (f"個人番号 {MN[:4]}/{MN[4:8]}/{MN[8:]} です",
     [("JP_MY_NUMBER", f"{MN[:4]}/{MN[4:8]}/{MN[8:]}")]),
    (f"mynumber={MN[:4]}_{MN[4:8]}_{MN[8:]}", [("JP_MY_NUMBER", f"{MN[:4]}_{MN[4:8]}_{MN[8:]}")]),
    (f"マイナンバーは{MN[:4]}・{MN[4:8]}・{MN[8:]}です",
     [("JP_MY_NUMBER", f"{MN[:4]}・{MN[4:8]}・{MN[8:]}")]),
]


@pytest.mark.parametrize(("text", "found"), MY_NUMBER_FOUND)
def test_my_number_with_valid_check_digit_is_reported(
    text: str, found: list[tuple[str, str]]
) -> None:
    assert detect(JapanMyNumberRecognizer(), text) == expect(text, *found)


def test_my_number_without_context_is_reported_with_a_lower_score() -> None:
    (bare,) = results_for(JapanMyNumberRecognizer(), f"ID {MN}")
    (labelled,) = results_for(JapanMyNumberRecognizer(), f"my number {MN}")
    assert 0.5 <= bare.score < labelled.score


MY_NUMBER_NOT_FOUND = [
    pytest.param(f"マイナンバーは{MN_BAD}です", id="bad-check-digit"),
    pytest.param(f"法人番号 1{MN}", id="corporate-number-13-digits-prefix"),
    pytest.param(f"法人番号 {MN}1", id="corporate-number-13-digits-suffix"),
    pytest.param(f"カード番号 4111 {MN[:4]} {MN[4:8]} {MN[8:]}", id="inside-a-card-number"),
    pytest.param(f"{MN[:4]}-{MN[4:8]}-{MN[8:]}-1234", id="inside-a-longer-hyphen-chain"),
    pytest.param("マイナンバー 000000000000", id="all-zeros"),
    pytest.param(f"order A{MN}", id="glued-to-letters"),
    pytest.param(f"{MN[:4]}-{MN[4:8]} {MN[8:]}", id="mixed-separators"),
    pytest.param(f"{MN[:4]}.{MN[4:8]}-{MN[8:]}", id="mixed-dot-and-hyphen"),
    pytest.param(f"{MN[:4]}.{MN[4:8]}.{MN[8:]}.1234", id="inside-a-longer-dotted-run"),
    pytest.param(f"1.{MN[:4]}.{MN[4:8]}.{MN[8:]}", id="after-a-dotted-prefix"),
    pytest.param(f"{MN[:4]}/{MN[4:8]}/{MN[8:]}/1234", id="inside-a-longer-slash-run"),
    pytest.param(f"1234_{MN[:4]}_{MN[4:8]}_{MN[8:]}", id="after-an-underscore-group"),
    pytest.param(f"{MN[:4]}/{MN[4:8]}_{MN[8:]}", id="mixed-slash-and-underscore"),
]


@pytest.mark.parametrize("text", MY_NUMBER_NOT_FOUND)
def test_my_number_with_bad_check_digit_or_wrong_shape_is_not_reported(text: str) -> None:
    assert detect(JapanMyNumberRecognizer(), text) == []


def test_my_number_is_found_in_raw_text_where_kana_touch_the_digits() -> None:
    # Without the normaliser's spaces: \b would see no boundary between は and the digits.
    text = f"マイナンバーは{MN}です"
    (result,) = scan(JapanMyNumberRecognizer(), text, ["JP_MY_NUMBER"])
    assert text[result.start : result.end] == MN


# ---------------------------------------------------------------------------------------------
# Phone numbers

PHONE_FOUND = [
    ("携帯：090-1234-5678", [("JP_PHONE_NUMBER", "090-1234-5678")]),
    ("携帯は090・2231・8874です", [("JP_PHONE_NUMBER", "090・2231・8874")]),
    ("TEL 03-1234-5678 / FAX 06-1234-5678", [
        ("JP_PHONE_NUMBER", "03-1234-5678"), ("JP_PHONE_NUMBER", "06-1234-5678"),
    ]),
    ("045-123-4567と0742-12-3456", [
        ("JP_PHONE_NUMBER", "045-123-4567"), ("JP_PHONE_NUMBER", "0742-12-3456"),
    ]),
    ("IP電話 050-1234-5678", [("JP_PHONE_NUMBER", "050-1234-5678")]),
    ("call me at +81-90-1234-5678", [("JP_PHONE_NUMBER", "+81-90-1234-5678")]),
    ("Office: +81 3 1234 5678.", [("JP_PHONE_NUMBER", "+81 3 1234 5678")]),
    ("代表 03(1234)5678", [("JP_PHONE_NUMBER", "03(1234)5678")]),
    ("代表 (03) 1234-5678", [("JP_PHONE_NUMBER", "(03) 1234-5678")]),
    ("番号は09012345678です", [("JP_PHONE_NUMBER", "09012345678")]),
    ("０９０ー１２３４ー５６７８", [("JP_PHONE_NUMBER", "０９０ー１２３４ー５６７８")]),
    ("０３（１２３４）５６７８", [("JP_PHONE_NUMBER", "０３（１２３４）５６７８")]),
    ('{"phone": "080-9876-5432"}', [("JP_PHONE_NUMBER", "080-9876-5432")]),
    ("name,tel\n山田,070-1111-2222", [("JP_PHONE_NUMBER", "070-1111-2222")]),
]


@pytest.mark.parametrize(("text", "found"), PHONE_FOUND)
def test_japanese_phone_numbers_are_reported(text: str, found: list[tuple[str, str]]) -> None:
    assert detect(JapanPhoneRecognizer(), text) == expect(text, *found)


PHONE_NOT_FOUND = [
    pytest.param("会議は2024-04-12です", id="date"),
    pytest.param("version 1.2.3 build 0.12.3456", id="versions"),
    pytest.param("フリーダイヤル 0120-123-456", id="toll-free-is-not-a-personal-line"),
    pytest.param("03-1234-56789", id="too-many-digits"),
    pytest.param("12-3456-7890", id="no-leading-zero"),
    pytest.param("090-12345-678", id="mobile-grouped-wrongly"),
    pytest.param("03-12-3456", id="too-few-digits"),
    pytest.param("03-123-45678", id="area-and-exchange-not-six-digits"),
    pytest.param("id 0312345678901", id="inside-a-longer-number"),
    pytest.param("+1 212 555 0100", id="foreign-number"),
    pytest.param("2024-090-1234-5678", id="tail-of-a-longer-chain"),
]


@pytest.mark.parametrize("text", PHONE_NOT_FOUND)
def test_things_that_only_look_like_phone_numbers_are_not_reported(text: str) -> None:
    assert detect(JapanPhoneRecognizer(), text) == []


def test_phone_number_next_to_a_label_scores_higher() -> None:
    (bare,) = results_for(JapanPhoneRecognizer(), "090-1234-5678")
    (labelled,) = results_for(JapanPhoneRecognizer(), "電話番号 090-1234-5678")
    assert bare.score < labelled.score


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("フリーダイヤル 0120-123-456", [("JP_TOLL_FREE_NUMBER", "0120-123-456")]),
        ("Toll free: 0120-12-3456", [("JP_TOLL_FREE_NUMBER", "0120-12-3456")]),
        ("0800-123-4567まで", [("JP_TOLL_FREE_NUMBER", "0800-123-4567")]),
        ("０１２０ー１２３ー４５６", [("JP_TOLL_FREE_NUMBER", "０１２０ー１２３ー４５６")]),
    ],
)
def test_toll_free_numbers_are_reported_as_toll_free(
    text: str, found: list[tuple[str, str]]
) -> None:
    assert detect(JapanTollFreeRecognizer(), text) == expect(text, *found)


@pytest.mark.parametrize("text", ["090-1234-5678", "01201234567", "10120-123-456"])
def test_other_numbers_are_not_toll_free(text: str) -> None:
    assert detect(JapanTollFreeRecognizer(), text) == []


def test_toll_free_numbers_score_below_personal_phone_numbers() -> None:
    (toll_free,) = results_for(JapanTollFreeRecognizer(), "0120-123-456")
    (mobile,) = results_for(JapanPhoneRecognizer(), "090-1234-5678")
    assert toll_free.score < mobile.score


# ---------------------------------------------------------------------------------------------
# Postal codes and addresses

POSTAL_FOUND = [
    ("〒100-0005", [("JP_POSTAL_CODE", "100-0005")]),
    ("〒1000005 東京都", [("JP_POSTAL_CODE", "1000005")]),
    ("〒１００－０００５", [("JP_POSTAL_CODE", "１００－０００５")]),
    ("郵便番号：530-0001", [("JP_POSTAL_CODE", "530-0001")]),
    ("Postal code: 220-8401", [("JP_POSTAL_CODE", "220-8401")]),
    ('{"zip": "1000005"}', [("JP_POSTAL_CODE", "1000005")]),
    ("100-0005 東京都千代田区丸の内1-2-3", [("JP_POSTAL_CODE", "100-0005")]),
]


@pytest.mark.parametrize(("text", "found"), POSTAL_FOUND)
def test_postal_codes_with_mark_label_or_address_are_reported(
    text: str, found: list[tuple[str, str]]
) -> None:
    assert detect(JapanPostalCodeRecognizer(), text) == expect(text, *found)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("123-4567", id="bare"),
        pytest.param("部品番号 123-4567", id="part-number"),
        pytest.param("電話 03-123-4567", id="phone-fragment"),
        pytest.param("郵便番号 1234-5678", id="wrong-shape"),
        pytest.param("blog post 123-4567", id="post-is-not-postal"),
    ],
)
def test_unlabelled_nnn_nnnn_is_not_a_postal_code(text: str) -> None:
    assert detect(JapanPostalCodeRecognizer(), text) == []


ADDRESS_FOUND = [
    ("東京都千代田区丸の内1-2-3", [("JP_ADDRESS", "東京都千代田区丸の内1-2-3")]),
    ("本社は大阪市北区梅田2丁目4番9号です。", [("JP_ADDRESS", "大阪市北区梅田2丁目4番9号")]),
    (
        "神奈川県横浜市西区みなとみらい2-3-1 クイーンズタワー10F",
        [("JP_ADDRESS", "神奈川県横浜市西区みなとみらい2-3-1 クイーンズタワー10F")],
    ),
    ("私は港区六本木6-10-1に住んでいます", [("JP_ADDRESS", "港区六本木6-10-1")]),
    ("住所：東京都新宿区西新宿2丁目8-1", [("JP_ADDRESS", "東京都新宿区西新宿2丁目8-1")]),
    ("住所大阪市北区梅田2丁目4番9号", [("JP_ADDRESS", "大阪市北区梅田2丁目4番9号")]),
    ("本社東京都港区芝公園4-2-8", [("JP_ADDRESS", "東京都港区芝公園4-2-8")]),
    ("東京都千代田区丸の内１－２－３", [("JP_ADDRESS", "東京都千代田区丸の内１－２－３")]),
    ("北海道札幌市中央区北1条西2丁目1-1", [("JP_ADDRESS", "北海道札幌市中央区北1条西2丁目1-1")]),
    ("埼玉県比企郡ときがわ町玉川123番地", [("JP_ADDRESS", "埼玉県比企郡ときがわ町玉川123番地")]),
    ("京都市左京区吉田本町1番地の3", [("JP_ADDRESS", "京都市左京区吉田本町1番地の3")]),
    (
        "送付先: 〒530-0001 大阪府大阪市北区梅田三丁目1-1 梅田ビル 5階",
        [("JP_ADDRESS", "大阪府大阪市北区梅田三丁目1-1 梅田ビル 5階")],
    ),
    (
        "東京都港区六本木6-10-1 六本木ヒルズ森タワー 40階にあります",
        [("JP_ADDRESS", "東京都港区六本木6-10-1 六本木ヒルズ森タワー 40階")],
    ),
    ("東京都港区六本木6-10-1です。次は5階で", [("JP_ADDRESS", "東京都港区六本木6-10-1")]),
    (
        '{"address": "福岡県福岡市博多区博多駅前2-1-1"}',
        [("JP_ADDRESS", "福岡県福岡市博多区博多駅前2-1-1")],
    ),
]


@pytest.mark.parametrize(("text", "found"), ADDRESS_FOUND)
def test_street_addresses_are_reported(text: str, found: list[tuple[str, str]]) -> None:
    assert detect(JapanAddressRecognizer(), text) == expect(text, *found)


ADDRESS_NOT_FOUND = [
    pytest.param("来週東京に行きます", id="prefecture-word"),
    pytest.param("大阪市は大きい", id="city-alone"),
    pytest.param("東京都千代田区にあります", id="no-block-number"),
    pytest.param("都市部で3-4-5の比率", id="city-like-word"),
    pytest.param("東京都内で3-4月に開催", id="months"),
    pytest.param("大阪府内の2-3割", id="proportion"),
    pytest.param("Tokyo, Chiyoda 1-2-3", id="romanised"),
    pytest.param("東京都港区の2番目の店舗", id="rank"),
    pytest.param("東京都の1-0で勝利", id="match-score"),
]


@pytest.mark.parametrize("text", ADDRESS_NOT_FOUND)
def test_places_without_a_street_address_are_not_reported(text: str) -> None:
    assert detect(JapanAddressRecognizer(), text) == []


# ---------------------------------------------------------------------------------------------
# Identifiers that need a label

LICENCE_FW = full_width("123456789012")
LABELLED_FOUND = [
    (JapanDriverLicenseRecognizer, "運転免許証番号：123456789012", "123456789012"),
    (JapanDriverLicenseRecognizer, f"免許証 第{LICENCE_FW}号", LICENCE_FW),
    (JapanDriverLicenseRecognizer, "Driver's license no. 1234 5678 9012", "1234 5678 9012"),
    (JapanDriverLicenseRecognizer, '{"driving_licence": "123456789012"}', "123456789012"),
    (JapanPassportRecognizer, "旅券番号 TK1234567", "TK1234567"),
    (JapanPassportRecognizer, "Passport No: TR7654321", "TR7654321"),
    (JapanPassportRecognizer, "パスポート：ＭＺ１２３４５６７", "ＭＺ１２３４５６７"),
    (JapanPassportRecognizer, "TK1234567 (passport)", "TK1234567"),
    (JapanResidenceCardRecognizer, "在留カード番号：UH48213975EA", "UH48213975EA"),
    (JapanResidenceCardRecognizer, "residence card UH48213975EA, lives in Okubo", "UH48213975EA"),
    (JapanResidenceCardRecognizer, "特別永住者証明書 ＡＢ１２３４５６７８ＣＤ",
     "ＡＢ１２３４５６７８ＣＤ"),
    (JapanBankAccountRecognizer, "みずほ銀行 渋谷支店 普通 1234567", "1234567"),
    (JapanBankAccountRecognizer, "口座番号：１２３４５６７", "１２３４５６７"),
    (JapanBankAccountRecognizer, "account no. 1234567 at MUFG", "1234567"),
    (JapanBankAccountRecognizer, "当座預金 7654321", "7654321"),
    (JapanBankAccountRecognizer, "ゆうちょ銀行 10123-12345671", "10123-12345671"),
    (JapanBankAccountRecognizer, "bank,branch,account\nSMBC,Shinjuku,2345678", "2345678"),
    # A broker's branch and account right after the label, whatever their lengths.
    (JapanBankAccountRecognizer, "証券口座の口座番号は0552-118734です", "0552-118734"),
    (JapanBankAccountRecognizer, "Account number: 301 12345678", "301 12345678"),
]


@pytest.mark.parametrize(("recognizer", "text", "value"), LABELLED_FOUND)
def test_labelled_identifiers_are_reported(
    recognizer: type[PatternRecognizer], text: str, value: str
) -> None:
    entity = recognizer.ENTITIES[0]
    assert detect(recognizer(), text) == expect(text, (entity, value))


LABELLED_NOT_FOUND = [
    pytest.param(JapanDriverLicenseRecognizer, "123456789012", id="licence-without-label"),
    pytest.param(JapanDriverLicenseRecognizer, "license key 123456789012", id="software-licence"),
    pytest.param(JapanDriverLicenseRecognizer, "運転免許 1234567890123", id="licence-13-digits"),
    pytest.param(JapanPassportRecognizer, "TK1234567", id="passport-without-label"),
    pytest.param(JapanPassportRecognizer, "passport AB12345678", id="passport-8-digits"),
    pytest.param(JapanPassportRecognizer, "passport tk1234567", id="passport-lower-case"),
    pytest.param(JapanResidenceCardRecognizer, "Product code AB12345678CD",
                 id="card-without-label"),
    pytest.param(JapanResidenceCardRecognizer, "在留カード AB1234567CD", id="card-seven-digits"),
    pytest.param(JapanBankAccountRecognizer, "1234567", id="account-without-label"),
    pytest.param(JapanBankAccountRecognizer, "口座に1234567円振り込みました", id="amount-in-yen"),
    pytest.param(JapanBankAccountRecognizer, "銀行の残高 ¥1234567", id="amount-with-sign"),
    pytest.param(JapanBankAccountRecognizer, "銀行 〒1000005", id="postal-code"),
    pytest.param(JapanBankAccountRecognizer, "銀行 03-1234-5678", id="phone-number"),
    pytest.param(JapanBankAccountRecognizer, "user account 1234567", id="user-account-id"),
    pytest.param(JapanBankAccountRecognizer, "口座番号 12345678", id="eight-digits"),
    pytest.param(JapanBankAccountRecognizer, "注文番号 0552-118734", id="order-branch-shape"),
]


@pytest.mark.parametrize(("recognizer", "text"), LABELLED_NOT_FOUND)
def test_label_dependent_identifiers_without_their_label_are_not_reported(
    recognizer: type[PatternRecognizer], text: str
) -> None:
    assert detect(recognizer(), text) == []


BANK_FORMS_FOUND = [
    ("ゆうちょ銀行 記号 10230 番号 12345671", [
        ("JP_BANK_ACCOUNT", "10230"), ("JP_BANK_ACCOUNT", "12345671"),
    ]),
    ("ゆうちょの振込先：記号１０２３０、番号１２３４５６７１", [
        ("JP_BANK_ACCOUNT", "１０２３０"), ("JP_BANK_ACCOUNT", "１２３４５６７１"),
    ]),
    ("店番-口座番号：012-3456789", [("JP_BANK_ACCOUNT", "3456789")]),
    ("振込先 りそな銀行 ０１２－３４５６７８９（普通）", [("JP_BANK_ACCOUNT", "３４５６７８９")]),
]


@pytest.mark.parametrize(("text", "found"), BANK_FORMS_FOUND)
def test_yucho_with_labels_and_branch_account_forms_are_reported(
    text: str, found: list[tuple[str, str]]
) -> None:
    assert detect(JapanBankAccountRecognizer(), text) == expect(text, *found)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("保険証 記号 10230 番号 12345671", id="yucho-shape-without-yucho"),
        pytest.param("受付番号 012-3456789", id="branch-account-shape-without-bank-label"),
        pytest.param("銀行の手数料 012-3456789円", id="branch-account-shape-as-amount"),
        pytest.param("口座 012-3456789-1", id="inside-a-longer-hyphen-chain"),
    ],
)
def test_bank_account_shapes_without_their_label_are_not_reported(text: str) -> None:
    assert detect(JapanBankAccountRecognizer(), text) == []


def test_label_far_before_the_number_does_not_count() -> None:
    text = "パスポートの申請方法について説明します。窓口で受け取った整理券は TK1234567 です"
    assert detect(JapanPassportRecognizer(), text) == []


HEALTH_INSURANCE_FOUND = [
    ("保険証 記号 12345 番号 678", [
        ("JP_HEALTH_INSURANCE", "12345"), ("JP_HEALTH_INSURANCE", "678"),
    ]),
    ("保険証の記号・番号：12345・678", [
        ("JP_HEALTH_INSURANCE", "12345"), ("JP_HEALTH_INSURANCE", "678"),
    ]),
    ("健康保険証 記号番号 12345-678 枝番 01", [
        ("JP_HEALTH_INSURANCE", "12345"), ("JP_HEALTH_INSURANCE", "678"),
        ("JP_HEALTH_INSURANCE", "01"),
    ]),
    ("被保険者番号：１２３４５６７８", [("JP_HEALTH_INSURANCE", "１２３４５６７８")]),
    ("健康保険 保険者番号 06123456", [("JP_HEALTH_INSURANCE", "06123456")]),
    ("Health insurance card: symbol 12345, number 678", [
        ("JP_HEALTH_INSURANCE", "12345"), ("JP_HEALTH_INSURANCE", "678"),
    ]),
]


@pytest.mark.parametrize(("text", "found"), HEALTH_INSURANCE_FOUND)
def test_health_insurance_card_numbers_are_reported(
    text: str, found: list[tuple[str, str]]
) -> None:
    assert detect(JapanHealthInsuranceRecognizer(), text) == expect(text, *found)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("記号 12345 番号 678", id="no-insurance-context"),
        pytest.param("保険会社の電話番号 03-1234-5678", id="phone-number-near-insurance"),
        pytest.param("保険会社の電話番号 0312345678", id="labelled-phone-number"),
        pytest.param("保険料の注文番号 98765", id="order-number"),
        pytest.param("保険者番号 1234567", id="insurer-number-wrong-length"),
    ],
)
def test_numbers_that_are_not_insurance_card_numbers_are_not_reported(text: str) -> None:
    assert detect(JapanHealthInsuranceRecognizer(), text) == []


# ---------------------------------------------------------------------------------------------
# Date of birth

BIRTH_DATE_FOUND = [
    ("生年月日：1985年4月12日", [("DATE_OF_BIRTH", "1985年4月12日")]),
    ("生年月日 昭和60年4月12日", [("DATE_OF_BIRTH", "昭和60年4月12日")]),
    ("生年月日：平成三年十一月二十日", [("DATE_OF_BIRTH", "平成三年十一月二十日")]),
    ("一九七〇年三月十二日生まれ", [("DATE_OF_BIRTH", "一九七〇年三月十二日")]),
    ("DOB 19700312", [("DATE_OF_BIRTH", "19700312")]),
    ("誕生日は１９８５年４月１２日です", [("DATE_OF_BIRTH", "１９８５年４月１２日")]),
    ("1985年4月12日生まれ", [("DATE_OF_BIRTH", "1985年4月12日")]),
    ("平成元年1月8日生", [("DATE_OF_BIRTH", "平成元年1月8日")]),
    ("DOB: 1985-04-12", [("DATE_OF_BIRTH", "1985-04-12")]),
    ("date of birth 1985/04/12", [("DATE_OF_BIRTH", "1985/04/12")]),
    ("She was born on April 12, 1985.", [("DATE_OF_BIRTH", "April 12, 1985")]),
    ("Birthdate: 12 Apr 1985", [("DATE_OF_BIRTH", "12 Apr 1985")]),
    ('{"dob": "04/12/1985"}', [("DATE_OF_BIRTH", "04/12/1985")]),
    ("生年月日：S60.4.12", [("DATE_OF_BIRTH", "S60.4.12")]),
    (
        "生年月日：1985年4月12日、入社日：2010年4月1日",
        [("DATE_OF_BIRTH", "1985年4月12日")],
    ),
]


@pytest.mark.parametrize(("text", "found"), BIRTH_DATE_FOUND)
def test_dates_of_birth_are_reported(text: str, found: list[tuple[str, str]]) -> None:
    assert detect(DateOfBirthRecognizer(), text) == expect(text, *found)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("会議は2024年4月12日です", id="date-without-label"),
        pytest.param("Released on April 12, 1985.", id="english-date-without-label"),
        pytest.param("DOB: 1985-13-45", id="impossible-date"),
        pytest.param("She was born in Osaka in 1985.", id="year-only"),
        pytest.param("生年月日は必須項目です。締切は2024年4月12日", id="label-with-other-text-far"),
        pytest.param("毎日生活する2024年", id="sei-after-a-non-date"),
    ],
)
def test_dates_without_a_birth_label_are_not_reported(text: str) -> None:
    assert detect(DateOfBirthRecognizer(), text) == []


# ---------------------------------------------------------------------------------------------
# Shapes Presidio's own recognizers miss (``proxy.detection.recognizers``, used with the
# Japanese recognizers on every text)


def luhn(partial: str) -> str:
    """``partial`` with its Luhn check digit appended (written independently of the code)."""
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return partial + str(-total % 10)


def iban(country: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


CARD = luhn("453914880343646")
AMEX = luhn("37144963539843")
IBAN_GB = iban("GB", "NWBK60161370415823")
IBAN_DE = iban("DE", "500105175407324931")

COMMON_FOUND = [
    (DottedCardRecognizer, f"card {CARD[:4]}.{CARD[4:8]}.{CARD[8:12]}.{CARD[12:]} exp 08/27",
     f"{CARD[:4]}.{CARD[4:8]}.{CARD[8:12]}.{CARD[12:]}"),
    (DottedCardRecognizer, f"カード{full_width(CARD[:4])}．{full_width(CARD[4:8])}．"
     f"{full_width(CARD[8:12])}．{full_width(CARD[12:])}で",
     f"{full_width(CARD[:4])}．{full_width(CARD[4:8])}．{full_width(CARD[8:12])}．"
     f"{full_width(CARD[12:])}"),
    (DottedCardRecognizer, f"Amex {AMEX[:4]}.{AMEX[4:10]}.{AMEX[10:]}",
     f"{AMEX[:4]}.{AMEX[4:10]}.{AMEX[10:]}"),
    (DottedCardRecognizer, f"card no {CARD[:4]}/{CARD[4:8]}/{CARD[8:12]}/{CARD[12:]}",
     f"{CARD[:4]}/{CARD[4:8]}/{CARD[8:12]}/{CARD[12:]}"),
    (DottedCardRecognizer, f"pan={CARD[:4]}_{CARD[4:8]}_{CARD[8:12]}_{CARD[12:]}",
     f"{CARD[:4]}_{CARD[4:8]}_{CARD[8:12]}_{CARD[12:]}"),
    (SpacedCardRecognizer, f"she read her card out as {CARD[:4]} {CARD[4:6]} {CARD[6:10]} "
     f"{CARD[10:12]} {CARD[12:]}, refund it",
     f"{CARD[:4]} {CARD[4:6]} {CARD[6:10]} {CARD[10:12]} {CARD[12:]}"),
    (SpacedCardRecognizer, f"カード番号は {CARD[:2]} {CARD[2:8]} {CARD[8:12]} {CARD[12:]} です",
     f"{CARD[:2]} {CARD[2:8]} {CARD[8:12]} {CARD[12:]}"),
    (LowerCaseIbanRecognizer, f"remit to {IBAN_GB.lower()}. Thanks", IBAN_GB.lower()),
    (LowerCaseIbanRecognizer, f"iban {IBAN_DE[:4].lower()} {IBAN_DE[4:8]} {IBAN_DE[8:12]} "
     f"{IBAN_DE[12:16]} {IBAN_DE[16:20]} {IBAN_DE[20:]} is new",
     f"{IBAN_DE[:4].lower()} {IBAN_DE[4:8]} {IBAN_DE[8:12]} {IBAN_DE[12:16]} {IBAN_DE[16:20]} "
     f"{IBAN_DE[20:]}"),
    (UsSsnLabelledRecognizer, '{"ssn": "318462097", "income": 84000}', "318462097"),
    (UsSsnLabelledRecognizer, "SSN# 509 33 8172 on the form", "509 33 8172"),
    (UsSsnLabelledRecognizer, "Social Security No. 287-55-3310", "287-55-3310"),
    (UsPassportLabelledRecognizer, "US passport number 548207316, expires 2031", "548207316"),
    (UsPassportLabelledRecognizer, "passport: A12345678", "A12345678"),
    (UsDriverLicenseLabelledRecognizer, "California driver's license D4829173, consent signed",
     "D4829173"),
    (UsDriverLicenseLabelledRecognizer, "DL# 123456789 (NY)", "123456789"),
    (UsBankAccountLabelledRecognizer,
     "routing number 021000021, checking account number 483920174455", "483920174455"),
    (UsBankAccountLabelledRecognizer, "acct no. 00012345678", "00012345678"),
    (TrunkPrefixPhoneRecognizer, "T: +44 (0)20 7946 0321 | M: …", "+44 (0)20 7946 0321"),
    (TrunkPrefixPhoneRecognizer, "Tel. +49 (0) 30 901820", "+49 (0) 30 901820"),
]


@pytest.mark.parametrize(("recognizer", "text", "value"), COMMON_FOUND)
def test_shapes_presidio_misses_are_reported(
    recognizer: type[PatternRecognizer], text: str, value: str
) -> None:
    entity = recognizer.ENTITIES[0]
    assert detect(recognizer(), text) == expect(text, (entity, value))


COMMON_NOT_FOUND = [
    pytest.param(DottedCardRecognizer, f"{CARD[:4]}.{CARD[4:8]}.{CARD[8:12]}.{int(CARD[12:]) + 1}",
                 id="card-bad-luhn"),
    pytest.param(DottedCardRecognizer, f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}",
                 id="card-spaced-is-presidios"),
    pytest.param(DottedCardRecognizer, f"v1.{CARD[:4]}.{CARD[4:8]}.{CARD[8:12]}.{CARD[12:]}",
                 id="card-inside-a-dotted-run"),
    pytest.param(DottedCardRecognizer, "10.0.19045.3803", id="windows-build"),
    pytest.param(SpacedCardRecognizer, f"shipped {CARD[:4]} {CARD[4:6]} {CARD[6:10]} "
                 f"{CARD[10:12]} {CARD[12:]} units", id="spaced-card-without-a-card-word"),
    pytest.param(SpacedCardRecognizer, f"card {CARD[:4]} {CARD[4:6]} {CARD[6:10]} "
                 f"{CARD[10:12]} {int(CARD[12:]) + 1}", id="spaced-card-bad-luhn"),
    pytest.param(DottedCardRecognizer, f"{CARD[:4]}/{CARD[4:8]}.{CARD[8:12]}/{CARD[12:]}",
                 id="card-mixed-separators"),
    pytest.param(DottedCardRecognizer, f"/srv/{CARD[:4]}/{CARD[4:8]}/{CARD[8:12]}/{CARD[12:]}",
                 id="path-segments-after-a-word"),
    pytest.param(LowerCaseIbanRecognizer, IBAN_GB, id="iban-upper-case-is-presidios"),
    pytest.param(LowerCaseIbanRecognizer, IBAN_GB.lower()[:-1] + "0", id="iban-bad-checksum"),
    pytest.param(LowerCaseIbanRecognizer, IBAN_GB.lower() + "7", id="iban-too-long"),
    pytest.param(UsSsnLabelledRecognizer, "order 318462097 shipped", id="ssn-without-label"),
    pytest.param(UsSsnLabelledRecognizer, "SSN 666123456", id="ssn-area-666"),
    pytest.param(UsSsnLabelledRecognizer, "SSN 912781234", id="ssn-itin-range"),
    pytest.param(UsSsnLabelledRecognizer, "SSN 318000000", id="ssn-zero-serial"),
    pytest.param(UsPassportLabelledRecognizer, "order 548207316", id="passport-without-label"),
    pytest.param(UsPassportLabelledRecognizer, "passport 5482073161", id="passport-ten-digits"),
    pytest.param(UsDriverLicenseLabelledRecognizer, "license key D4829173",
                 id="software-licence"),
    pytest.param(UsDriverLicenseLabelledRecognizer, "driver's license 123456789012",
                 id="twelve-digits-are-japans"),
    pytest.param(UsBankAccountLabelledRecognizer, "routing number 021000021",
                 id="routing-number"),
    pytest.param(UsBankAccountLabelledRecognizer, "user account 12345678", id="user-account"),
    pytest.param(UsBankAccountLabelledRecognizer, "account number: see ticket 12345678",
                 id="other-words-between"),
    pytest.param(UsBankAccountLabelledRecognizer, "account no 1234567", id="seven-digits"),
    pytest.param(TrunkPrefixPhoneRecognizer, "+81 (0)3 1234 5678", id="japan-is-jp-phone"),
    pytest.param(TrunkPrefixPhoneRecognizer, "+44 (0)12", id="too-short"),
]


@pytest.mark.parametrize(("recognizer", "text"), COMMON_NOT_FOUND)
def test_shapes_that_only_look_like_identifiers_are_not_reported(
    recognizer: type[PatternRecognizer], text: str
) -> None:
    assert detect(recognizer(), text) == []


def test_common_recognizers_are_registered() -> None:
    names = {type(r).__name__ for r in Registry().build()}
    common = {DottedCardRecognizer, SpacedCardRecognizer, LowerCaseIbanRecognizer,
              UsSsnLabelledRecognizer, UsPassportLabelledRecognizer,
              UsDriverLicenseLabelledRecognizer, UsBankAccountLabelledRecognizer,
              TrunkPrefixPhoneRecognizer}
    assert {c.__name__ for c in common} <= names
