"""End to end: the official openai SDK → Sekisho → recording upstreams, over loopback.

The decisive assertion for every sensitive case is on what the cloud upstream received: nothing.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from conftest import LOCAL_MODELS, Stack

MY_NUMBER = "1234 5678 9018"  # synthetic; valid mod-11 check digit (see test_my_number_is_valid)
OPENAI_KEY = "sk-proj-Q3vT9xLm2Rk8ZpW4nYb7HcJd5FgA1sUe6oKi0tVw"


def _check_digit(digits: str) -> int:
    body = [int(c) for c in digits[:11]]
    total = sum(d * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(reversed(body), start=1))
    r = total % 11
    return 0 if r <= 1 else 11 - r


def test_my_number_is_valid() -> None:
    digits = MY_NUMBER.replace(" ", "")
    assert _check_digit(digits) == int(digits[-1])


def chat(stack: Stack, messages: list[dict[str, Any]], **kwargs: Any) -> Any:
    client = stack.openai()
    return client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=messages, **kwargs
    )


def assert_nothing_reached_cloud(stack: Stack, *values: str) -> None:
    assert stack.posts(stack.cloud) == [], "a sensitive request reached the cloud"
    received = stack.cloud.texts_received()
    for value in values:
        assert value not in received
        assert value.replace(" ", "").replace("-", "") not in received.replace(" ", "").replace(
            "-", ""
        )


def test_clean_prompt_goes_to_the_cloud_with_the_proxy_key(stack: Stack) -> None:
    raw = chat(stack, [{"role": "user", "content": "Summarise the benefits of unit testing."}])
    completion = raw.parse()
    assert completion.choices[0].message.content == "reply from cloud"
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert raw.headers["x-sekisho-rule"] == "default"
    assert raw.headers["x-request-id"]
    assert len(stack.posts(stack.cloud)) == 1 and stack.posts(stack.local) == []
    sent = stack.posts(stack.cloud)[0]
    assert sent.body["model"] == "gpt-4o-mini"
    assert sent.headers["authorization"] == "Bearer sk-proxy-cloud-key"
    assert "sk-client-key-never-forwarded" not in str(sent.headers)
    assert "x-request-id" not in sent.headers


SENSITIVE_CASES = [
    ("english-email", "Please forward the contract to john.doe@contoso.com today.",
     "contact-details", "john.doe@contoso.com"),
    ("english-phone", "Call the customer back at +1 415-555-2671 about the refund.",
     "contact-details", "415-555-2671"),
    ("japanese-phone", "折り返しは０９０ー１２３４ー５６７８までお願いします。",
     "contact-details", "１２３４"),
    ("my-number", f"マイナンバーは{MY_NUMBER}です。", "government-ids", MY_NUMBER),
    ("us-ssn", "The applicant's SSN is 536-22-8745, please verify.", "government-ids",
     "536-22-8745"),
    ("jp-passport", "旅券番号はTK1234567です。", "government-ids", "TK1234567"),
    ("credit-card", "Charge card 4111 1111 1111 1111 for the renewal.", "financial",
     "4111 1111 1111 1111"),
    ("japanese-card", "カード番号は4111111111111111です", "financial", "4111111111111111"),
    ("iban", "Wire the deposit to IBAN GB82 WEST 1234 5698 7654 32.", "financial",
     "GB82 WEST 1234 5698 7654 32"),
    ("jp-bank", "振込先はみずほ銀行 渋谷支店 普通 1234567 です。", "financial", "1234567"),
    ("english-name", "Draft a polite reply to Margaret Thompson about her late invoice.",
     "people", "Margaret Thompson"),
    ("japanese-name", "山田花子さんへのお詫びメールを書いてください。", "people", "山田花子"),
    ("secret", f"Why does my script fail? OPENAI_API_KEY={OPENAI_KEY}", "credentials",
     OPENAI_KEY),
    ("japanese-password", "本番DBのパスワードは「Kq7#mZ2p」です。接続文字列を直して",
     "credentials", "Kq7#mZ2p"),
    ("jp-driver-licence", "運転免許証番号 123456789012 の更新手続きを案内して", "government-ids",
     "123456789012"),
    ("us-driver-licence", "California driver's license D4829173, please verify the holder.",
     "government-ids", "D4829173"),
    ("japanese-health", "患者の鈴木さんは糖尿病と診断されました。食事指導の文案を", "people",
     "鈴木"),
]


@pytest.mark.parametrize(
    ("text", "rule", "value"),
    [pytest.param(t, r, v, id=i) for i, t, r, v in SENSITIVE_CASES],
)
def test_sensitive_prompt_goes_local_and_never_to_the_cloud(
    stack: Stack, text: str, rule: str, value: str
) -> None:
    raw = chat(stack, [{"role": "user", "content": text}])
    assert raw.parse().choices[0].message.content == "reply from local"
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == rule
    assert len(stack.posts(stack.local)) == 1
    assert stack.posts(stack.local)[0].headers["authorization"] == "Bearer proxy-local-key"
    assert_nothing_reached_cloud(stack, value)


EMAIL = "hanako.yamada@example-clinic.jp"

HIDDEN_PLACES = [
    ("system-prompt", [
        {"role": "system", "content": f"You assist {EMAIL}."},
        {"role": "user", "content": "What should I do today?"},
    ]),
    ("earlier-assistant-turn", [
        {"role": "user", "content": "Who is the contact?"},
        {"role": "assistant", "content": f"The contact is {EMAIL}."},
        {"role": "user", "content": "Thanks, write a short greeting."},
    ]),
    ("developer-message", [
        {"role": "developer", "content": f"Escalations go to {EMAIL}."},
        {"role": "user", "content": "Hello"},
    ]),
    ("tool-call-arguments", [
        {"role": "user", "content": "Send the report."},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "send_mail", "arguments": f'{{"to": "{EMAIL}"}}'},
        }]},
        {"role": "tool", "tool_call_id": "call_1", "content": "sent"},
    ]),
    ("tool-result", [
        {"role": "user", "content": "Look up the customer."},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call_1", "type": "function",
            "function": {"name": "lookup", "arguments": '{"id": 42}'},
        }]},
        {"role": "tool", "tool_call_id": "call_1", "content": f'{{"email": "{EMAIL}"}}'},
    ]),
    ("content-parts", [
        {"role": "user", "content": [
            {"type": "text", "text": "Please reply to"},
            {"type": "text", "text": EMAIL},
        ]},
    ]),
    ("legacy-function-call", [
        {"role": "user", "content": "Send it."},
        {"role": "assistant", "content": None,
         "function_call": {"name": "send", "arguments": f'{{"to": "{EMAIL}"}}'}},
        {"role": "function", "name": "send", "content": "ok"},
    ]),
]


@pytest.mark.parametrize(
    "messages", [pytest.param(m, id=i) for i, m in HIDDEN_PLACES]
)
def test_pii_anywhere_in_the_conversation_keeps_it_local(
    stack: Stack, messages: list[dict[str, Any]]
) -> None:
    raw = chat(stack, messages)
    assert raw.headers["x-sekisho-route"] == "local"
    assert_nothing_reached_cloud(stack, EMAIL)


def test_pii_in_metadata_and_tool_descriptions_keeps_it_local(stack: Stack) -> None:
    tools = [{"type": "function", "function": {
        "name": "lookup", "description": f"Looks up orders for {EMAIL}",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
    }}]
    raw = chat(stack, [{"role": "user", "content": "hi"}], tools=tools)
    assert raw.headers["x-sekisho-route"] == "local"
    raw = chat(stack, [{"role": "user", "content": "hi"}], metadata={"owner": EMAIL}, store=True)
    assert raw.headers["x-sekisho-route"] == "local"
    raw = chat(stack, [{"role": "user", "content": "hi"}], extra_body={"x_custom": {"n": EMAIL}})
    assert raw.headers["x-sekisho-route"] == "local"
    assert_nothing_reached_cloud(stack, EMAIL)


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param({"metadata": {"status": EMAIL}, "store": True}, id="metadata-status"),
        pytest.param({"metadata": {"id": "4111111111111111"}, "store": True}, id="metadata-id"),
        pytest.param({"extra_body": {"x_custom": {"type": EMAIL}}}, id="unknown-field-type"),
        pytest.param({"extra_body": {"user_ref": {"id": EMAIL}}}, id="unknown-field-id"),
    ],
)
def test_identifier_named_fields_outside_the_schema_are_inspected(
    stack: Stack, extra: dict[str, Any]
) -> None:
    raw = chat(stack, [{"role": "user", "content": "hi"}], **extra)
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_an_email_address_in_an_id_field_is_inspected(stack: Stack) -> None:
    raw = chat(stack, [
        {"role": "user", "content": "Look it up."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": EMAIL, "type": "function",
             "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": EMAIL, "content": "found"},
    ])
    assert raw.headers["x-sekisho-route"] == "local"
    assert_nothing_reached_cloud(stack, EMAIL)


def test_token_ids_are_read_with_the_models_tokenizer(stack: Stack) -> None:
    from proxy import tokens

    client = stack.openai()
    sensitive = tokens.encode(f"Reply to {EMAIL} today", "gpt-4o-mini")
    raw = client.completions.with_raw_response.create(model="gpt-4o-mini", prompt=sensitive)
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "contact-details"
    with pytest.raises(openai.APIStatusError) as info:
        # No local embedding model is configured: a sensitive embeddings request gets a 503.
        client.embeddings.create(model="text-embedding-3-small",
                                 input=[tokens.encode(EMAIL, "text-embedding-3-small")])
    assert info.value.status_code == 503
    assert stack.posts(stack.cloud) == []
    # Clean text given as ids (LangChain's OpenAIEmbeddings does this by default) is cloud text.
    clean = tokens.encode("What is a quarterly review?", "text-embedding-3-small")
    raw = client.embeddings.with_raw_response.create(model="text-embedding-3-small",
                                                     input=[clean])
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert stack.posts(stack.cloud)[0].body["input"] == [clean]


def test_token_ids_no_tokenizer_can_read_stay_off_the_cloud(stack: Stack) -> None:
    client = stack.openai()
    raw = client.completions.with_raw_response.create(
        model="gpt-4o-mini", prompt=[15496, 11, 10**9])
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "non-text-content"
    raw = client.completions.with_raw_response.create(
        model="davinci-002", prompt=[15496, 11, 616, 1438, 318])
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_images_stay_local_by_default(stack: Stack) -> None:
    raw = chat(stack, [{"role": "user", "content": [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]}])
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "non-text-content"
    assert stack.posts(stack.cloud) == []


def test_unknown_content_part_type_is_not_sent_to_the_cloud(stack: Stack) -> None:
    raw = chat(stack, [{"role": "user", "content": [
        {"type": "hologram", "payload": "opaque"},
    ]}])
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_completions_prompt_is_inspected(stack: Stack) -> None:
    client = stack.openai()
    raw = client.completions.with_raw_response.create(
        model="gpt-4o-mini", prompt=["Write a haiku.", f"Mail it to {EMAIL}"]
    )
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.parse().choices[0].text
    assert_nothing_reached_cloud(stack, EMAIL)
    raw = client.completions.with_raw_response.create(model="gpt-4o-mini", prompt="Say hi.")
    assert raw.headers["x-sekisho-route"] == "cloud"


def test_local_route_maps_the_model_to_the_local_one(stack: Stack) -> None:
    chat(stack, [{"role": "user", "content": f"Reply to {EMAIL}"}])
    assert stack.posts(stack.local)[0].body["model"] == LOCAL_MODELS[0]


def test_configured_local_model_and_aliases(make_stack: Any) -> None:
    stack = make_stack(
        local_model="llama-3.1-8b",
        model_aliases={"company-default": {"cloud": "gpt-4o", "local": "qwen-72b"}},
    )
    chat(stack, [{"role": "user", "content": f"Reply to {EMAIL}"}])
    assert stack.posts(stack.local)[-1].body["model"] == "llama-3.1-8b"
    client = stack.openai()
    client.chat.completions.create(
        model="company-default", messages=[{"role": "user", "content": f"Reply to {EMAIL}"}]
    )
    assert stack.posts(stack.local)[-1].body["model"] == "qwen-72b"
    client.chat.completions.create(
        model="company-default", messages=[{"role": "user", "content": "Hello there"}]
    )
    assert stack.posts(stack.cloud)[-1].body["model"] == "gpt-4o"
