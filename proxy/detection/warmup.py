"""Warm start: the texts every engine analyses once at load, before it reports ready.

spaCy's pipelines, Sudachi's dictionary, the name lexicons, phonenumbers' per-region metadata,
the decoders and many compiled patterns are loaded on first use. Left to the first request,
that costs it about 0.6 s (measured after ``Engine.load`` without this step: 600 ms for the
first English text, 85 ms for the first Japanese one, 20-25 ms for later ones), enough to pass
a tight detection deadline and fail closed. So ``Engine.load`` analyses these texts, which take
every path of the engine once: both languages and mixed text, the NER cascade (known names),
phone numbers of the regions the phone recognizer tries, cards, IBANs, national numbers,
credentials, addresses, dates of birth, names in other scripts, tables, HL7, and the decoded
views (base64, percent-encoding, JSON escapes, entities). Every value is synthetic.
"""

from __future__ import annotations

TEXTS: tuple[str, ...] = (
    "Please draft a reply to Maria Gonzalez (maria.gonzalez@mail.example.net, +1 415 555 0134)"
    " about order #A-99812. Her card 4929 1234 5678 9012 was charged twice; IBAN"
    " GB82 WEST 1234 5698 7654 32, SSN 123-45-6789, born 03/14/1985, 42 Elm Street,"
    " Springfield, IL 62704. Call the London office on 020 7946 0958 or +49 30 901820."
    " Who was Abraham Lincoln? Server 10.0.0.12, https://intranet.example.com/x?id=4.",
    "client sandra oyelaran, 29, panic attacks since March; DB_PASSWORD=hunter2-Quokka-77;"
    " key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd; AKIAIOSFODNN7EXAMPLE.\n"
    "# .env\nSTRIPE_RESTRICTED=rk_live_Q7wErTy5UiOp3AsDfGh1JkLzXc9VbNm2QwE8rTyU4iOpAsD6fGhJk"
    "LzX0cVbNm7QwErTyUiOp5AsDfGhJ3kLzXcVbNm\n",
    "name,email,phone\nKenji Watanabe,kenji.w@example.org,090-1234-5678\n"
    "PID|1||12345^^^HOSP^MR||WATANABE^KENJI||19850314|M\n",
    "山田太郎様（東京都千代田区千代田1-1、〒100-0001、電話 03-1234-5678、携帯 090-1234-5678）"
    "の個人番号は 1234 5678 9012 です。生年月日は昭和60年3月14日。担当者：佐藤・花子、"
    "口座番号 普通 1234567。ゆうとくん（7歳）が発熱で受診。",
    "会議のメモ: Tanaka Ichiro さんと Project Aurora の件。王小明、김민수、Иван Петров も参加。",
    "payload: eyJuYW1lIjogIktlbmppIFdhdGFuYWJlIiwgImVtYWlsIjogImtAZXhhbXBsZS5vcmcifQ=="
    " q=%E5%B1%B1%E7%94%B0%20%E5%A4%AA%E9%83%8E \\u5c71\\u7530 &#x5c71;&#x7530; j&#111;hn",
    "Summarise the quarterly report and list three risks for the board.",
    "来週の定例会議の議題を三つ提案してください。",
)
