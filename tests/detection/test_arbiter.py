"""What a finding is, read in its surroundings (``arbiter``), through the real detector.

Each case pairs a clean text with its sensitive twin: the mechanism must clear the first and
keep the second, or it is a leak waiting for the next prompt.
"""

from __future__ import annotations

import pytest

from proxy.detection.arbiter import is_placeholder_number, is_test_number
from proxy.detection.detector import Detector
from proxy.values import Segment

PERSONAL = {"PERSON", "PHONE_NUMBER", "JP_PHONE_NUMBER", "JP_ADDRESS", "STREET_ADDRESS",
            "JP_POSTAL_CODE", "DATE_OF_BIRTH", "JP_MY_NUMBER", "CREDIT_CARD", "EMAIL_ADDRESS",
            "JP_HEALTH_INSURANCE"}


def personal(detector: Detector, text: str) -> set[tuple[str, str]]:
    return {(f.entity_type, text[f.start:f.end])
            for f in detector.analyze([Segment("t", text)])
            if f.entity_type in PERSONAL and f.score >= 0.6}


def found(detector: Detector, text: str, min_score: float = 0.4,
          entities: set[str] = PERSONAL) -> set[str]:
    """The values of ``text`` found as one of ``entities`` at ``min_score`` or more."""
    return {text[f.start:f.end] for f in detector.analyze([Segment("t", text)])
            if f.entity_type in entities and f.score >= min_score}


def types(detector: Detector, text: str) -> set[str]:
    return {f.entity_type for f in detector.analyze([Segment("t", text)]) if f.score >= 0.6}


def test_digits_nobody_is_given() -> None:
    assert is_placeholder_number("000-0000-0000")
    assert is_placeholder_number("03-0000-0000")
    assert is_placeholder_number("0000 0000 0000")
    assert not is_placeholder_number("090-1234-5678")  # consecutive digits: someone's number
    assert not is_placeholder_number("090-1111-1111")  # a vanity number exists
    assert is_test_number("4111 1111 1111 1111")
    assert is_test_number("4242 4242 4242 4242")
    assert not is_test_number("4539 1488 0343 6467")


@pytest.mark.parametrize("text", [
    "テスト用ダミーデータ：氏名 テスト 花子、電話 000-0000-0000、個人番号 0000 0000 0000",
    "記入例：山田 花子（生年月日 1980年1月1日）",
    "介護記録の記入例です。利用者：山田 花子 様（仮名）",
    "Is this a reasonable fictional test record? {\"name\": \"John Doe\", \"dob\": \"1900-01-01\"}",
    "SAMPLE ENTRY (fictional)\nName: Jane Sample\nPhone: (000) 000-0000",
    "In Stripe test mode, card 4242 4242 4242 4242 succeeds.",
    "For unit tests we use the dummy value 123456789018 as the My Number.",
    # A declaration that states what the data is: a heading over its paragraph, …
    "Check this label layout.\n\n[SAMPLE - NOT A REAL CUSTOMER]\nCustomer: Rowan Whitlock\n"
    "Ship to: 48 Harrow Lane, Leeds",
    "返信はがきの見本です。\n\n【入力例】\nご住所:〒150-0002 東京都渋谷区渋谷2-21-1\n"
    "ご芳名:鷲尾 菜摘",
    # … a sentence ending the paragraph before the data it introduces, …
    "研修用の台本を作ります。以下はすべて架空のデータです。\n\n氏名：椎葉 美琴\n"
    "携帯：090-5521-8830",
    "Tidy this template. The example values are dummies.\n\nContact: Dr. Imogen Vance\n"
    "Phone: (617) 555-0142",
    # … and the rest of its own sentence.
    "Use the demo persona so nobody real appears: Dorian Pell, dorian.pell@contoso.com",
    # Values given as examples of a kind of data, one after another.
    "携帯番号の正規表現を書いて（例:090-1234-5678、08012345678）",
    "Validate emails like priya.n+test@example.com and numbers like (415) 555-0134 or 555-0187.",
    "テストには 4417 2291 3305 のような明らかなダミー値だけを使ってください。",
    # A placeholder name read in part by NER, the form's word first in Japanese order.
    "Use obviously fake sample data like this: Marcus Q. Sample, 71, of Anytown.",
    "ダミーデータ：会員名 テスト ハナコ",
    # A cue opening a bracket speaks for all of it; a number given as a format's shape.
    "Lead traveller: {{lead_name}} [DUMMY: Marcus Sample, m.sample@example.com, +1 555-0100]",
    "電話番号は「090-1234-5678」のような3-4-4形式で届きます。",
    # Examples of a kind of data a few words on, with a code naming each; a form's example
    # account of consecutive digits.
    "Claim reference numbers are 10 digits grouped like 0120-555-0147 in our system.",
    "Order numbers look like phone numbers, e.g. ORD 415-882-9031 or UPC 0-36000-29145-2.",
    "記入例）\n振込先：〇〇銀行 △△支店 普通 1234567\n依頼人：ミホン ジロウ（記入例）",
    # Examples listed in brackets one after another, the cue after the list or before it.
    "電話番号：「03-1234-5678」「090-1234-5678」のようなハイフン区切りで入力",
    "郵便番号：「123-4567」形式で入力してください。",
    "Stripe's public test cards 4242 4242 4242 4242, 5555 5555 5555 4444 and 3782 822463 10005.",
    "a separate regex for UK mobiles like 07700 900123",
    "社内ドキュメント用の例示用アドレスです。\nuser=alice@example.com src=192.0.2.10",
    # The law's placeholder parties.
    "| 1002 | Jane Roe | jane.roe@example.com |",
])
def test_placeholders_are_not_personal_data(detector: Detector, text: str) -> None:
    assert personal(detector, text) == set()


@pytest.mark.parametrize(("text", "value"), [
    # A request to make data dummy declares nothing about the data that follows.
    ("以下の顧客データをダミーデータに置き換えてください：小鳥遊 真央 090-4417-2683",
     "090-4417-2683"),
    ("Replace the real values with fake ones: Priyanka Raghunathan, +44 7700 900461",
     "Priyanka Raghunathan"),
    ("カルテの読み仮名：イトウ ナオコ。漢字の候補を挙げて", "イトウ ナオコ"),
    ("Refund card 4111 1111 1111 1111 today.", "4111 1111 1111 1111"),
    ("お客様の携帯は090-1234-5678です。", "090-1234-5678"),
    # Asked to make data from given data, or to say whether it is real: no statement.
    ("以下のデータと同じ形式でダミーデータを作って：\n\n氏名：椎葉 美琴\n携帯：090-5521-8830",
     "090-5521-8830"),
    ("Generate fake records based on these:\n\nContact: Dr. Imogen Vance, (617) 555-0142",
     "Imogen Vance"),
    ("Is this a fake number? 090-5521-8830", "090-5521-8830"),
    # "Sample" data that says where it came from is real data, sampled.
    ("本番環境のサンプルデータです：鈴木 健太 090-4417-2683", "090-4417-2683"),
    ("Sample data pulled from our CRM: Priya Raghunathan, priya.r@lumen-freight.co.uk",
     "Priya Raghunathan"),
    # A statement ends where the text speaks of real data …
    ("The rows below are dummies: Dorian Pell; the real customer is Maria Gonzalez.",
     "Maria Gonzalez"),
    # … and a heading covers its own paragraph only.
    ("[SAMPLE DATA]\nCustomer: Dorian Pell\n\nReply to Maria Gonzalez about her refund.",
     "Maria Gonzalez"),
    # A fictional-looking number without a declaration is someone's in test data everywhere.
    ("Customer's mobile: (617) 555-0142", "(617) 555-0142"),
    # Only an example chains to its neighbours in a list, not a number zero by its digits.
    ("携帯は090-4417-2683、080-0000-0000", "090-4417-2683"),
    ("Numbers: 000-0000-0000, 090-4417-2683", "090-4417-2683"),
    # A format shown with a real number, an example label before another value.
    ("顧客の電話番号は「090-4417-2683」のようなハイフン区切りで登録されています。",
     "090-4417-2683"),
    ("入力例：03-1234-5678、お客様の番号 090-4417-2683", "090-4417-2683"),
    # Declarations inside other words, and frames that are a private person's own dates.
    ("テスト用紙を送ります。生徒：鷲尾 菜摘 様 〒150-0002 東京都渋谷区渋谷2-21-1",
     "東京都渋谷区渋谷2-21-1"),
    ("平仮名で登録されている顧客：すずき けんた 090-4417-2683", "090-4417-2683"),
    ("Write a birthday card for my grandmother Edith Kowalski, born May 14, 1931.",
     "Edith Kowalski"),
])
def test_real_values_beside_placeholder_words_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in {v for _, v in personal(detector, text)}


@pytest.mark.parametrize("text", [
    "スマートメーター（SN 2204-8817-3356）で通信エラーが出ます。",
    "当社の注文番号は「080-4471-2290」のような形式です。",
    "Parse this telemetry line: SN FL-8830 batt 78% ref 090-1234-0001",
    "トヨタ純正の品番 04152-YZZA6 と 90915-10003 の違いは？",
    "Invoice numbers look like INV 0207-946-0012 (it's just our numbering).",
    "本船の遅延です。ブッキング番号:0904418273、コンテナは TCNU 090552 8。",
    "品番が「080-1124-5567」「090-3302-7781」みたいに電話番号と同じ形式です。",
    "IPs: 192.0.2.15, 198.51.100.7, 203.0.113.200",
    "ロットNo.:080-2215-4471 の製品を回収します。",
    "ビルド:0312-5587-01(RC2) で再現、ビルド 0311-9920-04 では未発生。",
    "Affected product: batch codes 312-884-2019 and 312-884-2020 (julian dates).",
])
def test_numbers_labelled_as_other_identifiers_are_not_phones(
    detector: Detector, text: str,
) -> None:
    assert not types(detector, text) & {"PHONE_NUMBER", "JP_PHONE_NUMBER"}


def test_a_label_naming_a_persons_identifier_is_no_other_identifier(
    detector: Detector,
) -> None:
    # 口座番号 is not ブッキング番号: the number still counts (the policy reads phones from 0.4).
    text = "本日、綿貫さんがご来店。口座番号は0552-118734。"
    assert any(text[f.start:f.end] == "0552-118734" and f.score >= 0.4
               for f in detector.analyze([Segment("t", text)]))


@pytest.mark.parametrize(("text", "phone"), [
    ("LINEで送られてきた番号 070-3667-5903 にかけ直して", "070-3667-5903"),
    ("Order 4471 is late; the customer's mobile is 090-2406-1127.", "090-2406-1127"),
])
def test_a_phone_near_an_identifier_word_is_still_a_phone(
    detector: Detector, text: str, phone: str,
) -> None:
    assert phone in {v for _, v in personal(detector, text)}


@pytest.mark.parametrize("text", [
    "東京海上日動 代表電話 03-3212-6211 に問い合わせてよいですか。",
    "浅草寺（東京都台東区浅草2-3-1）までの行き方を英語で説明して。",
    "Draft an RFQ to Nippon Express (head office, main line 03-5801-1000).",
    "The Shinjuku City Office (1-4-1 Kabukicho, Shinjuku-ku, Tokyo 160-8484) extends hours.",
    "問い合わせ先：世田谷区役所\n所在地：〒154-8504 東京都世田谷区世田谷4-21-27",
    # After the owner's name and a comma, and listed after another of its details.
    "Sources: American Dental Association, 211 E. Chicago Ave., Chicago, IL 60611, 312.440.2500",
])
def test_organisations_contact_details_are_public(detector: Detector, text: str) -> None:
    found = types(detector, text)
    assert "PUBLIC_CONTACT" in found
    assert not found & {"PHONE_NUMBER", "JP_PHONE_NUMBER", "JP_ADDRESS", "STREET_ADDRESS",
                        "JP_POSTAL_CODE"}


@pytest.mark.parametrize(("text", "value"), [
    ("契約者：小鳥遊 真央 様\n住所：東京都台東区浅草2-3-1", "東京都台東区浅草2-3-1"),
    ("代表の田中 090-4417-2683 に折り返して", "090-4417-2683"),
    ("本社の総務 田中 誠 03-3212-6211 に連絡して", "03-3212-6211"),
    ("Ship to Maria Gonzalez, 211 E. Chicago Ave., Chicago, IL 60611, 312.440.2500",
     "211 E. Chicago Ave., Chicago, IL 60611"),
])
def test_a_persons_contact_details_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in {v for _, v in personal(detector, text)}


