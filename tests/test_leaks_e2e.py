"""No way around the detector: every form a model reads is inspected, over HTTP.

Each case sends, with the official openai SDK through the real proxy, personal data or a
credential in a form careless applications and copy-paste produce every day — JSON escapes,
percent-encoding, HTML entities, base64, invisible characters, Japanese writing conventions,
data: URLs, JSON numbers, identifier fields, labelled values, token ids, values cut across
texts — and asserts on what the cloud upstream received: nothing, and the value in none of its
readable forms. Clean requests in the same shapes still go to the cloud.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from conftest import Stack, StackFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from leakcheck import assert_cloud_never_saw, body_json, luhn, my_number, token

from proxy import tokens

CARD = luhn("453201511283036")
CARD_2 = luhn("510516278811365")
MY_NUMBER = my_number("22135873983")
PHONE = "090-8436-4147"
EMAIL = "kenji.watanabe@nishida-kogyo.co.jp"
NAME_JA = "渡辺健二"
STRIPE = "sk_" + "live_" + token(99)
SENDGRID = "SG." + token(22) + "." + token(43)
VAULT = "hvs." + token(90)
NPM = "npm_" + token(36)
PYPI = "pypi-AgEIcHlwaS5vcmc" + token(60)
OPENAI = "sk-proj-" + token(40)
PEM_BODY = "\n".join(token(64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                     for _ in range(6))
PRIVATE_KEY = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----\n"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def user(content: Any, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def send(stack: Stack, endpoint: str, body: dict[str, Any]) -> Any:
    """``body`` through the openai SDK (fields the SDK has no parameter for go in extra_body)."""
    client = stack.openai()
    rest = dict(body)
    model = rest.pop("model")
    if endpoint == "chat":
        messages = rest.pop("messages")
        return client.chat.completions.with_raw_response.create(
            model=model, messages=messages, extra_body=rest)
    if endpoint == "completions":
        return client.completions.with_raw_response.create(
            model=model, prompt=rest.pop("prompt"), extra_body=rest)
    if endpoint == "embeddings":
        return client.embeddings.with_raw_response.create(
            model=model, input=rest.pop("input"), extra_body=rest)
    return client.responses.with_raw_response.create(model=model, extra_body=rest)


WRAPPED_CSV = "\n".join(
    b64(f"name,phone,card\n{NAME_JA},{PHONE},{CARD}\n" * 3)[i:i + 76]
    for i in range(0, len(b64(f"name,phone,card\n{NAME_JA},{PHONE},{CARD}\n" * 3)), 76)
)
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJ"
       "RU5ErkJggg==")

CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    # JSON escapes: json.dumps' default output, in a tool result and a function_call_output.
    ("json-escapes-tool-result", "chat", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "顧客を調べて"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_a1", "type": "function",
         "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_a1",
         "content": body_json({"name": NAME_JA, "tel": "０９０－８４３６－４１４７"})}]},
     [NAME_JA, PHONE]),
    ("json-escapes-function-call-output", "responses", {"model": "gpt-4o-mini", "input": [
        {"type": "function_call_output", "call_id": "call_b2",
         "output": body_json({"customer": NAME_JA, "email": EMAIL})}]}, [EMAIL, NAME_JA]),
    # Percent-encoding, HTML entities, base64.
    ("percent-encoded-access-log", "chat",
     user("Why 404? GET /unsubscribe?email=" + urllib.parse.quote(EMAIL) + "&name="
          + urllib.parse.quote(NAME_JA) + " HTTP/1.1"), [EMAIL, NAME_JA]),
    ("data-text-url", "chat", user("Open this: data:text/plain," + urllib.parse.quote(
        f"call {PHONE} tonight")), [PHONE]),
    ("html-entities", "chat", user("Clean up this CMS export: <p>"
                                   + "".join(f"&#{ord(c)};" for c in NAME_JA)
                                   + " &lt;" + EMAIL.replace("@", "&#64;") + "&gt;</p>"),
     [NAME_JA, EMAIL]),
    ("base64-webhook", "chat", user("Decode this webhook body and tell me what failed: "
                                    + b64(json.dumps({"email": EMAIL, "card": CARD}))),
     [EMAIL, CARD]),
    ("mime-attachment", "chat", user("Summarise the attachment:\nContent-Type: text/csv\n"
                                     "Content-Transfer-Encoding: base64\n\n" + WRAPPED_CSV),
     [PHONE, CARD]),
    # Invisible and format characters inside identifiers.
    ("zero-width-space", "chat", user("Call back on " + "\u200b".join(PHONE)), [PHONE]),
    ("soft-hyphen-word-joiner", "chat",
     user("Card: " + CARD[:4] + "\u00ad" + CARD[4:8] + "\u2060" + CARD[8:12] + "\u200e"
          + CARD[12:]), [CARD]),
    ("nul-separators", "chat", user("buf=" + "\u0000".join([CARD[:4], CARD[4:8], CARD[8:12],
                                                            CARD[12:]])), [CARD]),
    # Japanese writing conventions.
    ("kanji-numerals", "chat",
     user("名刺の電話：〇九〇－八四三六－四一四七"), [PHONE]),
    ("kanji-my-number", "chat", user("個人番号は" + MY_NUMBER.translate(
        str.maketrans("0123456789", "〇一二三四五六七八九")) + "です"), [MY_NUMBER]),
    ("at-spelled-in-katakana", "chat",
     user("メールは kenji.watanabe（アット）nishida-kogyo.co.jp です"), [EMAIL]),
    ("full-width-at-with-spaces", "chat",
     user("連絡先 kenji.watanabe ＠ nishida-kogyo.co.jp"), [EMAIL]),
    ("spelled-at-and-dot", "chat",
     user("reach me at kenji dot watanabe at nishida-kogyo dot co dot jp"), [EMAIL]),
    ("email-wrapped-by-a-line-break", "chat",
     user("Contact: kenji.watanabe@nishida-\nkogyo.co.jp for the quote"), [EMAIL]),
    ("card-wrapped-by-a-line-break", "chat",
     user(f"Please refund card {CARD[:4]} {CARD[4:8]} {CARD[8:12]}\n{CARD[12:]} today"),
     [CARD]),
    ("spoken-digits-english", "chat",
     user("Transcript: my number is oh nine oh, eight four three six, four one four seven"),
     [PHONE]),
    ("spoken-digits-japanese", "chat",
     user("書き起こし：でんわばんごうは、ぜろきゅうぜろの、はちよんさんろくの、よんいちよんななです"),
     [PHONE]),
    # data: URLs anywhere in a text.
    ("markdown-image-embed", "chat", user(f"What is this? ![x](data:image/png;base64,{PNG})"),
     [PNG]),
    ("html-image-upper-case", "chat",
     user(f'<p>see <img src=" data:image/PNG;BASE64,{PNG}"></p>'), [PNG]),
    # JSON numbers are content.
    ("card-as-integer-enum", "chat", user("Pick a plan", response_format={
        "type": "json_schema", "json_schema": {"name": "plan", "schema": {
            "type": "object", "properties": {"card": {"type": "integer",
                                                      "enum": [int(CARD)]}}}}}), [CARD]),
    ("my-number-as-tool-default", "chat", user("Register me", tools=[{
        "type": "function", "function": {"name": "register", "parameters": {
            "type": "object", "properties": {"id": {"type": "integer",
                                                    "default": int(MY_NUMBER)}}}}}]),
     [MY_NUMBER]),
    ("numeric-metadata", "chat", user("hi", metadata={"account": int(CARD)}, store=True),
     [CARD]),
    ("unknown-numeric-field", "chat", user("hi", x_customer={"card_number": int(CARD)}), [CARD]),
    # Identifier-shaped fields are content.
    ("phone-as-tool-call-id", "chat", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "look up"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": PHONE, "type": "function",
         "function": {"name": "lookup", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": PHONE, "content": "ok"}]}, [PHONE]),
    ("key-in-service-tier", "chat", user("hi", service_tier=OPENAI), [OPENAI]),
    ("key-as-model", "chat", {"model": OPENAI, "messages": [{"role": "user", "content": "hi"}]},
     [OPENAI]),
    ("card-in-an-id", "responses", {"model": "gpt-4o-mini", "input": [
        {"type": "message", "role": "user", "id": CARD,
         "content": [{"type": "input_text", "text": "hello"}]}]}, [CARD]),
    # A key labels its value.
    ("labelled-password", "chat", user("hi", metadata={"db_password": "hunter2x"}, store=True),
     ["hunter2x"]),
    ("labelled-date-of-birth", "chat", user("hi", metadata={"dob": "1984-03-02"}, store=True),
     ["1984-03-02"]),
    ("labelled-passport", "chat", user("hi", metadata={"passport_no": "TR1234567"}, store=True),
     ["TR1234567"]),
    ("mcp-header", "responses", {"model": "gpt-4o-mini", "input": "list my tickets", "tools": [
        {"type": "mcp", "server_label": "crm", "server_url": "https://crm.example.com/mcp",
         "headers": {"X-API-Key": token(40)}}]}, []),
    ("prompt-template-variables", "responses", {"model": "gpt-4o-mini", "prompt": {
        "id": "pmpt_abc123", "variables": {"customer_name": "Priyanka Raghunathan",
                                           "customer_phone": PHONE}}},
     ["Priyanka Raghunathan", PHONE]),
    # Token ids are text too.
    ("token-id-prompt", "completions", {"model": "gpt-4o-mini",
                                        "prompt": tokens.encode(f"Mail {EMAIL}", "gpt-4o-mini")},
     [EMAIL]),
    ("token-id-embeddings", "embeddings", {
        "model": "text-embedding-3-small",
        "input": [tokens.encode(f"{NAME_JA} {PHONE}", "text-embedding-3-small")]}, [PHONE]),
    # Across segments.
    ("phone-over-two-parts", "chat", user([{"type": "text", "text": "携帯は 090-8436-"},
                                           {"type": "text", "text": "4147 です"}]), [PHONE]),
    ("card-over-two-messages", "chat", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": f"my card is {CARD[:8]}"},
        {"role": "user", "content": f"{CARD[8:]} please"}]}, [CARD]),
    ("my-number-in-halves", "chat", user(f"個人番号の前半: {MY_NUMBER[:4]}、後半: "
                                         f"{MY_NUMBER[4:8]} {MY_NUMBER[8:]}"), [MY_NUMBER]),
    ("email-across-turns", "chat", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "My colleague's mail: kenji.watanabe"},
        {"role": "assistant", "content": "And the domain?"},
        {"role": "user", "content": "@nishida-kogyo.co.jp, please invite him"}]}, [EMAIL]),
    # Participant names, addresses, names in other scripts and in capitals.
    ("participant-name", "chat", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "name": "Yamada_Taro", "content": "Summarise my week."}]},
     ["Yamada_Taro"]),
    ("uk-address", "chat", user("Is this right? Flat 3, 27 Kingsley Road, Leeds LS6 2BQ"),
     ["27 Kingsley Road"]),
    ("us-address", "chat", user("Ship to 742 Evergreen Terrace, Springfield, OR 97477"),
     ["742 Evergreen Terrace"]),
    ("romaji-address", "chat", user("配送先: 2-14-7 Nishi-Azabu, Minato-ku, Tokyo 106-0031"),
     ["2-14-7 Nishi-Azabu"]),
    ("hangul-name", "chat", user("留学生の박서연さんへの案内文を作成して"), ["박서연"]),
    ("chinese-name", "chat", user("请给张伟发一封邮件，说明会议改期。"), ["张伟"]),
    ("cyrillic-name", "chat", user("入館申請書を作って: Дмитрий Волков さん"), ["Дмитрий Волков"]),
    ("capitals-booking", "chat", user("Explain this PNR: 1.OLSEN/DEREK MR 2.OLSEN/KAREN MRS"),
     ["OLSEN/DEREK"]),
    ("given-name-and-health", "chat",
     user("Mark was diagnosed with type 2 diabetes last week; draft a leave note."), ["Mark"]),
    # Vendor keys and password cues.
    ("stripe-live-key", "chat", user(f"stripe = require('stripe')('{STRIPE}') fails, why?"),
     [STRIPE]),
    ("sendgrid-key", "chat", user(f"sg = SendGridAPIClient('{SENDGRID}')"), [SENDGRID]),
    ("vault-token", "chat", user(f"export VAULT_TOKEN={VAULT}"), [VAULT]),
    ("npm-token", "chat", user(f"//registry.npmjs.org/:_authToken={NPM}"), [NPM]),
    ("pypi-token", "chat", user(f"twine upload -u __token__ -p {PYPI} dist/*"), [PYPI]),
    ("azure-connection-string", "chat",
     user("DefaultEndpointsProtocol=https;AccountName=prod;AccountKey=" + token(86) + "==;"),
     []),
    ("gcp-service-account", "chat", user(json.dumps({
        "type": "service_account", "project_id": "prod-123",
        "private_key_id": token(40, "0123456789abcdef"), "private_key": PRIVATE_KEY,
        "client_email": "sync@prod-123.iam.gserviceaccount.com"})), [PEM_BODY[:64]]),
    ("database-url", "chat", user("DATABASE_URL=postgres://app:Tr0ub4dor-3@db.internal:5432/app"),
     ["Tr0ub4dor-3"]),
    ("curl-user-password", "chat",
     user("curl -u admin:Zq8!rTy2Lp https://api.internal/v1/export"), ["Zq8!rTy2Lp"]),
    ("pw-is-in-prose", "chat", user("the pw is Kanri#2024 for the shared box"), ["Kanri#2024"]),
    ("japanese-pin", "chat", user("キャッシュカードの暗証番号は4821です"), ["4821"]),
    ("japanese-password", "chat", user("管理画面のパスワードは Ab3$xY9z です"), ["Ab3$xY9z"]),
    ("door-code", "chat", user("the side door keypad code is 4-4-0-9, tell the cleaner"),
     ["4-4-0-9"]),
]


@pytest.mark.parametrize(("endpoint", "body", "values"),
                         [pytest.param(e, b, v, id=i) for i, e, b, v in CASES])
def test_sensitive_data_in_every_readable_form_stays_off_the_cloud(
    stack: Stack, endpoint: str, body: dict[str, Any], values: list[str]
) -> None:
    if endpoint == "embeddings":
        # No local embedding model here: a sensitive embeddings request gets a 503.
        import openai

        with pytest.raises(openai.APIStatusError) as info:
            send(stack, endpoint, body)
        assert info.value.status_code == 503
    else:
        raw = send(stack, endpoint, body)
        assert raw.headers["x-sekisho-route"] == "local", raw.headers.get("x-sekisho-rule")
    assert stack.posts(stack.cloud) == [], "a sensitive request reached the cloud"
    assert_cloud_never_saw(stack.cloud, *values)


CLEAN: list[tuple[str, str, dict[str, Any]]] = [
    ("base64-of-a-config", "chat", user("What does this do? " + b64("retries: 3\ntimeout: 30s"))),
    ("percent-encoded-search", "chat", user("Explain /search?q=" + urllib.parse.quote(
        "ノートパソコン 軽量") + "&sort=price")),
    ("html-entities-in-an-article", "chat", user("Tidy: Caf&eacute; &amp; Bar &mdash; open"
                                                 " 9&ndash;5")),
    ("token-ids-of-a-question", "embeddings", {
        "model": "text-embedding-3-small",
        "input": [tokens.encode("What is a quarterly business review?",
                                "text-embedding-3-small")]}),
    ("numeric-enum", "chat", user("pick", response_format={"type": "json_schema", "json_schema": {
        "name": "n", "schema": {"type": "object", "properties": {
            "n": {"type": "integer", "enum": [1, 2, 3]}}}}})),
    ("tool-call-ids", "chat", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "call_9xQ2", "type":
         "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Osaka\"}"}}]},
        {"role": "tool", "tool_call_id": "call_9xQ2", "content": "{\"temp_c\": 21}"}]}),
    ("agent-participant-names", "chat", {"model": "gpt-4o-mini", "messages": [
        {"role": "user", "name": "planner_agent", "content": "Step 1: gather requirements."},
        {"role": "assistant", "name": "research_bot", "content": "Requirements gathered."}]}),
    ("public-figure-phrase", "chat", user("Summarise Jack Welch's management style.")),
]


@pytest.mark.parametrize(("endpoint", "body"), [pytest.param(e, b, id=i) for i, e, b in CLEAN])
def test_clean_requests_in_the_same_shapes_still_go_to_the_cloud(
    stack: Stack, endpoint: str, body: dict[str, Any]
) -> None:
    raw = send(stack, endpoint, body)
    assert raw.headers["x-sekisho-route"] == "cloud", raw.headers.get("x-sekisho-rule")


def test_a_colleague_named_like_a_public_figure_is_not_allow_listed(stack: Stack) -> None:
    raw = send(stack, "chat", user("Send Jack the summary of Jack Welch's memoir by Friday."))
    assert raw.headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []


def test_uninspectable_content_needs_a_rule_that_names_it(
    make_stack: StackFactory, tmp_path: Path
) -> None:
    policy = tmp_path / "open.yaml"
    policy.write_text("version: 1\ndefault: {route: cloud}\nrules:\n"
                      "  - name: contacts\n    when: {entities: [EMAIL_ADDRESS]}\n"
                      "    route: cloud\n    action: redact\n")
    stack = make_stack(policy=policy)
    image = user([{"type": "text", "text": "what is this?"},
                  {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}])
    raw = send(stack, "chat", image)
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.headers["x-sekisho-rule"] == "uninspectable"
    unknown = user([{"type": "hologram", "payload": "opaque"}])
    assert send(stack, "chat", unknown).headers["x-sekisho-rule"] == "uninspectable"
    # A rule about other data does not name the image either.
    both = user([{"type": "text", "text": f"who is {EMAIL}?"},
                 {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}])
    assert send(stack, "chat", both).headers["x-sekisho-route"] == "local"
    assert stack.posts(stack.cloud) == []
    # A rule that names the content decides.
    allowing = tmp_path / "images.yaml"
    allowing.write_text("version: 1\ndefault: {route: cloud}\nrules:\n"
                        "  - name: images-to-cloud\n    when: {entities: [CONTENT_IMAGE]}\n"
                        "    route: cloud\n")
    stack = make_stack(policy=allowing)
    raw = send(stack, "chat", image)
    assert raw.headers["x-sekisho-route"] == "cloud"
    assert raw.headers["x-sekisho-rule"] == "images-to-cloud"


def test_policy_check_warns_when_no_rule_names_non_text_content(tmp_path: Path) -> None:
    import subprocess
    import sys

    policy = tmp_path / "open.yaml"
    policy.write_text("version: 1\ndefault: {route: cloud}\n")
    result = subprocess.run([sys.executable, "-m", "proxy", "policy", "check", str(policy)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "warning: no rule names non-text content (CONTENT_*)" in result.stderr
    assert "uninspectable" in result.stderr


def test_an_upstream_redirect_is_never_followed(make_stack: StackFactory) -> None:
    import openai

    stack = make_stack()
    # The ingress in front of vLLM points elsewhere — at the cloud, here.
    stack.local.redirect_to = stack.cloud.base_url + "/chat/completions?redirected=1"
    with pytest.raises(openai.APIStatusError) as info:
        send(stack, "chat", user(f"Reply to {EMAIL}"))
    assert info.value.status_code == 502
    assert info.value.code == "upstream_redirect"
    assert stack.posts(stack.cloud) == []
    assert len(stack.posts(stack.local)) == 1


def test_a_same_origin_redirect_is_followed_only_when_configured(make_stack: StackFactory
                                                                 ) -> None:
    import openai

    stack = make_stack(follow_same_origin_redirects=True)
    stack.local.redirect_to = stack.local.base_url + "/chat/completions?redirected=1"
    raw = send(stack, "chat", user(f"Reply to {EMAIL}"))
    assert raw.headers["x-sekisho-route"] == "local"
    assert raw.parse().choices[0].message.content == "reply from local"
    assert len(stack.posts(stack.local)) == 2  # the redirect, then the answer
    # Another origin stays refused with the setting on.
    stack.local.redirect_to = stack.cloud.base_url + "/chat/completions?redirected=1"
    with pytest.raises(openai.APIStatusError) as info:
        send(stack, "chat", user(f"Reply to {EMAIL}"))
    assert info.value.status_code == 502
    assert stack.posts(stack.cloud) == []


def test_redacted_keys_stay_distinct(make_stack: StackFactory, tmp_path: Path) -> None:
    policy = tmp_path / "redact.yaml"
    policy.write_text("version: 1\ndefault: {route: cloud}\nrules:\n"
                      "  - name: contacts\n    when: {entities: [EMAIL_ADDRESS]}\n"
                      "    route: cloud\n    action: redact\n"
                      "  - name: content\n    when: {entities: [CONTENT_*]}\n    route: local\n")
    stack = make_stack(policy=policy)
    other = "aiko.mori@nishida-kogyo.co.jp"
    raw = send(stack, "chat", user("who owns these?", metadata={EMAIL: "a", other: "b"},
                                   store=True))
    assert raw.headers["x-sekisho-route"] == "cloud"
    sent = stack.posts(stack.cloud)[0].body["metadata"]
    assert sorted(sent.values()) == ["a", "b"]
    assert sorted(sent) == ["<EMAIL_ADDRESS>", "<EMAIL_ADDRESS>#2"]
    assert_cloud_never_saw(stack.cloud, EMAIL, other)


# --- property: random values in random encodings never reach the cloud --------------------

def _values() -> st.SearchStrategy[str]:
    # Not all one digit: 0000-0000-0000 is a placeholder, which Sekisho does not report.
    digits = st.text("0123456789", min_size=7, max_size=7).filter(lambda d: len(set(d)) > 2)
    return st.one_of(
        st.builds(lambda d: f"090-{d[:4]}-{d[4:7]}{d[0]}", digits),
        st.builds(lambda d: luhn("4" + d + d[:7]), digits),
        st.builds(lambda d: my_number(d + d[:4]), digits),
        st.builds(lambda n: f"{n}.yamada@example-corp.jp", st.sampled_from(
            ["taro", "hanako", "kenji", "aiko"])),
    )


def _encode(kind: str, text: str) -> str:
    if kind == "json":
        return json.dumps(text)[1:-1] if text.isascii() else json.dumps(text)
    if kind == "percent":
        return urllib.parse.quote(text, safe="")
    if kind == "entities":
        return "".join(f"&#{ord(c)};" for c in text)
    if kind == "base64":
        return b64(text)
    if kind == "hex":
        return text.encode().hex()
    if kind == "zwsp":
        return "\u200b".join(text)
    if kind == "fullwidth":
        return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    return text


ENCODINGS = ("json", "percent", "entities", "base64", "hex", "zwsp", "fullwidth")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=_values(), first=st.sampled_from(ENCODINGS),
       second=st.sampled_from((*ENCODINGS, "none")))
def test_random_values_in_random_encodings_never_reach_the_cloud(
    stack: Stack, value: str, first: str, second: str
) -> None:
    stack.cloud.clear()
    stack.local.clear()
    label = "card" if "@" not in value and len(value.replace("-", "")) >= 13 else "contact"
    payload = _encode(second, _encode(first, f"{label}: {value}"))
    raw = send(stack, "chat", user(f"Please process this record: {payload}"))
    assert raw.headers["x-sekisho-route"] == "local", (first, second)
    assert stack.posts(stack.cloud) == []
    assert_cloud_never_saw(stack.cloud, value)