@pytest.mark.parametrize("text", [
    "坂本龍馬が起草したとされる船中八策について教えて。",
    "デイサービス用に、徳川家康・紫式部・野口英世の三択クイズを作って。",
    "『名探偵コナン』のコナンくんと毛利蘭ちゃんがNDAについて話す漫画のシナリオ。",
    "Summarize how Ōkubo Toshimichi and Itō Hirobumi shaped the abolition of the han system"
    " in 1871.",
    "Write a timeline about Enzo Ferrari and Ferruccio Lamborghini from 1963.",
    "Fun facts: Doc Holliday (John Henry Holliday, 1851–1887) trained as a dentist.",
    # Merchandise of characters, children's books, a persona's voice or style, a monarch.
    "商品：名探偵コナン 江戸川コナンくん＆毛利蘭ちゃん 浴衣ver. セット（正規ライセンス品）",
    "Plan circle times themed on picture books: Curious George, and Max in Where the Wild"
    " Things Are.",
    "Write a best man toast in the voice of Charles Bingley for Mr. Darcy and Elizabeth"
    " Bennet.",
    "Week 2 drills inspired by Serena Williams, week 4 Simone Biles-style core work.",
    "Summarize the protocol of Queen Elizabeth II's state funeral in five bullet points.",
    # A work by its author, a case of the past, a public office, a namesake, a maxim's source.
    "A 2-line blurb each for Toni Morrison's \"Beloved\" and Judy Blume's \"Forever\".",
    "Explain Marbury v. Madison (1803): who William Marbury was and what Chief Justice John"
    " Marshall decided.",
    "Duke Energy (after James Buchanan Duke) and Southern California Edison (after Thomas"
    " Edison) are utilities.",
    "Write about Horace Wells and William T. G. Morton and the 1840s race to use ether.",
    "緒方貞子さんや中村哲医師の名言を出典付きで教えてください。",
    # A cast listed after the sentence that frames it, on its line.
    "名探偵コナンのキャラで5問作ってください。コナンくん、毛利小五郎のおじさん、灰原さんを登場させて。",
    "Plan an afternoon themed around 'The Golden Girls'. Include a quiz about Dorothy, Rose,"
    " Blanche and Sophia.",
    # A name's origin, founders' names, a character's line; a role word as a modifier.
    "4大監査法人の名前の由来（等松農夫蔵、Ernst & Young など）を教えて。",
    "Car facts: how Mercedes got its name from Mercedes Jellinek, and Henry Ford's Model T.",
    "新入社員研修で『サザエさん』のフグ田マスオさんの給与明細を題材にしたい。",
])
def test_people_written_about_as_public_figures(detector: Detector, text: str) -> None:
    assert "PERSON" not in types(detector, text)


@pytest.mark.parametrize(("text", "name"), [
    ("『鬼滅の刃』の感想を田中 美咲様にお送りください。", "田中 美咲"),
    ("The patient Priyanka Raghunathan asked about the history of her treatment in 1980.",
     "Priyanka Raghunathan"),
    ("Siobhán Ní Bhriain is currently on €128k at a fintech in Dublin.", "Siobhán Ní Bhriain"),
    ("Explain this PNR: 1.OKONKWO/CHIDI MR", "OKONKWO/CHIDI"),
    # 発 after a name that is no place is the person's: Tanaka's proposal, not a departure.
    ("鈴木 健太発の提案を要約して。", "鈴木 健太"),
    # Family names that are head nouns too: Hall, Lane, Street, Park.
    ("Please call Jessica Hall about the invoice.", "Jessica Hall"),
    ("Refund issued to Sarah Lane yesterday.", "Sarah Lane"),
    ("Tom Street called again about his claim.", "Tom Street"),
    ("Jenny Park's claim was approved on Monday.", "Jenny Park"),
    # A persona's voice asked for a customer still names the customer.
    ("Reply in the voice of our brand to customer Priyanka Raghunathan.",
     "Priyanka Raghunathan"),
    # A name before a facility's word is the facility's, not before a post or a given name.
    ("佐藤センター長に電話して、明日の件を伝えて", "佐藤"),
    ("田中省吾さんに連絡して", "田中省吾"),
    # One person after a framing sentence is no cast.
    ("Write a short story about samurai. Then send it to Maria Gonzalez.", "Maria Gonzalez"),
    ("Draft an anime-themed newsletter. Email it to Maria Gonzalez and Priya Raghunathan.",
     "Maria Gonzalez"),
    # Login names in logs.
    ("2024-06-20 07:02:11 user=dwight.okonkwo src=73.162.88.214 result=success",
     "dwight.okonkwo"),
])
def test_private_people_stay_people(detector: Detector, text: str, name: str) -> None:
    assert any(t == "PERSON" and name in v or v in name
               for t, v in personal(detector, text) if t == "PERSON")


@pytest.mark.parametrize("text", [
    "羽田着 JL123便の送迎バスの案内文を作って。",
    "武田薬品工業の海外買収の歴史を整理して。",
    "12階のキティちゃんコンセプトルームに泊まる団体の案内文。",
    "Pay in person at City Hall, 1 Dr. Carlton B. Goodlett Place, Room 140.",
    "Our pre-K is doing a field trip to Lincoln Park Zoo next month.",
    "早稲田大学の大隈講堂も散歩圏です。",
    "Affected product: Harvest Lane Granola Bites 8 oz.",
    "Tickets via the Royal Albert Hall box office.",
    "鹿島建設や大林組、竹中工務店が公開しているような書式です。",
    "Sources: see ada.org for the guidance.",
    "Compare a John Crane Type 28 with a Flowserve BX for crude transfer pumps.",
    "Give directions to John F. Kennedy International Airport, Queens, NY.",
])
def test_things_named_like_people(detector: Detector, text: str) -> None:
    assert "PERSON" not in types(detector, text)


@pytest.mark.parametrize(("text", "name"), [
    ("新入社員の鈴木 健太さんの給与明細を確認して", "鈴木 健太"),
    ("社員 高橋 美咲『鬼滅の刃』グッズの返品対応", "高橋 美咲"),
])
def test_a_role_word_for_a_person_still_addresses_them(
    detector: Detector, text: str, name: str,
) -> None:
    assert ("PERSON", name) in personal(detector, text)


def test_a_reversed_reading_finds_no_name_in_plain_words(detector: Detector) -> None:
    # "reverse" makes the text be read backwards too; its words read backwards are no names.
    text = "Requirements from our data plan: we also need the reverse direction for listings."
    assert not personal(detector, text)
    # A name written backwards is still found.
    assert personal(detector, "Read this in reverse: ikuzus atihsoy, 8372-4144-090")


def test_a_work_named_on_another_line_clears_nobody(detector: Detector) -> None:
    # Lines of one prompt can be unrelated requests: a title on one made the worker named on
    # another a character (a family name alone, or a full name written without a space).
    title = "福沢諭吉の『学問のすゝめ』の要点は？"
    for line, value in (("是正報告書：責任者 後藤、発生工程 溶接。なぜなぜ分析を作成", "後藤"),
                        ("作業者 近藤恵美 がプレス機で指を負傷。報告書を作成", "近藤恵美")):
        assert ("PERSON", value) in personal(detector, line + "\n" + title), line
    # A character's given name on the line that names the work is still one.
    assert not personal(detector, "『ドラえもん』でのび太がいつも頼る道具は？")


def test_a_declaration_covers_its_own_paragraph_only(detector: Detector) -> None:
    sample = "Fictional test record for the form: Jane Sample, jane.sample@example.com"
    real = "Now the real one: reply to Maria Gonzalez at maria.gonzalez@example.com"
    assert not personal(detector, sample)
    # The same paragraph: the declaration covers the sample's values, and the real customer's
    # only where they have a placeholder's shape (none here).
    assert ("PERSON", "Maria Gonzalez") in personal(detector, sample + "\n" + real)
    # Another paragraph: a pasted sample says nothing about this one's data.
    assert ("EMAIL_ADDRESS", "maria.gonzalez@example.com") in personal(
        detector, sample + "\n\n" + real)


# The red team's classes (bench/probes/redteam-1.jsonl, written by someone who read these
# rules): real data right beside the words the clearing rules look for. Each is written afresh
# here, not copied from the probe, and each has a clean twin above or below.
@pytest.mark.parametrize(("text", "value"), [
    # An example word in a remark about something else says nothing about the name.
    ("ご意見メールの返信文です。杉浦 真理恵 様（例として一件だけ載せます）\n本日はご連絡ありがとう"
     "ございます。", "杉浦 真理恵"),
    # "e.g." before a real customer's address: an example of a problem, not of a format.
    ("The parser drops flat positions, e.g. 14 Rowan Close, Flat 0/1, Paisley PA1 2BN loses "
     "the 0/1.", "14 Rowan Close, Flat 0/1, Paisley PA1 2BN"),
    # A real party named between a declaration and the value ends its cover.
    ("Our dummy accounts were merged into a real customer, Harriet Guest, overnight.",
     "Harriet"),
    # English "dummy" as a thing: a baby's dummy declares no data.
    ("Dummy complaint from a parent:\nOliver Stanton, 9 Elm Grove, York YO31 7HX\nThe teat "
     "split after a week.", "9 Elm Grove, York YO31 7HX"),
    # The writer's own department's people, whatever style the text is written in.
    ("忘年会用に、開発二課の宇佐美 駿と松永 朋美を三国志の武将風に紹介して。", "宇佐美 駿"),
    # "a" before a name the sentence calls he or she: a person, not a brand.
    ("We've got a Priya Natarajan on the line asking where her parcel is.", "Priya Natarajan"),
    # A business run from home: its address is the owner's.
    ("Bill it to Marcus Reid Design, 12 Fern Road, Bristol BS6 5QT - he works from home.",
     "12 Fern Road, Bristol BS6 5QT"),
    # A number to ring back on is the caller's, whoever took the message.
    ("Reception message: call back requested on 0161 728 5519 about the broken chair.",
     "0161 728 5519"),
    # A phone number typed into another identifier's field, as the text says.
    ("Ticket ref 0413 882 617 finds nothing; I think she typed her mobile into the ticket "
     "field.", "0413 882 617"),
    ("注文番号：080-5521-7730 で検索しても出ません。お客様が携帯番号を入力したようです。",
     "080-5521-7730"),
])
def test_real_data_beside_the_clearing_words_stays_personal(
    detector: Detector, text: str, value: str,
) -> None:
    # The default policy reads phone numbers from 0.4 (a number without a phone word).
    assert value in found(detector, text)


@pytest.mark.parametrize("text", [
    # The twins: an example word that is the whole remark, a format's example of a named
    # identifier, "dummies" said of the values, a brand with an article.
    "返信メールの書式見本：佐伯 理央 様（サンプル）",
    "当社の問い合わせ番号は12桁で、末尾はチェックデジットです。形式の例：4412-0931-7765",
    "Tidy this template; the example values are dummies.\n\nContact: Dr. Imogen Vance\n"
    "Phone: (617) 555-0142",
    "Compare a John Crane with a Flowserve for crude transfer pumps.",
    "受付票のテストケースとして taro.test@example.com と user+tag@example.co.jp を使います。",
])
def test_the_clearing_words_still_clear_their_own_values(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize("text", [
    # An organisation named as a list item's label, its building between address and number.
    "窓口一覧を表にしてください。\n\n- 東京税関 本関：東京都江東区青海2-7-11 東京港湾合同庁舎、"
    "03-3529-0700\n- 横浜税関：神奈川県横浜市中区海岸通1-1、045-212-6000",
    "会場：東京国立博物館 平成館（東京都台東区上野公園13-9）",
    # Another identifier's label, plural, before a number that passes the My Number check.
    "Booking refs look like: 0800-5551-2209 (some start with 0800, sadly).",
    "販売システムのチケット番号は「0312-5566-7788」形式の12桁です。",
    # A seed file declared synthetic: its form-first name and its Ofcom drama number.
    "# staging/seed_clients.yaml  -- SYNTHETIC TEST DATA ONLY\nclients:\n  - id: TEST-0001\n"
    "    name: \"Test Client One\"\n    phone: \"+44 20 7946 0958\"\n",
    "電話番号（03-1234-5678 のような形）と誤認しないようにしたいです。",
    # A table column headed by another identifier: a misread barcode in the lot column.
    "在庫表です。\n\n型番,度数,ロット,有効期限,数量\nSN60WF,+21.0D,2309114508,2026/03/31,4\n"
    "XY1,+20.5D,090-2231-4478,2026/01/31,1",
])
def test_public_and_other_identifiers_in_new_shapes_are_not_personal(
    detector: Detector, text: str,
) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    # A person's label, not an organisation's, before the same kind of list item.
    ("- 依頼者：東京都杉並区阿佐谷南3-14-2、03-3312-5521", "東京都杉並区阿佐谷南3-14-2"),
    ("- 山田 花子：東京都杉並区阿佐谷南3-14-2", "東京都杉並区阿佐谷南3-14-2"),
    # A My Number labelled as one, whatever else the sentence names.
    ("個人番号は 0312-5566-7788 です。チケット番号と一緒に送ります。", "0312-5566-7788"),
    # A drama number with nothing declaring the data made up: test data writes them as real.
    ("Call Mr Okafor back on 020 7946 0958 about his claim.", "020 7946 0958"),
    # A phone column beside an order column stays the customer's.
    ("| Order No | Customer phone |\n|---|---|\n| 0482-7713-0905 | 090-2231-4478 |",
     "090-2231-4478"),
    # A number not shaped like an example, given as a format's shape.
    ("電話番号（03-5512-8843 のような形）と誤認しないようにしたいです。", "03-5512-8843"),
])
def test_the_same_shapes_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


@pytest.mark.parametrize("text", [
    # A value given as an instance of the identifier its sentence speaks of.
    "出荷ラベルのロット番号体系を見直しています。現在は「090-1123-4471」のように3桁-4桁-4桁で、"
    "先頭3桁が集荷場コードです。",
    "Our drawing register uses numbers like 03-5521-7784 (03 = construction documents phase).",
    # A code's letters glued before the number.
    "当社の図面番号ルールを説明してください。\n\n形式：A-03-1120-4458",
    # A freephone number: an organisation's by the numbering plan.
    "A buyer asked what \"0120-884-2391\" printed on our tomato cartons is.",
    # Holders of a numbered office, and a year of the Meiji era.
    "初代司法卿の江藤新平が制度を整えた経緯をまとめてください。",
    "十河信二（第4代国鉄総裁）と島秀雄について800字で書いてください。",
    "明治5年に新橋駅を開業させた井上勝の功績を紹介してください。",
    "国立代々木競技場（東京都渋谷区神南2-1-1）への行き方を教えてください。",
    # An owner heading the lines of its details, its phone labelled on the next line, and a
    # role mailbox.
    "Green Hill Animal Hospital — open Mon–Sat 9:00–19:00.\n3-5-12 Jiyugaoka, Meguro-ku, "
    "Tokyo 152-0035\nTel 03-5701-4488 (reception) / info@greenhill-ah.jp",
])
def test_p24_shapes_of_public_and_other_data_are_not_personal(
    detector: Detector, text: str,
) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("ロット番号とは別に、担当者の携帯は「090-1123-4471」のように登録してください。",
     "090-1123-4471"),
    ("TEL-03-5512-8843 までご連絡ください。", "03-5512-8843"),
    ("先方の番号は +81-3-5512-8843 です。", "+81-3-5512-8843"),
    ("祖母の山田ハナは大正15年に生まれ、今も元気です。", "山田ハナ"),
    ("生年月日：大正15年3月2日、氏名：山田ハナ", "山田ハナ"),
    ("携帯 080-0123-4567 に折り返しお願いします。", "080-0123-4567"),
    ("Please forward to hanako@greenhill-ah.jp today.", "hanako@greenhill-ah.jp"),
    ("Jane Whitlock — seen Monday\n12 Alder Way, Leeds LS6 2AB", "12 Alder Way, Leeds LS6 2AB"),
    ("初代の担当者だった佐藤 美咲さんに連絡して。", "佐藤 美咲"),
])
def test_p24_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


@pytest.mark.parametrize("text", [
    "Compare George Stephenson's Rocket (Rainhill Trials, 1829) with the engines of its day.",
    "General question, no client specifics: could a firm register SHERLOCK now that most of "
    "Conan Doyle's works are public domain?",
])
def test_the_past_in_brackets_and_works_out_of_copyright_frame_their_people(
    detector: Detector, text: str,
) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("Our client Rowan Whitlock (account opened 2019) asked about the 1829 edition.",
     "Rowan Whitlock"),
    ("No client call today; Rowan Whitlock's invoice is overdue.", "Rowan Whitlock"),
])
def test_a_client_of_today_beside_those_words_stays_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, 0.6)


@pytest.mark.parametrize("text", [
    "運賃表を整形してください。\n\nstation_name,fare_yen\n大塚,170\n大森,210\n大崎,170",
    "| 駅名 | 乗換 |\n|---|---|\n| 大塚 | 都電 |\n| 高田馬場 | 西武線 |",
])
def test_a_column_of_places_holds_no_people(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "name"), [
    ("氏名,最寄り駅,電話\n大塚 美咲,大森,090-2231-4478", "大塚 美咲"),
    ("name,city\nMaria Gonzalez,Sydney\nDavid Okafor,Leeds", "Maria Gonzalez"),
])
def test_people_beside_a_column_of_places_stay_people(
    detector: Detector, text: str, name: str,
) -> None:
    assert ("PERSON", name) in personal(detector, text)


@pytest.mark.parametrize("text", [
    # A form's placeholder date: month 〇 and day 〇 are no date.
    "【記入例】\n利用者氏名：看護 花子\n生年月日：昭和〇年〇月〇日",
    # A terminal's address in brackets and an airport's information desk.
    "成田空港第2ターミナル（千葉県成田市古込1-1）への行き方と、空港の総合案内（0476-34-8000）の"
    "受付時間を教えてください。",
    # A shop heading its address, and a religious corporation's office line.
    "まるや質店 錦糸町駅前店\n東京都墨田区江東橋3-9-7\nTEL 03-3631-0000\n営業 10:00〜19:00",
    "宗教法人 法輪山 常福寺\n〒606-8333 京都市左京区岡崎法勝寺町12\n寺務所電話：075-771-0000",
    # A product's maker and model; a shrine's name and a town between street and postal code.
    'Items look like {"sku": "PWN-2024-000187", "title": "Gibson Les Paul Standard 2019"}.',
    "Explain the Naiku and Geku of Ise Jingu. The Naiku is at 1 Ujitachi-cho, Ise, Mie 516-0023.",
])
def test_p24b_shapes_of_public_and_placeholder_data_are_not_personal(
    detector: Detector, text: str,
) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("生年月日：昭和六十年三月十四日", "昭和六十年三月十四日"),
    ("佐藤 美咲\n東京都墨田区江東橋3-9-7\nTEL 03-3631-0000", "東京都墨田区江東橋3-9-7"),
    ("まるや質店 錦糸町駅前店\n店長の携帯 090-2231-4478", "090-2231-4478"),
    ("Ship to Kenji Ise, 1 Ujitachi-cho, Ise, Mie 516-0023.", "Kenji Ise"),
    ("Send the Model 3 invoice to Maria Gonzalez by Friday.", "Maria Gonzalez"),
])
def test_p24b_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


@pytest.mark.parametrize("text", [
    # An address numbered 0 (blocks and lots start at 1), and its postal code with it.
    "案内状の下書き：会場 〒260-0013 千葉県千葉市中央区中央0-0-0（番地は確定後に差し替え）",
    # A Japanese fixed line whose exchange begins with 0 is nobody's; a switchboard's
    # label after the number.
    "お問い合わせ：駅前教室 045-000-3821（受付 平日15時〜）",
    "・電話：0276-47-1111（代表）\n・開館時間：9時〜17時",
    # Buildings named with a family name after コーポ/ハイツ/ホテル.
    "点検予定：コーポ藤原（全8戸）、ハイツ佐伯第二（全12戸）、ホテル椿山荘東京の宴会場",
    # A series of books in 「」 with its authors; a game's NPC; an error code.
    "学級文庫に「おしりたんてい」シリーズ（トロル）と「ルルとララ」シリーズ（あんびるやすこ）を"
    "入れたいので紹介文を書いてください。",
    "NPCミナちゃんの台詞が途中で切れるバグの再現手順をまとめてください。",
    'セーブ時に "Error 4417-0031" が出て、ロードできません。',
    # English: a file reference glued with slashes, a museum's address after its name, famous
    # couples, the publicly reported, a middle initial in a notable name.
    "Customs hold on TGHU 5521907, see broker file ref K/0612/3349 for the documents.",
    "Trip to: National Museum of Western Art, 7-7 Ueno Park, Taito-ku, Tokyo",
    "Write a toast using famous TV couples: Leslie and Ben from Parks and Recreation, "
    "Cory and Topanga.",
    "Compare the worldbuilding of Ursula K. Le Guin and Terry Pratchett in 300 words.",
    # A column of car models, hotel room grades, a fictional set's test-case family name.
    "在庫,車名,年式\nA-01,スズキ スイフト,2020\nA-02,ダイハツ タント,2019",
    "Occupancy by room type: Hakone Superior Twin 71%, Ashi Premier King 64%.",
    "Practice data, all fictional:\nName,Score\nMia Testcase,88\nLeo Mock,71",
    # An achievement's name in a "name" field; a build step in a log.
    '{"api": "ACH_KOI", "name": "Golden Hour", "desc": "Catch a koi at dusk."}',
    "UATHelper: ERROR: Cook failed. Rerun with -cook -stage -pak.",
    # Characters of a novel a book club reads.
    "Our book club is reading 'The Remains of the Day'. Ask about Stevens and Miss Kenton.",
])
def test_p25_shapes_of_public_and_placeholder_data_are_not_personal(
    detector: Detector, text: str,
) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    # A template's {token} is what "placeholder" names; the rooming list is real guests.
    ("Write a welcome letter with a {guest_name} placeholder.\n\nROOM\tGUEST\n"
     "KING\tHAUGEN SIGRID", "HAUGEN SIGRID"),
    ("Placeholders like [NAME] are filled later.\nGuest: TANAKA MASAHIRO", "TANAKA MASAHIRO"),
    # (A venue's address is public since p28 — 会場 is an organisation's label — so the twin
    # of the draft's zero-numbered address is a delivery address.)
    ("送付先 〒260-0013 千葉県千葉市中央区中央1-2-3", "千葉県千葉市中央区中央1-2-3"),
    ("送付先 〒260-0013 千葉県千葉市中央区中央1-2-3", "260-0013"),
    ("お問い合わせ：担当 045-300-3821", "045-300-3821"),
    ("コーポ藤原 102号室の藤原 健太さんから連絡がありました。", "藤原 健太"),
    ("NPCのテストを担当した佐藤 美咲さんに連絡してください。", "佐藤 美咲"),
    ("Call Tel/03-5512-8843 about the error in the invoice.", "03-5512-8843"),
    ("Write a card for my famous aunt Rowan Whitlock.", "Rowan Whitlock"),
    ("Invite Rowan K. Whitlock and Maria Gonzalez to the review.", "Rowan K. Whitlock"),
    ("氏名,車名\n鈴木 一郎,スズキ スイフト", "鈴木 一郎"),
    ("Guest: Sakura Tanaka, room Superior King, 2 nights.", "Sakura Tanaka"),
    ("Contact Rowan Cook about the refund.", "Rowan Cook"),
    ('{"name": "Grace Young", "phone_type": "mobile"}', "Grace Young"),
    ("Our book club is reading 'Beloved'. Please email Rowan Whitlock and Maria Gonzalez "
     "the schedule.", "Rowan Whitlock"),
])
def test_p25_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


@pytest.mark.parametrize("text", [
    # Japanese: a role before さん/主任, a counter after a number, a place before a time of
    # departure, a station's exit, a lodging's label, a form's declaration in its heading.
    "パートさん向けに、レジ締めの手順をA4一枚で説明して。",
    "フォークリフト主任と配車担当へのヒアリング項目を5つ挙げて。",
    "対象バース12本中8本で予約制を導入しました。効果を要約して。",
    "1日目 羽田 7:35発 JL181、小松 8:40着、兼六園へ。",
    "教室へは「立川駅」西口より徒歩3分です。",
    "宿:和倉温泉 加賀屋（2名1室）",
    "【記入見本 ※実在の人物ではありません】\n申請者氏名:見本 太郎\n生年月日:平成元年1月1日",
    # English: a law named after someone, a saint's church, a compound word, a club and its
    # ground, a road, a change ticket, a function word and a plural, a number of zeros, NaN.
    "Explain the Ryan White Comprehensive AIDS Resources Emergency Act in three bullets.",
    "Drop-off at St Mary's Church Hall, Saturdays 9-12.",
    "Sat: Hollins Athletic v Victoria Wanderers at Jubilee Playing Fields.",
    "Roadworks on Cheetham Hill Rd until Friday.",
    "Change freeze CHG0009921 remains in effect until 28 Nov.",
    "Write the compère's intro lines for the recital.",
    "Check the lap length for H16 bars in core walls, see note 4.",
    "Ring the studio on 01904 000 000 to book a trial lesson.",
    "My pandas groupby gives NaN for the totals.",
    # A barcode column, a charity's number, a declaration with "no real …", a company's press
    # office, a famous name again in a later sentence, a product's camel-cased model.
    "SKU | EAN | On hand\nWK-7/1 | 4064666217338 | 23",
    "Registered Charity No. 1150872 — please add it to the footer.",
    "The data below is FAKE, no real donors.\n\nname: Sample Donor A, email: a@example.com",
    "Media contact: Press Office, Northwind Mobile plc, 1 Riverside Way, Reading RG1 8AA.",
    "Compare Roger Federer's and Serena Williams' serves. Mention Serena's 23 titles.",
    "The kiosk is a Dell OptiPlex 7010 with BIOS 1.24.",
])
def test_p26_shapes_of_public_and_placeholder_data_are_not_personal(
    detector: Detector, text: str,
) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("パートの佐藤 美咲さんから連絡がありました。", "佐藤 美咲"),
    ("班長：本中 健一（12名の班）", "本中 健一"),
    ("羽田 健一さんが 7:35発の便で来ます。", "羽田 健一"),
    ("引き継ぎ：佐藤 → 小松（来週から）", "小松"),
    ("担当：西口 健太", "西口 健太"),
    ("宿泊者：加賀屋 花子", "加賀屋 花子"),
    ("申請者氏名：見本 太郎\n※実在の人物です", "見本 太郎"),
    ("DEA number AB1234563 for the prescriber.", "AB1234563"),
    ("口座番号 1150872 に振り込んでください。", "1150872"),
    ("Call me on 07700 900123 after five.", "07700 900123"),
    ("Fake data below, but the last row is a real donor: Rowan Whitlock, rowan@gmail.com",
     "Rowan Whitlock"),
    ("Press Office, Northwind Mobile plc. Her mobile: 07700 900461", "07700 900461"),
    ("Roger Federer and Serena Williams are our idols. Serena Okafor's invoice is overdue.",
     "Serena Okafor"),
    ("Ticket from Ronan McDonald about the VPN.", "Ronan McDonald"),
])
def test_p26_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text,
                          entities=PERSONAL | {"MEDICAL_LICENSE", "JP_BANK_ACCOUNT"})


@pytest.mark.parametrize(("text", "value"), [
    # A freelancer's office is the freelancer's: its address is theirs, not an organisation's.
    ("フリーランスのイラストレーターさんへの支払通知書です。宛先は小鳥デザイン事務所"
     "（神奈川県藤沢市鵠沼海岸3-5-16-104）です。", "神奈川県藤沢市鵠沼海岸3-5-16-104"),
    ("Invoice for our freelance translator.\nBill to: Wren Studio, 48 Alder Way, Leeds LS6 2AB",
     "48 Alder Way, Leeds LS6 2AB"),
])
def test_a_freelancer_s_business_address_stays_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


@pytest.mark.parametrize("text", [
    # A schedule's day and time, and a range of times with an en dash.
    "VESSEL: MSC ANNA\n  TOKYO   ETA 06/18 0600  ETD 06/18 2200",
    "Rain stoppage 13 June 0200–0745 (excluded per CP clause 6)",
    # A licence pattern's paper size, version and a model number.
    "Print it on A4, per RETURNS POLICY v3.2, and list the wand as model NN8411.",
    # A column's word after padding is no name part.
    "PORT         ETA\nSHIMIZU         ETA 06/19",
    # A form heading with its remark, a city hall's address, a postal code before a masked one.
    "【記入例】※実在の人物ではありません\n氏名:教習 太郎\n生年月日:平成18年4月1日",
    "申込先:緑ヶ丘市役所 保育課\n住所:緑ヶ丘市本町一丁目1番1号 市役所本庁舎3階",
    "会場：市立みなと美術館\n〒231-0000 神奈川県横浜市中区○○町1-1",
    # Characters beside a voice actor or a mascot; a performer's concert, an artist's work.
    "高海千歌ちゃん・渡辺曜ちゃんの等身大パネル展示です。声優さんは出演しません。",
    "Write a visitor FAQ for the Ed Sheeran concert we're hosting.",
    "Free guided tours meet at the Henry Moore sculpture in the foyer.",
    # A maker's model after an article, a painting's making, a day's range of times read
    # forwards and in the reversed view.
    "The tagline must fit the side of a Toyota Yaris Cross dual-control car.",
    "Painted after her divorce from Diego Rivera, this self-portrait draws on folk art.",
    "Laytime log:\nShifting berth 14 June 1000-1330 (for charterers' account)",
])
def test_p27_shapes_of_public_and_placeholder_data_are_not_personal(
    detector: Detector, text: str,
) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("Call me on 0161 496 0732 after 1400–1600 today.", "0161 496 0732"),
    ("Driver's licence D1234567, expires 2027.", "D1234567"),
    ("Driver's license no. A482, Delaware.", "A482"),
    ("SMITH       JOHN      1987-02-11", "SMITH       JOHN"),
    ("【受付票】※実在の人物です\n氏名:石動 栞", "石動 栞"),
    ("住所:緑ヶ丘市本町一丁目1番1号 コーポ藤原203", "緑ヶ丘市本町一丁目1番1号"),
    ("〒231-0012 神奈川県横浜市中区相生町3-61", "231-0012"),
    ("Ed Okafor's concert tickets were refunded; email him at ed.okafor@gmail.com.",
     "ed.okafor@gmail.com"),
    ("My client Rowan Whitlock painted the fence and wants a quote.", "Rowan Whitlock"),
    ("We've got a Daniel Okafor on hold asking why his refund is late.", "Daniel Okafor"),
])
def test_p27_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | {"US_DRIVER_LICENSE"})


# p28: lists of the famous, epithets, parts of a famous name, venues and sites, ships, labelled
# things, place particles, animals, company officers, and made-up exchanges.
@pytest.mark.parametrize("text", [
    # A chronology one athlete an item: the list is the cast.
    "以下の出来事を年代順に並べてください。\n・三浦雄一郎が80歳でエベレスト登頂（2013年）\n"
    "・船木和喜がラージヒル個人金メダル（1998年）\n・荻原健司がW杯個人総合3連覇（1995年）",
    "Show notes:\n02:10 Serena Williams' 23 Grand Slam titles\n19:45 Malcolm Gladwell's "
    "10,000-hour idea\n37:30 Shohei Ohtani's two-way seasons",
    # An epithet the public gave; a style named after someone.
    "・坂口謹一郎（「酒の博士」と呼ばれた発酵学者）の業績を一行で。",
    'Open with James Harrison, the Australian "Man with the Golden Arm", who donated plasma.',
    "ジョン・レノン風の丸メガネとして定番のモデルを紹介して。",
    # A part of a famous name the text writes in full.
    "部屋名：漱石（夏目漱石）、賢治（宮沢賢治）、鴎外（森鴎外）",
    # A venue's and a site's address; a polling station's building.
    "・会場：献血ルーム有楽町（東京交通会館 東京都千代田区有楽町2-10-1）",
    "期日前投票所（大宮ソニックシティ、さいたま市大宮区桜木町1-7-5）を紹介してください。",
    "フロア案内には会社代表番号と拠点住所（東京都中央区日本橋室町2-3-1）を載せます。",
    # Ships, labelled things, a product that says it is none, a named place's kind.
    'Vessel: MV "Anna Sophia" (Hull No. 8127) — sister ship MV "Clara Jensen"',
    "船名：「ひかり丸」（HIKARI MARU）の書類一覧を作って。",
    "精米歩合50%　使用米：山田錦（兵庫県産）　720ml",
    '3. "Sakura Mizuki" Sparkling Sake — a product name, not a person; SKU SM-300-SP',
    '4. "Nada Gogō" Kimoto Junmai — after the Nada Gogō brewing district in Kobe',
    "We're opening our second San Francisco location next to the Ferry Building.",
    # Animals named after their kind, and a panda's birthday.
    "ジャイアントパンダのシャンシャンは2017年6月12日生まれ、ゾウのジョンの話も。",
    # A firm's top officer as its own publications name them; its main phone.
    "Akio Toyoda, Chairman of the Board of Toyota Motor Corporation, said the future is bright.",
    "Sony Group Corporation\nMain phone: +81-3-6748-2111\nChairman and CEO (as of 2024): "
    "Kenichiro Yoshida",
    "トヨタ自動車株式会社 代表取締役会長の豊田章男は述べました。",
    # A count in ten-thousands; a family firm's trade.
    "取扱説明書（日→英、約4万字）を3名の翻訳者で分担します。",
    "・金子眼鏡 KV-128 セルロイド ブラウンササ",
    # A North American number with no possible exchange, in a sample record.
    "SAMPLE PATIENT — FOR TRAINING ONLY\nName: John Doe\nPhone: (555) 010-0100",
])
def test_p28_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    # A department's player and his pay are an employee's, whatever game the department plays.
    ("来季、格闘ゲーム部門の北川 隼人の年俸を下げる提案をしたい。本人が申告した腱鞘炎も理由です。",
     "北川"),
    # An international number after a word of calling is one, valid in the metadata or not.
    ("Write a voicemail script for a donor. I'll be calling +44 7700 914382.",
     "+44 7700 914382"),
    # A list of private people; an epithet among colleagues; a part of a customer's name.
    ("・田中 美咲（経理部）\n・佐藤 健太（総務部）", "田中 美咲"),
    ('Email Jane Whitlock, our "Queen of Spreadsheets", the Q3 numbers.', "Jane Whitlock"),
    ("作家の夏目漱石の話のあと、夏目様（会員番号 4411）に連絡してください。", "夏目"),
    # A private address with a person in the brackets; a home's address under 会場.
    ("会場：山田 太郎様宅（東京都杉並区阿佐谷南3-2-1）", "東京都杉並区阿佐谷南3-2-1"),
    # A person after an animal's owner word, a CEO contacted about a case.
    ("犬のポチの飼い主は佐藤 美咲さんです。", "佐藤 美咲"),
    ("Please email Rowan Whitlock, CEO of Brightline Analytics, about the refund claim.",
     "Rowan Whitlock"),
    # A real exchange in a sample record is still a number.
    ("SAMPLE PATIENT\nName: Rowan Whitlock\nPhone: (415) 210-0100", "(415) 210-0100"),
])
def test_p28_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


# p29: an organisation's contacts beside famous people, every contact in an owner's brackets,
# venues, desks and units, composers and soloists, devices, lines and departures.
@pytest.mark.parametrize("text", [
    # A switchboard in a letter's footer is no personal data beside a cast of the famous.
    "Open with alumni who changed the world — Sonia Sotomayor, Michelle Obama, Jeff Bezos "
    "and Alan Turing (PhD 1938).\nFooter: Princeton University, main switchboard (609) 258-3000.",
    # The owner's brackets hold its postal code, address and number; a unit is an owner.
    "問い合わせ先：京都大学 総務部広報課（〒606-8501 京都市左京区吉田本町、電話 075-753-2071）",
    # A cinema's address in brackets; a hall's, under its heading, after the postal code.
    "TOHOシネマズ 新宿（東京都新宿区歌舞伎町1-19-1 新宿東宝ビル3階）で特集上映をします。",
    "サントリーホール 大ホール\n〒107-8403 東京都港区赤坂1-13-1",
    # A firm's desk by its katakana name; a depot after a place.
    "お問い合わせはJR東海テレフォンセンター 050-3772-3910（6:00〜24:00）まで。",
    "・回送 9820M は、茅ヶ崎派出所への入区時刻を23:12に変更",
    # A venue after "at", then its address (a street named after someone is the address's).
    "Screenings at BFI IMAX, 1 Charlie Chaplin Walk, London SE1 8XR, from Friday 12 July.",
    # A soloist; composers before their works; a device by its model; a line; a departure.
    "Our season opener is conducted by Esa-Pekka Salonen with soloist Hilary Hahn.",
    "Saturday 12 October, 7:30 pm – Elgar: Enigma Variations",
    "曲目：ブラームス 交響曲第1番 ハ短調 作品68 ほか",
    "Notice: Halden Medical – Aurora HD-7 hemodialysis machines, serial range 2201-2240.",
    "Elizabeth line trains will not call at Bond Street on Sunday.",
    "The special will depart York at 08:40 on 14 December.",
])
def test_p29_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    # A private number beside the same cast still keeps the cast people.
    ("Open with Sonia Sotomayor and Jeff Bezos. My mobile is (415) 210-3344.",
     "(415) 210-3344"),
    # A person and a mobile inside the owner's brackets are the person's.
    ("京都大学 総務部広報課（担当 田中 美咲、携帯 090-1234-5678）", "090-1234-5678"),
    # A person after "at" is no venue; a home's address under its resident's name stays.
    ("The party is at Rowan Whitlock, 12 Elm Street, Springfield.", "Rowan Whitlock"),
    ("佐藤 美咲\n〒107-0052 東京都港区赤坂2-3-4", "東京都港区赤坂2-3-4"),
    # A record's code, a vitamin, a train conductor, a line manager, mail via someone.
    ("Patient Rowan Whitlock MRN-4411 was admitted overnight.", "Rowan Whitlock"),
    ("Rowan Whitlock B12 deficiency, follow up in May.", "Rowan Whitlock"),
    ("The conductor Rowan Whitlock was injured on the 08:40 service.", "Rowan Whitlock"),
    ("Rowan Whitlock line manages the night shift.", "Rowan Whitlock"),
    ("The forms were sent via Rowan Whitlock in payroll.", "Rowan Whitlock"),
    # "Suite" after a name is an address's, not a work's.
    ("Rowan Whitlock: Suite 400, 12 Elm Street, Springfield", "Rowan Whitlock"),
])
def test_p29_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


# p30: a station building's address; a company's contact page, its desks' mailboxes.
@pytest.mark.parametrize("text", [
    "東京駅丸の内駅舎（東京都千代田区丸の内1-9-1）周辺の商業地の地価動向を説明して。",
    "Head office: 1 Riverside Way, Manchester M3 4LQ\nGeneral enquiries: 0161 496 0000\n"
    "Press office: press@example-waste.co.uk\nInvestor relations: ir@example-waste.co.uk",
])
def test_p30_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("Investor relations: jane.whitlock@example-waste.co.uk", "jane.whitlock@example-waste.co.uk"),
    ("General enquiries: Rowan Whitlock, mobile 07911 123456", "07911 123456"),
    ("Write to ir@whitlock-family.net about the loan.", "ir@whitlock-family.net"),
])
def test_p30_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


# p30-b: parks and their characters, a regional arm's address, a particle in a famous name,
# brands named after their founders before their goods.
@pytest.mark.parametrize("text", [
    "Character meet-and-greets with Mickey Mouse, Goofy and Elsa are staged near the castle.",
    "Crowd plans for Magic Kingdom (1180 Seven Seas Dr, Lake Buena Vista, FL 32836) at night.",
    "Universal Studios Japan (2-1-33 Sakurajima, Konohana-ku, Osaka) opens at 9:00.",
    "Summarise the debates around Vincent van Gogh, Virginia Woolf, Robert Schumann and "
    "Ernest Hemingway.",
    "1. Tommy Hilfiger men's jacket, size L, $40\n6. Dr. Martens 1460 boots, UK size 8, $60",
])
def test_p30b_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("Please write a character reference for Rowan Whitlock, our night porter.",
     "Rowan Whitlock"),
    ("Rowan Whitlock (2-1-33 Sakurajima, Konohana-ku, Osaka) missed the payment.",
     "Rowan Whitlock"),
    ("Patient Vincent van Dijk, 44, reports panic attacks since May.", "Vincent van Dijk"),
    ("Rowan Whitlock's jacket was taken from the staff locker room.", "Rowan Whitlock"),
    ("Rowan Whitlock bought boots on the card ending 4417.", "Rowan Whitlock"),
])
def test_p30b_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


# p31: names a later sentence says are made up, machines and complexes, a ZIP of zeros after
# an address, quoted varieties under their label, peers and royals, a street crossing.
@pytest.mark.parametrize("text", [
    "・「ジョージ」— IPA\n・「ミスター・コバヤシ」— スタウト\n"
    "名前はすべて当店スタッフが考えた架空のキャラクター名です。",
    "・巻上機ブレーキ パッド摩耗 残り2.1mm",
    "東京ミッドタウン八重洲（東京都中央区八重洲2-2-1）の向かい側のビル3階です。",
    "name: John Doe\naddress: 123 Main Street, Anytown, USA 00000",
    "新商品の品種「さやまかおり」「おくみどり」の違いを説明して。",
    "About page: Catherine of Braganza, and Anna Russell, 7th Duchess of Bedford.",
    "WO-2025-11482 – main break, Oak St & 5th Ave – closed 06/12",
    "- Victoria Zone: next to Victoria Station\n- Elizabeth Zone: near Elizabeth line entrance",
])
def test_p31_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    # A declaration about names covers the names before it, not a real one named between.
    ("佐藤 美咲様は実在のお客様です。ほかの名前はすべて架空です。", "佐藤 美咲"),
    ("Ship to 123 Main Street, Springfield, IL 62704 for Rowan Whitlock.", "Rowan Whitlock"),
    ("Rowan Whitlock of Accounts asked about Oak St parking.", "Rowan Whitlock"),
])
def test_p31_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text)


# The types the default policy keeps local from a score of 0.4 (contact details), and an SSN.
CONTACTS_AND_IDS = {"PHONE_NUMBER", "JP_PHONE_NUMBER", "EMAIL_ADDRESS", "JP_ADDRESS",
                    "STREET_ADDRESS", "JP_POSTAL_CODE", "US_SSN"}


# p32 and p33: numbers in groups no numbering plan writes, romanised festivals, shrines and
# wards, frames of the past and of authorship, role words that modify a noun, a work's
# character after its title, siblings and particles in famous names, documentation domains,
# a pasted sample under its request, owners' addresses and phone lines, things named "The …".
@pytest.mark.parametrize("text", [
    "ディスクローター 43512-47060 と 凍結ストックには 2024-0615-03 のような番号を振っています。",
    "One cartridge label says EPA Reg. No. 62719-608; where do I look it up?",
    "The Sanja Matsuri and the Kanda Matsuri both start from Kanda Myojin.",
    "Meet at Fushimi Inari Taisha (68 Fukakusa Yabunouchicho, Fushimi Ward) at nine.",
    "The procession passes through Kanda, Nihonbashi and Akihabara.",
    "当社の御祭神は平将門公で、940年に討たれたと伝わります。神様としての信仰を説明して。",
    "安全講話で、ジェームズ・リーズンが提唱したスイスチーズモデルと、二宮忠八の話を紹介して。",
    "For the counter staff training deck, write how Coco Chanel and Elsa Schiaparelli built "
    "their houses in the 20th century.",
    "研修の題材は映画『踊る大捜査線』です。青島俊作のような現場の刑事の動き方を整理して。",
    "We need a fictional person for the exercise. Write a eulogy for Jay Gatsby, read by Nick.",
    "Cover the Wright brothers (Orville and Wilbur), Henry Ford and Karl Benz, one fact each.",
    "Write about Aristides de Sousa Mendes in Bordeaux and Raoul Wallenberg in Budapest.",
    "Suggest a few well-known moments involving Captain Phil Harris on the crab deck.",
    "We named the meeting rooms after scientists: Marie Curie Room and Alan Turing Room.",
    "お問い合わせ：event@example.co.jp（受付は平日10時〜17時）",
    "Generate five more rows of obviously fake fixtures in the same shape as this one.\n\n"
    '{"name": "Jane Doe", "email": "jdoe@example.org", "phone": "+1-202-555-0118", '
    '"dob": "1980-01-01"}',
    "Use only these test fixtures:\n- Name: John Q. Public\n- Phone: 555-0100",
    "Use the sample record (not a real customer):\nAddress: 500 Elm Street, Anytown, USA",
    "参照：AMM 32-11-11-000-801、SB 737-32-1462",
    "- Embassy address: 1-10-5 Akasaka, Minato-ku, Tokyo 107-8420",
    "Riverside Clinic, 40 Mill Road, Suite 2 (ground floor)\nPhone (617) 555-0133",
    "Floor plans: The Lincoln (2BR), The Monroe (penthouse, 2,400 sq ft).",
])
def test_p32_p33_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Phone: 202-406-1503 (Rowan, evenings)", "202-406-1503"),
    ("Deliver to Joanne Ward, 12 Elm St, Springfield.", "Joanne Ward"),
    ("『鬼滅の刃』のグッズを注文した佐藤健太様に発送の連絡をしてください。", "佐藤健太"),
    ("This is a fictional case study. Then email Tom Baker about his refund.", "Tom Baker"),
    ("Our staff member Rowan Whitlock wrote a history of the 20th century.", "Rowan Whitlock"),
    ("Reply to maria.gonzalez@mail.example.net about her refund.",
     "maria.gonzalez@mail.example.net"),
    ("Generate five rows of fake fixtures like this one.\n\n"
     '{"email": "rowan.whitlock@gmail.com", "phone": "+1 617 555 2231"}',
     "rowan.whitlock@gmail.com"),
    ("Home address: 1-10-5 Akasaka, Minato-ku, Tokyo 107-8420",
     "1-10-5 Akasaka, Minato-ku, Tokyo 107-8420"),
    ("Riverside Clinic, attn. Kenji Sato\nPhone (617) 555-2231", "(617) 555-2231"),
    ("Ship to Kenji Sato, 40 Mill Road, Suite 2 (back door)\nPhone (617) 555-2231",
     "(617) 555-2231"),
    ("The Okonkwo family asked about the lease.", "Okonkwo"),
    ("SSN 737-32-1462 on the W-2 form.", "737-32-1462"),
])
def test_p32_p33_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p34: a maker's label before its names, a maker's code, questions what someone was, a
# possessive before a year of the past, institutions of the past, identifiers "in the format"
# of a phone, a play for radio.
@pytest.mark.parametrize("text", [
    "保湿剤のメーカーはキュレルとラ ロッシュ ポゼです。ロットの読み方を教えて。",
    "牛乳パックには「製造所固有記号 0906-2411-15」と印字されています。",
    "所得税の歴史のコラムです。カール・シャウプがどんな人物だったかも一言添えてください。",
    "Explain the skin type scale and who Thomas B. Fitzpatrick was, for a leaflet.",
    "Open with Charles F. Brush's 1888 turbine and Poul la Cour's experiments in Askov.",
    "飼い主だった東京帝国大学の上野英三郎博士とのエピソードを話したいです。",
    "Column D has order reference numbers in the format 03-5412-7788, our legacy PO format.",
    "Write a 4-minute radio scene where Sherlock Holmes and Dr. Watson receive a telegram.",
])
def test_p34_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("担当者は佐藤健太と鈴木美咲です。メーカーに確認してもらいます。", "佐藤健太"),
    ("被保険者証の記号 0906-2411 番号 15 の方の電話は 03-5412-7788 です。", "03-5412-7788"),
    ("Who is Rowan Whitlock? He called about his refund yesterday.", "Rowan Whitlock"),
    ("Rowan Whitlock's 1988 Volvo was towed from the staff car park.", "Rowan Whitlock"),
    ("Call the customer back on 03-5412-7788, in the format we log it.", "03-5412-7788"),
    ("For the radio scene, ask our presenter Rowan Whitlock to call me.", "Rowan Whitlock"),
])
def test_p34_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


def test_a_relative_clause_about_the_past_frames_nobody(detector: Detector) -> None:
    text = ("Write a friendly recall letter for Mr. Douglas Pryor, who was fitted with a "
            "cochlear implant last March.")
    assert "Douglas Pryor" in found(detector, text)


# p35: rules and recommendations named after someone, an everyday noun that is also a family
# name, events of history by their year, facilities by their katakana loanwords, trivia, the
# Olympics, detective fiction, months of history, brands "like" a name, pre-modern Japanese
# names romanised with "no".
@pytest.mark.parametrize("text", [
    "ヨーク・アントワープ規則の2016年版のポイントを新人向けに説明してください。",
    "この統計の見方（1世帯当たり）と、SDSの見方も知りたいです。",
    "出光佐三と1953年の日章丸事件について、保険の観点から話せるネタをまとめて。",
    "最後はカップヌードルミュージアム 横浜（横浜市中区新港2-3-4）への案内につなげたいです。",
    "Any fun fact about Momofuku Ando we could print on the menu?",
    "Add a motivational line about Michael Phelps's 23 Olympic gold medals.",
    "「名探偵フェア」のPOPです。シャーロック・ホームズと工藤新一を並べた文章にしたいです。",
    "For Black History Month, write a 60-word tribute to Rosa Parks and her 1955 arrest.",
    "Compare that with Western brands like Mrs. Fields, and mention Sen no Rikyū's influence.",
    "Nobel laureate Jennifer Doudna will deliver our annual Marie Curie Lecture on March 6.",
])
def test_p35_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("営業部の見方も明日の打ち合わせに来ます。", "見方"),
    ("担当の見方も来ます。", "見方"),
    ("2019年の事故で負傷した田中一郎様の保険金請求です。", "田中一郎"),
    ("ギャラリー担当の佐藤健太（090-1234-5678）に連絡して。", "090-1234-5678"),
    ("Any fun fact about our new hire Rowan Whitlock for the welcome email?", "Rowan Whitlock"),
    ("For Black History Month, email Rowan Whitlock the placard draft.", "Rowan Whitlock"),
])
def test_p35_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p36: a thing's number by its noun, an officer after the firm's name and title, a capital
# inside a product's word, an acronym owning an address, frames of achievement, fame, a story's
# premise, credit and discoverers' laws, a year before 1920 in brackets, a plural of the word.
@pytest.mark.parametrize("text", [
    "記載例として、計器番号 PG-0468-221、校正証明書番号 0468-221-9377 を使ってください。",
    "Also summarise what happened to Union Carbide CEO Warren Anderson legally.",
    "Serial numbers (Allergan Natrelle, Mentor MemoryGel, Motiva) look like long ID numbers.",
    "JAXA（東京都調布市深大寺東町7-44-1）の広報部宛てに見学の依頼状を作ってください。",
    "農林1号を育成した並河成資と石墨慶一郎の功績を中心に書いてください。",
    "明智小五郎、金田一耕助、シャーロック・ホームズ（ベーカー街221B在住という設定）を比べて。",
    "「高須克弥院長のような有名院と比べて」という表現は広告規制に触れますか。",
    "Arthur C. Clarke is often credited with the idea of geostationary satellites.",
    "Show the calculation using Kepler's third law, and mention Herman Potočnik's earlier work.",
    "Link the Wright brothers' first flight at Kitty Hawk (17 December 1903) to today.",
    "Compare Lafcadio Hearn and his 'Kwaidan' with Haruki Murakami's 'Norwegian Wood'.",
    "Columns: Part No., Description, Qty, Bin location. Suggest names for our warehouse bins.",
    "I'm writing a blog post on the history of plastic surgery for our clinic website.",
])
def test_p36_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS | {"MEDICAL_RECORD"})


@pytest.mark.parametrize(("text", "value"), [
    ("会員番号 0468-221-9377 の方から電話がありました。", "0468-221-9377"),
    ("携帯番号 090-1234-5678 に折り返してください。", "090-1234-5678"),
    ("Our CEO Rowan Whitlock was admitted to hospital on Monday.", "Rowan Whitlock"),
    ("Deliver to Tom McDonald, 12 Elm St, Springfield.", "Tom McDonald"),
    # A bracketed year frames the past only before 1920 (nobody born then is a customer now).
    ("Rowan Whitlock (12 March 1950) died at home; probate for the estate is pending.",
     "Rowan Whitlock"),
    ("Rowan Whitlock had surgery on his knee last week.", "surgery on"),
])
def test_p36_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS | {"MEDICAL_RECORD"})


def test_a_phone_label_in_capitals_owns_nothing(detector: Detector) -> None:
    text = "北浜工業株式会社 購買部\nTEL: 06-6203-4417"
    assert "06-6203-4417" in found(detector, text)


# p37: shoguns and lords, a temple read without its suffix, vignettes and documentaries, a
# place by its front, an owner and a colon before its address, "the <name> <Thing>".
@pytest.mark.parametrize("text", [
    "増上寺が徳川将軍家の菩提寺であることを英語のモデルコースに入れてください。",
    "Start at Kinkaku-ji, then Ryoan-ji and Ninna-ji, with bus numbers from Kyoto Station.",
    "Write a 150-word vignette where Sherlock Holmes examines a clue and Dr Watson remarks.",
    "集合場所は青山霊園の管理所前（東京都港区南青山2-32-2）です。",
    'Reference Jiro Ono and the documentary "Jiro Dreams of Sushi" (2011, dir. David Gelb).',
    "A visitor-info box for Arlington National Cemetery: 1 Memorial Ave, Arlington, VA 22211.",
    "Mention the changing of the guard and the John F. Kennedy Eternal Flame.",
])
def test_p37_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Deliver the parcel to the John Smith I met at the depot.", "John Smith"),
    ("Customer: 1 Memorial Ave, Arlington, VA 22211 for Rowan Whitlock.",
     "1 Memorial Ave, Arlington, VA 22211"),
    ("自宅前（東京都港区南青山2-32-2）で待ち合わせです。", "東京都港区南青山2-32-2"),
    ("作業者：髙橋 大輔\n作業内容：帯鋸の刃交換", "髙橋 大輔"),
])
def test_p37_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert any(value in v for v in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS))


# A family name in a variant kanji no dictionary holds (髙 for 高, 德 for 徳, 𠮷 for 吉): the
# honorific or the given name after it says person.
@pytest.mark.parametrize(("text", "value"), [
    ("髙橋様からお電話がありました。", "髙橋"),
    ("被災者の髙橋 大輔さんは左手を負傷しました。", "髙橋 大輔"),
    ("髙橋部長に確認してください。", "髙橋"),
    ("𠮷田さんに連絡してください。", "𠮷田"),
])
def test_a_variant_kanji_family_name_is_a_name(detector: Detector, text: str, value: str) -> None:
    assert value in found(detector, text)


def test_an_unknown_kanji_word_alone_is_no_name(detector: Detector) -> None:
    assert not personal(detector, "この化合物は髙分子です。")


@pytest.mark.parametrize("text", [
    "「TEMPO 0609 4000 -SHRA」はどういう意味？",
    "Replacement rotor 43512-47060 fits the ZVW50.",
])
def test_numbers_in_groups_no_plan_writes_are_no_phones(detector: Detector, text: str) -> None:
    assert not found(detector, text, entities={"PHONE_NUMBER", "JP_PHONE_NUMBER"})


@pytest.mark.parametrize(("text", "value"), [
    ("Her mobile is 0413 882 617, call after six.", "0413 882 617"),
    ("Reach him at (617) 555-2231.", "(617) 555-2231"),
])
def test_numbers_in_a_plan_s_groups_stay_phones(detector: Detector, text: str, value: str) -> None:
    assert value in found(detector, text, entities={"PHONE_NUMBER"})


# p38: a key issued as a UUID is in test_secret_recognizers; here a heading "for illustration
# only", a staging of an author's play, a given name that is a verb's imperative.
@pytest.mark.parametrize("text", [
    "SAMPLE - FOR ILLUSTRATION ONLY\nName: John Q. Sample\nPhone: (202) 555-0147",
    "I'm writing program notes for our production of Tom Stoppard's Rosencrantz and "
    "Guildenstern Are Dead.",
    "Summarize the export trends. Mark any figures I should double-check.",
])
def test_p38_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Mark Johnson called about the invoice.", "Mark Johnson"),
    ("Please ask our stage manager Rowan Whitlock to call me.", "Rowan Whitlock"),
])
def test_p38_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p39: a placeholder name split into a CSV row's cells, a firm's "Bros", a venue's box office,
# an imperative before a pronoun, a year before 1920 in Japanese, a history panel, a character
# cited by its author's work, a patient the text calls made up.
@pytest.mark.parametrize("text", [
    "Generate 5 more rows like these obviously fake ones:\n\n"
    "id,last_name,first_name,dob\nT-1,Doe,Jane,1900-01-02\nT-2,Doe,John,1900-01-03",
    "Six study tips, but nothing that would get us in trouble with Warner Bros.",
    "Should we send ticket holders to the arena's box office (0161 950 5000) or to us?",
    "Explain why memory drove the decline. Mark anything you're unsure of.",
    "1877年にモースが大森貝塚を発見した話を、子ども向けに200字で書いて。",
    "Write a history plaque about Ernst Zermelo for the faculty corridor.",
    "I want my villain as cold as Madame Defarge in Charles Dickens's A Tale of Two Cities.",
    "Include Gobseck from Balzac's novella and Fagin, one paragraph each.",
    "架空の患者Bさん（70代男性、糖尿病で治療中）という設定で、確認問題を3つ作って。",
])
def test_p39_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS | {"MEDICAL_RECORD"})


@pytest.mark.parametrize(("text", "value"), [
    ("Generate more rows like this one:\n\nid,last_name,first_name\n7,Okafor,Jane", "Jane"),
    ("Mike Olsen from Dave's book club called me about the refund.", "Mike Olsen"),
    ("Box office manager Emma Clarke, mobile 07911 123456.", "07911 123456"),
    ("Mark, anything new on the Tanaka file?", "Mark"),
    ("1915年築の家に住む佐藤健一さんから電話がありました。", "佐藤健一"),
    ("1919年生まれの祖母、山田キヨの介護記録です。", "山田キヨ"),
    ("Write a history panel about our volunteer Anna Weber.", "Anna Weber"),
    ("Unlike the fictional case, my mother was diagnosed with diabetes.", "was diagnosed"),
])
def test_p39_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS | {"MEDICAL_RECORD"})


# p40: an address under a line labelling an organisation's name, a placeholder name's reading,
# a number marked for testing, a licence in hyphenated groups, a vessel by its IMO number, an
# observatory's address, a figure another message of the conversation names.
@pytest.mark.parametrize("text", [
    "見学先：\n施設名：県立こども科学館\n住所：〒100-0001 東京都千代田区千代田1-1\n"
    "代表電話：03-3213-1111",
    "※ダミー\n氏名,フリガナ,電話\n見本 花子,ミホン ハナコ,090-0000-0000",
    "お問い合わせ：info@example.com / 03-5550-0123（※テスト用）",
    "Preview data (it's fake):\nLicense/Permit No.: D000-0000-0000 (dummy)",
    "For Emma Maersk, IMO 9321483, would the number stay after reflagging?",
    "A permission slip for Griffith Observatory (2800 E Observatory Rd, Los Angeles, CA 90027).",
])
def test_p40_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS | {"US_DRIVER_LICENSE"})


@pytest.mark.parametrize(("text", "value"), [
    ("入居者の記録です。\n施設名：グループホームさくら\n氏名：山田 一郎\n"
     "住所：〒181-8588 東京都三鷹市大沢2-21-1",
     "東京都三鷹市大沢2-21-1"),
    ("氏名,フリガナ,電話\n見本 花子,ミホン ハナコ,090-0000-0000\n"
     "佐藤 花子,サトウ ハナコ,090-2234-5678",
     "サトウ ハナコ"),
    ("テスト用に私の携帯 090-3123-4567 を使ってください。", "090-3123-4567"),
    ("Driver's licence no.: S530-460-56-789-0", "S530-460-56-789-0"),
    ("Emma Maersk (IT) called about the invoice.", "Emma Maersk"),
])
def test_p40_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS
                          | {"US_DRIVER_LICENSE"})


def _conversation(detector: Detector, *texts: str) -> set[tuple[str, str]]:
    segments = [Segment(f"messages[{i}].content", t) for i, t in enumerate(texts)]
    return {(f.entity_type, segments[int(f.path[9])].text[f.start:f.end])
            for f in detector.analyze(segments) if f.score >= 0.6}


def test_a_figure_another_message_writes_as_one_is_that_figure(detector: Detector) -> None:
    found_in = _conversation(
        detector, "Can you tell me a bit about Johnny Appleseed?",
        "Johnny Appleseed was the nickname of John Chapman (1774–1845), an American nurseryman.")
    assert ("PERSON", "Johnny Appleseed") not in found_in
    assert ("PUBLIC_FIGURE", "Johnny Appleseed") in found_in
    # The same name as a customer, in a sentence that says so, stays the customer's.
    found_in = _conversation(
        detector, "Our customer Johnny Appleseed called about his order.",
        "Johnny Appleseed was the nickname of John Chapman (1774–1845), an American nurseryman.")
    assert ("PERSON", "Johnny Appleseed") in found_in


# p40-b: a make quoted after an article, a persona after a role word, an author before the word
# for their book and its title.
@pytest.mark.parametrize("text", [
    "What's the difference between a \"Vincent Bach\" and a \"Bach Stradivarius\" stamp?",
    "Create a clearly fictional customer persona, something like \"Hana, 34, designer\".",
    "梅原大吾さんの著書『勝ち続ける意志力』を要約して、うちのチームの若手向けに教訓を3つ。",
])
def test_p40b_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("We've got a \"Daniel Okafor\" on hold asking why his card was declined.", "Daniel Okafor"),
    ("Our customer Hana Sato, 34, asked for a refund.", "Hana Sato"),
    ("田中一郎さんの報告書によると、うちのチームの若手選手は疲れています。", "田中一郎"),
])
def test_p40b_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL)


# A paragraph that asks for what is publicly known of its people: the frame may follow them.
def test_a_public_frame_after_its_people_clears_them(detector: Detector) -> None:
    assert not personal(detector, "Write a short piece on Faker (Lee Sang-hyeok) and his titles "
                                  "with T1. Stick to publicly known facts.")
    # Not beside other personal data, nor in a sentence about a client.
    assert ("PERSON", "Jane Porter") in personal(
        detector, "Write a bio of Jane Porter, phone 0413 882 617. Use public records only.")
    assert ("PERSON", "Jane Porter") in personal(
        detector, "Summarise our client Jane Porter's case. Use public records only.")


# p41: a customer by their shop's word (常連), a game's count is no video game, an artist's
# style, a first of history, dummy data said to be made already, a name of masks, a story's
# people, legends, a work out of copyright, seed data, an artist's work, a plaque's text.
@pytest.mark.parametrize("text", [
    "エミール・ガレとルネ・ラリックの作風の違いを、解説パネル用に300字で説明してください。",
    "中山律子さんが女子プロ初のパーフェクトを達成した話を、展示用にまとめてください。",
    "テスト用にダミーデータを作ったので、これで動く関数を教えてください。\n\n"
    "会員ID | 氏名 | 電話\nM0003 | 佐藤 一郎 | 090-0000-0002",
    "自動返信メールの文面を作って。\n\nご担当者：〇〇 〇〇 様\n予約番号：RSV-0000-0000",
    "In the story, John Blackthorne and Toranaga spend many scenes in tatami rooms.",
    "We're naming our lanes after bowling legends. Write plaque text for Earl Anthony and "
    "Pete Weber.",
    "Write label copy that nods to Dr. Watson. Conan Doyle's works are public domain, right?",
    "Is the Dale Chihuly work there worth prioritizing on our museum trip?",
    "Seed data for our CRM's test environment:\n{\"phone\": \"(312) 555-0142\"}",
])
def test_p41_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("昨日のリーグで、常連の古川 和夫さんが3ゲーム目の途中で倒れました。", "古川 和夫"),
    ("実在の顧客データからダミーを作って：\n氏名：佐藤 一郎", "佐藤 一郎"),
    ("In the story our customer told us, John Blackthorne was overcharged twice.",
     "John Blackthorne"),
    ("Please text Tom Baker the new code; he is one of our bowling legends.", "Tom Baker"),
    ("Seed data from production:\n{\"phone\": \"(312) 555-0142\", \"name\": \"Ann Lee\"}",
     "Ann Lee"),
    ("The Dale Chihuly work order is late; his phone is 0413 882 617.", "Dale Chihuly"),
])
def test_p41_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL)


# p42: an academic society's desk in quotes, a shared-cost 0570 number, an owner before its
# postal mark, a maker's quoted product or catalogue number, a picture book, an example
# record's number beside its placeholders, a song's lyrics, public stats, a deck, beers.
@pytest.mark.parametrize("text", [
    "宛先は「公益社団法人日本化学会 年会係」（東京都千代田区神田駿河台1-5）でお願いします。",
    "Lost and Found Center, Bunkyo-ku, Tokyo. Phone: 0570-550-142. Open weekdays.",
    "掲示文を翻訳して：「成田国際空港 〒282-0004 千葉県成田市古込1-1」",
    "Captions for our lineup: Essie 'Wicked' and Deborah Lippmann 'Fade to Black'.",
    "We have an expired bottle from Sigma-Aldrich product 452882. How do I dispose of it?",
    "I'm writing a children's picture book where Sherlock Holmes visits a lost-property office.",
    "Include an example row labeled SAMPLE, e.g. Name: Jane Doe, Email: jane.doe@example.edu, "
    "Emergency contact: (555) 555-0199.",
    "やなせたかしさんの「なんのために生まれて」という歌詞も紹介したいです。",
    "Using public stats: Spotify's deal with Joe Rogan was widely reported at $100 million.",
    "Test record:\nName: John Doe (TEST)\nParty: 6, Sat 7:30pm, Sky Deck",
    "How many pours from a keg of Sierra Nevada Pale Ale? And Samuel Adams Summer Ale?",
])
def test_p42_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Name: Jane Doe, Email: jane.doe@example.edu, Emergency contact: (312) 448-2907.",
     "(312) 448-2907"),
    ("Our client Deborah Lippmann called about her order.", "Deborah"),
    ("Joe Rogan (our tenant in 4B) called about the leak; his mobile is 0413 882 617.",
     "Joe Rogan"),
    ("お客様の佐藤 一郎様 〒282-0004 千葉県成田市古込1-1", "千葉県成田市古込1-1"),
    # A test card's number beside placeholders is still a card outside a text about testing.
    ("Customer Jane Doe (jane.doe@example.com) paid with card 4111 1111 1111 1111.",
     "4111 1111 1111 1111"),
])
def test_p42_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


def test_a_group_s_ages_and_a_statistic_are_no_one_s_health(detector: Detector) -> None:
    text = "入院中の子どもたち（3〜8歳）向けに工作イベントを企画しています。"
    assert "MEDICAL_RECORD" not in types(detector, text)
    assert "MEDICAL_RECORD" in types(detector, "入院中の長男（8歳）のために工作を考えています。")


@pytest.mark.parametrize("name", ["Jane Porter", "Rex Stout"])
def test_family_names_that_are_beer_styles_stay_names(detector: Detector, name: str) -> None:
    assert ("PERSON", name) in personal(detector, f"{name} called about the invoice.")


# p43: public honours and records, an essayist's essay, a scheme's code by its acronym and the
# list after it, a maker's vehicles.
@pytest.mark.parametrize("text", [
    "蒔絵の人間国宝として知られる松田権六について400字の紹介文を書いてください。",
    "池波正太郎がエッセイで書いていた「蕎麦屋で酒を飲む」流儀を参考に紹介文を考えて。",
    "カタログのTAISコード 00170-000123 と 01392-000045 は何を表していますか？",
    "We're replacing two old buses with Hino Poncho minibuses. What are the differences?",
    "What was Eliud Kipchoge's official marathon world record time?",
])
def test_p43_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("TAISコード 00170-000123 の件で、担当の佐藤さん（090-3123-4567）に電話して。",
     "090-3123-4567"),
    ("Our driver Hino Sato left his van at the depot.", "Hino Sato"),
    ("社員の山田 太郎さんのエッセイを社内報に載せます。", "山田 太郎"),
])
def test_p43_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p44: a landmark's address after its shrine's name, a history's person, a cast of designers
# known by romaji names, a story's relatives, the end of a lot range, a spa's romaji address.
@pytest.mark.parametrize("text", [
    "鶴岡八幡宮（神奈川県鎌倉市雪ノ下2-1-31）から出発して、小町通りを回るコースを作って。",
    "忠犬ハチ公の話を枕に書きたいです。上野英三郎博士との関係や、渋谷駅前の銅像の由来など史実の部分は正確に。",
    "Write a short post on how Japanese designers reinterpreted traditional garments — mention "
    "Issey Miyake's pleats, Yohji Yamamoto's silhouettes and Hanae Mori's butterfly motifs.",
    "Can you use well-known fictional examples — Anne Shirley in Anne of Green Gables, and Heidi "
    "with her grandfather — to illustrate John Bowlby's ideas?",
    "リコールの対象は製造ロット 2023-0915-0001〜2023-0915-0840 です。判断手順を作って。",
    "Directions to Dogo Onsen Honkan (5-6 Dogoyunomachi, Matsuyama, Ehime), please.",
])
def test_p44_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("入居者の張 偉さん（中国籍、38歳）は来月から夜勤に入ります。", "張 偉"),
    ("陳建国さんの在留カードの期限を確認してください。", "陳建国"),
    ("金 秀賢様から予約の変更がありました。", "金 秀賢"),
    ("鈴木家の祖父の件で、佐藤 花子さん（090-3123-4567）に連絡して。", "佐藤 花子"),
    ("A well-known story here: my grandfather Hans Gruber had his hip replaced in May.",
     "Hans Gruber"),
    ("Deliver the futon to 5-6 Dogoyunomachi, Matsuyama, Ehime 790-0842 for our guest.",
     "5-6 Dogoyunomachi, Matsuyama, Ehime 790-0842"),
    ("My Number of the applicant: 1234-5678-9018", "1234-5678-9018"),
])
def test_p44_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p45: a famous name NER missed completes a cast, a terminal's number after an airport's name,
# and a title before a family name in capitals.
@pytest.mark.parametrize("text", [
    "Write a short comparison of Hideki Matsuyama's 2021 Masters win and Tiger Woods' 1997 "
    "Masters win for our clubhouse display.",
    "Many fares go to Narita Airport Terminal 1 (1-1 Furugome, Narita, Chiba). Write signage.",
])
def test_p45_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Ms. LIN Meihua has been with us 3 years; her contract won't be renewed.", "LIN Meihua"),
    ("Mr. KIM asked for his residence card back.", "KIM"),
    # One name read by two recognizers is one person, not a cast of two notable names.
    ("Mr. NGUYEN Van Minh called about the deposit.", "NGUYEN Van Minh"),
    # A whole name NER calls a place is still the name.
    ("Write a short comparison of Keita Ishikawa's 2021 sales.", "Keita Ishikawa"),
    ("Ask Emily Hall about the Tiger Woods poster.", "Emily Hall"),
    ("Please pick up Mr. Tanaka at 1-1 Furugome, Narita, Chiba.", "1-1 Furugome, Narita, Chiba"),
])
def test_p45_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


def test_capitals_after_a_title_are_a_name_only_when_known(detector: Detector) -> None:
    assert not found(detector, "See Dr. API docs for the endpoints.", entities={"PERSON"})


# p46: works and grounds own the address after them, heads of state by their office, a
# role-play's customer role, anniversaries, an organisation's desk in brackets, hyphenated
# compounds, a quoted work after its author, a namesake foundation, report and stock numbers.
@pytest.mark.parametrize("text", [
    "日本で最初の近代的な下水処理場といわれる旧三河島汚水処分場（東京都荒川区荒川八丁目25番1号）について。",
    "日中国交正常化（田中角栄首相・周恩来首相）との関係にも少し触れてください。",
    "接客研修の台本です。お客様役はシャーロック・ホームズとワトソン博士（もちろん架空の設定です）。",
    "放送100年の特番で当時の話を紹介したいです。総裁の後藤新平が述べた放送の役割をまとめてください。",
    "例えば「03-3266-5111」（出版社の読者係の番号）みたいなものです。",
    "Give me trivia about famous ropeways – e.g. the Shin-Hotaka Ropeway's double-decker gondolas.",
    "Can you explain the Harris-Benedict equation? Who came up with it?",
    "Write a short script about how Winnie-the-Pooh got his name.",
    "Copy inspired by John Steinbeck's 'The Pearl' – no tragic vibe. Write a story that nods to "
    "Kino and Juana's discovery.",
    "Explain Johan Cruyff's ideas promoted by the Cruyff Foundation to 11-year-olds.",
    "A customer brought in a GIA pearl identification report, number 2185473920. How to verify?",
    "Our stock codes look exactly like Tokyo phone numbers, e.g. 03-5512-8890. Suggest a format.",
])
def test_p46_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("担当の佐藤 花子さん（東京都荒川区荒川八丁目25番1号）に郵送してください。", "佐藤 花子"),
    ("お客様の田中 一郎様から放送の件でお電話がありました。", "田中 一郎"),
    ("Please review Emily Hall's 'Q3 Forecast' deck before Friday. Then ask Daniel Ortiz to "
     "sign off.", "Daniel Ortiz"),
    ("Summarise Kenji Watanabe's 'Budget 2025' memo for the board.", "Kenji Watanabe"),
    ("Draft a thank-you to Emily Carter for her gift to the Carter Foundation.", "Emily Carter"),
    ("Emily Carter visited the Carter Foundation office about her pension.", "Emily Carter"),
    ("Ask Anna Smith-Jones about the invoice.", "Anna Smith-Jones"),
    ("Stock codes are fine, but call Mr. Sato on 03-5512-8890 about the delivery.",
     "03-5512-8890"),
])
def test_p46_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p47: a name in either order across a conversation, a place listed with a place before
# から, a bay named like a family, a given name holding 孫, a sample label in brackets, a block
# a declaration word introduces, quotes with their source.
def test_a_public_figure_in_the_other_order_later_in_the_conversation(
    detector: Detector,
) -> None:
    segments = [
        Segment("messages[0].content",
                "How should we attribute a quote by Prime Minister Shigeru Ishiba?"),
        Segment("messages[1].content", "Should we write Ishiba Shigeru, surname first?"),
    ]
    assert not [f for f in detector.analyze(segments) if f.entity_type == "PERSON"]


@pytest.mark.parametrize("text", [
    "シーボルト（1796–1866）が長崎・出島から持ち帰った標本について書いてください。",
    "白浜の記念館と連携して、うちの水族館で田辺湾の海藻展示をやりたいです。",
    "ジョン・ディア（John Deere）、サイラス・マコーミック、それから日本の山岡孫吉（ヤンマー創業者）"
    "について、それぞれの功績をまとめてください。",
    "Is this sample fictional enough?\n\nName (SAMPLE): KOKUZEI Taro\nMy Number: [omitted]",
    "国税庁の記入例を見ながら作っています。記入例では\n\n支払を受ける者：国税　太郎\n"
    "住所：東京都千代田区霞が関3-1-1\n\nとなっています。",
    "Suggest five short quotes from Jacques-Yves Cousteau or Sylvia Earle that are well "
    "documented (not misattributed), with the source for each.",
])
def test_p47_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("孫の佐藤 翔太が来週入院します。", "佐藤 翔太"),
    ("Name: KOKUZEI Taro\nAddress: 3-12-5 Kamiuma, Setagaya-ku, Tokyo 154-0011",
     "3-12-5 Kamiuma, Setagaya-ku, Tokyo 154-0011"),
    ("本番の申込データでは\n\n申込者：国税 太郎\n住所：東京都千代田区霞が関3-1-1\n\n"
     "となっています。",
     "東京都千代田区霞が関3-1-1"),
    ("Get two quotes from Daniel Ortiz for the roof repair and call him back.", "Daniel Ortiz"),
])
def test_p47_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p48: eponyms and a bit of history, a synopsis of a titled work, a brand's board with its
# model, a ministry's long name before its address, an everyday word after の.
@pytest.mark.parametrize("text", [
    "Explain Zernike polynomials. Also, a bit of history: how did Frits Zernike's phase "
    "contrast work relate to Abbe's earlier contributions?",
    "Write a 200-word synopsis of The Nutcracker for our students. Mention Clara, the Mouse "
    "King, and that Tchaikovsky wrote the music.",
    "Our Taito Type X3 board (serial TX3-0312-5567-88) keeps rebooting during attract mode.",
    "Send a formal inquiry to the Ministry of Agriculture, Forestry and Fisheries (1-2-1 "
    "Kasumigaseki, Chiyoda-ku, Tokyo) about subsidies.",
    "本文にはアレルギー表示の見方の説明を入れてください。",
])
def test_p48_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("A customer, later identified as LEE Ji-hoon (residence card UH48213975EA), was held.",
     "LEE Ji-hoon"),
    ("A customer, later identified as LEE Ji-hoon (residence card UH48213975EA), was held.",
     "UH48213975EA"),
    ("PARK Min-jun called about the deposit.", "PARK Min-jun"),
    ("Emily Hall asked about the Hall polynomials paper; call her back.", "Emily Hall"),
    ("営業部の森の報告を見て、田中さんに送ってください。", "田中"),
])
def test_p48_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS
                          | {"JP_RESIDENCE_CARD"})


# p49: a hall by its 館 or its romaji -kan, a pioneer, a role-play's cast, a recipe's hop.
@pytest.mark.parametrize("text", [
    "大横綱・双葉山の69連勝についてまとめて。最後に両国国技館（東京都墨田区横網1-3-28）へのアクセスも。",
    "End with how to get to Ryogoku Kokugikan (1-3-28 Yokoami, Sumida-ku, Tokyo) from the station.",
    "入校式のスピーチで、日本の航空の先駆者である二宮忠八の話を引用したいです。",
    "Create a role-play scenario using the Isono family: say Namihei and Fune are applying for "
    "public housing.",
    "Scale this recipe:\n- Pale malt 4.2 kg\n- Citra 40 g @10 min\n- Citra 60 g dry hop day 4",
])
def test_p49_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Weights at today's weigh-in:\n- Hiroshi 70 kg\n- Kenta 82 kg", "Hiroshi"),
    ("Ship the kit to Ms. Tanaka at 1-3-28 Yokoami, Sumida-ku, Tokyo tomorrow.",
     "1-3-28 Yokoami, Sumida-ku, Tokyo"),
    ("当館の受付の佐藤 花子さん（090-3123-4567）に連絡してください。", "090-3123-4567"),
])
def test_p49_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p49-a: an organisation's part right after its suffix, にちなんだ, a short history, a
# theory's stages, a container's and a bill of lading's numbers.
@pytest.mark.parametrize("text", [
    "来週、東京税関本関（東京都江東区青海2-7-11 東京港湾合同庁舎）に書類を持参します。",
    "わさび味噌に北大路魯山人にちなんだネーミングをつけたいです。",
    "Explain Elisabeth Kübler-Ross's five stages of grief and the main criticisms.",
    "I have a container number MSKU 7284019-3 on a bill of lading MAEU 241836590. How is the "
    "ISO 6346 check digit calculated?",
])
def test_p49a_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("税関本関の窓口で、担当の佐藤 花子さん（090-3123-4567）に渡してください。", "090-3123-4567"),
    ("Our new hire Emily Hall's theory about the outage was right; thank her.", "Emily Hall"),
])
def test_p49a_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p50-a: designers named for their designs, a figure's role in an industry, a case stated
# made up, a remark in a name field's place, a venue's address in brackets after "at".
@pytest.mark.parametrize("text", [
    "ヴェラ・ウォンと桂由美、それぞれのウェディングドレスのデザインの特徴を教えてください。",
    "森英恵さんが日本のファッション業界に果たした役割を簡単にまとめて。",
    '入力チェックの例です。\n[{"name": "(invalid)", "age": -1}, {"name": "（未入力）", "age": 0}]',
    "Our booth is at Pacifico Yokohama (1-1-1 Minatomirai, Nishi-ku, Yokohama) this year; "
    "write a short invitation for overseas buyers.",
])
def test_p50a_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


def test_p50a_a_case_stated_made_up_is_nobody_s_record(detector: Detector) -> None:
    case = "Cさん、60代女性、右変形性股関節症で術後2週。独居。"
    assert found(detector, case, entities={"MEDICAL_RECORD"})
    assert not found(detector, "【架空症例・実在の人物ではありません】\n" + case,
                     entities={"MEDICAL_RECORD"})


@pytest.mark.parametrize(("text", "value"), [
    ("My mother lives at Sakura Heights (2-4-6 Minami, Setagaya-ku, Tokyo); send it there.",
     "2-4-6 Minami, Setagaya-ku, Tokyo"),
    ("Deliver it to her at Green Court (1-3-28 Yokoami, Sumida-ku, Tokyo) by Friday.",
     "1-3-28 Yokoami, Sumida-ku, Tokyo"),
    ("佐藤 花子さんが営業部に果たした役割を評価シートにまとめて。", "佐藤 花子"),
])
def test_p50a_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p50-b and p51-a: a treatment as a field or a statistic, a machine's serial that passes a
# card's check, a system's empty date, an example payload, the writer's shop, a work said to
# be a figure's, goods told from fakes, a character's role before the work, ?/! between
# Japanese sentences, a firm's site by its town.
@pytest.mark.parametrize("text", [
    "患者向けの広報誌です。日本透析医学会の統計では、慢性透析患者数は約35万人、平均年齢は69.9歳です。",
    "Write a blog post on the history of dialysis and the first outpatient dialysis center.",
    "Our planer (model PX-200, serial 4412-0098-3371-2206) throws error E4 after an hour.",
    "Sample EHR record from the vendor's training environment:\nPatient: DOE, JANE (SAMPLE)\n"
    "MRN: 000000000\nDOB: 1900-01-01\nK: 5.4 mmol/L",
    'Is this example payload fine? {"id": "INC-000123", "contact_phone": "+1-202-555-0175"}',
    "川端康成の『雪国』の和室の描写を引用して、うちの畳店のブランドストーリーを作りたい。",
    "千利休が造ったとされる茶室の畳の敷き方を解説してください。",
    "ハリー・ウィンストンとブルガリの真贋チェックのポイントを表に。ハリー・ウィンストンの刻印の読み方も。",
    "Summarize the role of Sonya Marmeladova, the daughter in Dostoevsky's Crime and "
    "Punishment.",
    "「ザンボニー」は発明者のフランク・ザンボニーの名前から来ていると聞きましたが本当ですか?"
    "あと、うちの製氷車の刃は何時間ごとに研ぐのが一般的?",
    "うちのスケートリンクで、アニメ『ユーリ!!! on ICE』のイベントをします。勝生勇利と"
    "ヴィクトル・ニキフォロフをイメージした告知文をください。",
    "来年3月末で川口の工場を閉めて、大宮の店舗に集約します。",
])
def test_p50b_p51a_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS | {"MEDICAL_RECORD", "CREDIT_CARD"})


@pytest.mark.parametrize(("text", "value"), [
    ("Aさん(45歳)は透析中で、週3回通院しています。", "透析"),
    ("My father started dialysis last month.", "dialysis"),
    ("The card on file, 4412-0098-3371-2206, was charged twice.", "4412-0098-3371-2206"),
    ("Patient: Ana Lima\nDOB: 1985-01-01", "1985-01-01"),
    ("川口さんの工場を来週見学します。", "川口"),
    ("うちの店の佐藤 花子が『鬼滅の刃』の全巻を予約しました。", "佐藤 花子"),
    ("Alyona Ivanovna, the new tenant in Kenji's flat, paid late again.", "Alyona Ivanovna"),
])
def test_p50b_p51a_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS
                          | {"MEDICAL_RECORD", "CREDIT_CARD"})


# p51-b: a timetable's abbreviations before a port, a talk on a notable name, a foreign
# figure's katakana name after a frame on its line, 歴史.
@pytest.mark.parametrize("text", [
    "Make this a public timetable:\nDep Kobe 08:30 -> Arr Takamatsu 12:40\n"
    "Dep Takamatsu 14:00 -> Arr Kobe 18:10",
    "I'm preparing a talk on Frank Lloyd Wright's art glass for our studio visitors.",
    "院内報のコラムで「ワセリンの歴史」を取り上げます。ロバート・チーズブローが精製した話を中心に。",
])
def test_p51b_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Please write a report on Maria Lopez's first month in the team.", "Maria Lopez"),
    ("院内報のコラムで「ワセリンの歴史」を取り上げます。グエン・ヴァン・アンさんに原稿を依頼。",
     "グエン・ヴァン・アン"),
])
def test_p51b_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL | CONTACTS_AND_IDS)


# p52-a: a research firm named after its founder (a head Sudachi splits), a figure's named
# relation.
@pytest.mark.parametrize("text", [
    "矢野経済研究所の調査では、医療用ウィッグの市場はどう伸びていますか？",
    "Cover Henrietta Swan Leavitt's period-luminosity relation for Cepheids in the script.",
])
def test_p52a_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


@pytest.mark.parametrize(("text", "value"), [
    ("佐藤研究所長に来週の結果を報告します。", "佐藤"),
    # A gazetteer's name alone, in a workplace's sentence, is a colleague's.
    ("Kateryna Bondarenko will join the Osaka office next week.", "Kateryna Bondarenko"),
    ("Explain Maria Lopez's relation to the claimant in two lines.", "Maria Lopez"),
])
def test_p52a_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL)


# p52-b and p53-a: Max before a number, a framework by its count, a writer's own protagonist,
# a known name taking a frame from later on its line, 名画/晩年/世紀/考案者, counted digits
# under a stated example.
@pytest.mark.parametrize("text", [
    "Write three SMS templates with {customer_name} and {eta_minutes}. Max 160 characters each.",
    "For a nurses' training, summarize Virginia Henderson's 14 basic needs with examples.",
    "I'm writing a mystery novel. My protagonist, Hana Mori, is a fictional locksmith in 1920s "
    "Yokohama.",
    "親子教室で、ABO式血液型を発見したカール・ラントシュタイナーの話をしたい。ノーベル賞を受けた年も。",
    "待合室の小冊子に「名画と目の病気」のコラムを。クロード・モネが晩年に白内障を患った話を中心に。",
    "<記入例>\n契約者氏名:保険 太郎\n証券番号:1234-567890(※記入例)\n振込先:○○銀行 普通 0000000",
])
def test_p52b_p53a_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS | {"JP_HEALTH_INSURANCE"})


@pytest.mark.parametrize(("text", "value"), [
    ("Max Weber called about his invoice again.", "Max Weber"),
    ("My colleague Hana Mori is off sick this week.", "Hana Mori"),
    ("Thanks to Maria Lopez for joining. Next week: the Nobel prize history.", "Maria Lopez"),
    ("親子教室の講師は佐藤 花子さんです。ノーベル賞の話をしてもらう。", "佐藤 花子"),
    ("親子教室で、佐藤 花子さんにノーベル賞の話をしてもらう。", "佐藤 花子"),
])
def test_p52b_p53a_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL)


# p53-b and p54-a: a Japanese family name the lexicon lacks, in capitals before a given name;
# a first of history, a star's tour, a patients' waiting room, "our hut honouring".
@pytest.mark.parametrize(("text", "value"), [
    ("Written warning. Details: MORIKAWA Yuto, joined April 2022, base pay ¥218,000.",
     "MORIKAWA Yuto"),
    ("Please call NAKAGAWA Riku about the invoice.", "NAKAGAWA Riku"),
    ("Remind our new hire Junko Tabei to bring her passport.", "Junko Tabei"),
])
def test_p54a_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL)


@pytest.mark.parametrize("text", [
    "FUKUOKA Tenjin: an area guide for our overseas visitors.",
    "A plaque at our hut honouring Junko Tabei, the first woman to reach the summit of Everest.",
    "Taylor Swift's Eras Tour played Tokyo Dome; draft a resale FAQ from that example.",
    "A timeline for our patient waiting room: Patrick Steptoe and Robert Edwards, who won the "
    "Nobel Prize in 2010.",
])
def test_p54a_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)


# p54-b and p55-a: a city after a romanised ward, a service line by its name, a work by its
# author and year, a title's "My" and "Neighbor".
@pytest.mark.parametrize("text", [
    "Our store is at 5-5 Hatoba-cho, Chuo-ku, Kobe; write the opening-hours notice.",
    "List support lines with one sentence each: TELL Lifeline (03-5774-0992).",
    "A timeline from Osamu Tezuka's Astro Boy (1963) through Hayao Miyazaki's My Neighbor "
    "Totoro and Katsuhiro Otomo's Akira (1988).",
])
def test_p55a_shapes_of_public_data_are_not_personal(detector: Detector, text: str) -> None:
    assert not personal(detector, text)
    assert not found(detector, text, entities=CONTACTS_AND_IDS)


@pytest.mark.parametrize(("text", "value"), [
    ("Maria Lopez's Budget Plan (2024) needs a second review.", "Maria Lopez"),
    ("My neighbour Kenji Sato wrote a fan fiction about Astro Boy (1963).", "Kenji Sato"),
])
def test_p55a_twins_with_a_person_s_data_stay_personal(
    detector: Detector, text: str, value: str,
) -> None:
    assert value in found(detector, text, entities=PERSONAL)


def test_a_frame_on_the_next_line_clears_no_foreign_name(detector: Detector) -> None:
    # A line ends its sentence: the next line's frame (発明) is another request's.
    text = ("技能実習生 グエン・ヴァン・アン の作業手順書をやさしい日本語で作って\n"
            "豊田佐吉の自動織機の発明が製造業に与えた影響は？")
    assert "グエン・ヴァン・アン" in found(detector, text, entities=PERSONAL)
