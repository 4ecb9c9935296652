"""Pseudonymization over HTTP: the cloud sees placeholders, the client its own data back.

The shipped customer-support policy pseudonymizes names and contact details. The cloud test
upstream echoes the placeholders it received in the ways models return them — whole, split at
every point, one byte per write, inside tool-call arguments streamed in fragments, in other
case, spaced, next to Japanese text, invented — and the decisive assertions are that the
client reads the restored text and that no original value, raw or normalised, reached the
cloud.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import openai
import pytest
from conftest import ROOT, Stack
from leakcheck import assert_cloud_never_saw
from upstream import json_strings

POLICY = ROOT / "policies" / "examples" / "customer-support.yaml"
NAME, MAIL, PHONE = "山田花子", "yamada.hanako@example-shop.jp", "090-4821-7733"
PROMPT = (f"{NAME}様（{MAIL}、{PHONE}）から配送遅延のお問い合わせです。"
          "丁寧な返信文を書いてください。")
PLACEHOLDER = re.compile(r"\[\[([A-Z_]+)_(\d+)\]\]")


def placeholders(body: dict[str, Any]) -> dict[str, str]:
    """The placeholder the cloud received for each kind (the first of each)."""
    found: dict[str, str] = {}
    for text in json_strings(body):
        for m in PLACEHOLDER.finditer(text):
            found.setdefault(m.group(1), m.group(0))
    return found


def messy(body: dict[str, Any]) -> str:
    """A reply using the placeholders as models do: glued to 様, in lower case, spaced, plus
    one the proxy never issued."""
    p = placeholders(body)
    if not p:
        return "Nothing personal to write about."
    person, mail, phone = p["PERSON"], p["EMAIL"], p["PHONE"]
    return (f"{person}様、お問い合わせありがとうございます。{person.lower()}様のご注文について、"
            f"{mail.replace('[[', '[[ ').replace(']]', ' ]]')} と {phone} にご連絡します。"
            "[[PERSON_9]] は無関係です。")


RESTORED = (f"{NAME}様、お問い合わせありがとうございます。{NAME}様のご注文について、"
            f"{MAIL} と {PHONE} にご連絡します。[[PERSON_9]] は無関係です。")


@pytest.fixture
def pstack(make_stack: Any, tmp_path: Path) -> Stack:
    stack = make_stack(policy=POLICY, audit_log=str(tmp_path / "audit.jsonl"))
    stack.cloud.reply_fn = messy
    return stack


def ask(stack: Stack, content: str = PROMPT, **extra: Any) -> Any:
    return stack.openai().chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": content}], **extra)


def audit_lines(stack: Stack) -> list[dict[str, Any]]:
    assert stack.settings.audit_log is not None
    return [json.loads(line) for line in Path(stack.settings.audit_log).read_text().splitlines()]


def never_saw_originals(stack: Stack) -> None:
    assert_cloud_never_saw(stack.cloud, NAME, MAIL, PHONE, "09048217733")


def test_a_json_answer_gets_its_values_back_and_the_cloud_saw_only_placeholders(
    pstack: Stack,
) -> None:
    raw = ask(pstack)
    assert raw.parse().choices[0].message.content == RESTORED
    assert (raw.headers["x-sekisho-route"], raw.headers["x-sekisho-action"]) == (
        "cloud", "pseudonymize")
    never_saw_originals(pstack)
    sent = pstack.posts(pstack.cloud)[0].body["messages"][0]["content"]
    assert sent.startswith("[[PERSON_1]]様（[[EMAIL_1]]、[[PHONE_1]]）")
    (line,) = audit_lines(pstack)
    assert line["action"] == "pseudonymize"
    assert line["pseudonymized"] == {"EMAIL": 1, "PERSON": 1, "PHONE": 1}
    assert line["restored"] == 4
    assert NAME not in json.dumps(line, ensure_ascii=False)
    from prometheus_client import generate_latest

    from proxy.app import METRICS

    metrics = generate_latest(pstack.app[METRICS].registry).decode()
    assert 'action="pseudonymize"' in metrics and 'route="cloud"' in metrics


def test_a_placeholder_split_at_every_point_of_a_stream_is_restored(pstack: Stack) -> None:
    reply = "Dear [[PERSON_1]]様, we will call [[PHONE_1]]."
    pstack.cloud.reply_fn = None
    pstack.cloud.reply_text = reply
    client = pstack.openai()
    for cut in range(len(reply) + 1):
        pstack.cloud.pieces_fn = lambda text, cut=cut: [text[:cut], text[cut:]]
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}], stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        assert text == f"Dear {NAME}様, we will call {PHONE}.", cut
    never_saw_originals(pstack)


def test_one_byte_per_write_and_one_character_per_chunk(pstack: Stack) -> None:
    pstack.cloud.byte_writes = True
    pstack.cloud.pieces_fn = list
    stream = pstack.openai().chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == RESTORED
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    never_saw_originals(pstack)


def tool_arguments(body: dict[str, Any]) -> tuple[str, str] | None:
    p = placeholders(body)
    return "send_reply", json.dumps({"customer": p["PERSON"], "email": p["EMAIL"],
                                     "note": f"{p['PERSON']}様へ"})


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tool_call_arguments_are_restored_even_streamed_in_fragments(
    pstack: Stack, stream: bool,
) -> None:
    pstack.cloud.tool_call = tool_arguments
    pstack.cloud.pieces_fn = lambda text: [text[i:i + 5] for i in range(0, len(text), 5)]
    client = pstack.openai()
    tools = [{"type": "function", "function": {"name": "send_reply", "parameters": {
        "type": "object", "properties": {"customer": {"type": "string"}}}}}]
    if stream:
        arguments = ""
        for chunk in client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}],
                tools=tools, stream=True):
            for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                arguments += call.function.arguments or ""
    else:
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": PROMPT}], tools=tools)
        arguments = answer.choices[0].message.tool_calls[0].function.arguments
    assert json.loads(arguments) == {"customer": NAME, "email": MAIL, "note": f"{NAME}様へ"}
    never_saw_originals(pstack)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_every_choice_is_restored(pstack: Stack, stream: bool) -> None:
    client = pstack.openai()
    request = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": PROMPT}], "n": 2}
    if stream:
        texts = {0: "", 1: ""}
        for chunk in client.chat.completions.create(**request, stream=True):
            for choice in chunk.choices:
                texts[choice.index] += choice.delta.content or ""
    else:
        answer = client.chat.completions.create(**request)
        texts = {c.index: c.message.content for c in answer.choices}
    assert texts == {0: f"(0) {RESTORED}", 1: f"(1) {RESTORED}"}


def test_completions_text_is_restored_streamed(pstack: Stack) -> None:
    stream = pstack.openai().completions.create(model="gpt-4o-mini", prompt=PROMPT, stream=True)
    assert "".join(c.choices[0].text for c in stream if c.choices) == RESTORED
    never_saw_originals(pstack)


def test_responses_stream_with_text_and_a_function_call(pstack: Stack) -> None:
    client = pstack.openai()
    pstack.cloud.pieces_fn = lambda text: [text[i:i + 3] for i in range(0, len(text), 3)]
    deltas = ""
    with client.responses.stream(model="gpt-4o-mini", input=PROMPT) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas += event.delta
        final = stream.get_final_response()
    assert deltas == RESTORED and final.output_text == RESTORED
    pstack.cloud.tool_call = tool_arguments
    events = list(client.responses.create(model="gpt-4o-mini", input=PROMPT, stream=True))
    arguments = "".join(e.delta for e in events
                        if e.type == "response.function_call_arguments.delta")
    done = next(e for e in events if e.type == "response.output_item.done")
    assert json.loads(arguments) == json.loads(done.item.arguments) == {
        "customer": NAME, "email": MAIL, "note": f"{NAME}様へ"}
    never_saw_originals(pstack)


def test_a_my_number_beside_the_names_keeps_the_whole_request_local(pstack: Stack) -> None:
    raw = ask(pstack, f"{PROMPT} 個人番号は 123456789018 です。")
    assert (raw.headers["x-sekisho-route"], raw.headers["x-sekisho-rule"]) == (
        "local", "government-ids")
    assert pstack.posts(pstack.cloud) == []
    sent = pstack.posts(pstack.local)[0].body["messages"][0]["content"]
    assert NAME in sent and "[[" not in sent


def test_a_fallback_to_local_sends_the_original_not_the_placeholders(pstack: Stack) -> None:
    pstack.stop_cloud()
    raw = ask(pstack)
    assert raw.headers["x-sekisho-route"] == "local"
    sent = pstack.posts(pstack.local)[0].body["messages"][0]["content"]
    assert sent == PROMPT
    (line,) = audit_lines(pstack)
    assert line["pseudonymized"] == {} and line["fallback"] is True


def test_logprobs_of_a_pseudonymized_request_are_refused_clearly(pstack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        ask(pstack, logprobs=True)
    assert info.value.body["code"] == "logprobs_with_pseudonyms"  # type: ignore[index]
    assert pstack.posts(pstack.cloud) == []
    pstack.cloud.reply_fn = None
    assert ask(pstack, "Explain our refund policy.", logprobs=True).headers[
        "x-sekisho-route"] == "cloud"


def test_a_chat_resending_its_history_gets_the_same_placeholders(pstack: Stack) -> None:
    pstack.cloud.reply_fn = lambda body: "ok"
    bare_phone = PHONE.replace("-", "")
    messages = [{"role": "user", "content": PROMPT},
                {"role": "assistant", "content": f"{NAME}様への返信案です。"},
                {"role": "user", "content": f"{NAME}様の電話番号 {bare_phone} も書いて"}]
    pstack.openai().chat.completions.create(model="gpt-4o-mini", messages=messages)
    sent = [m["content"] for m in pstack.posts(pstack.cloud)[0].body["messages"]]
    assert sent[1] == "[[PERSON_1]]様への返信案です。"
    assert sent[2] == "[[PERSON_1]]様の電話番号 [[PHONE_1]] も書いて"
    never_saw_originals(pstack)


def test_a_placeholder_the_client_wrote_is_not_confused_with_sekisho_s(pstack: Stack) -> None:
    pstack.cloud.reply_fn = lambda body: " / ".join(
        m.group(0) for t in json_strings(body) for m in PLACEHOLDER.finditer(t))
    raw = ask(pstack, f"Template: Dear [[PERSON_1]]. Fill it in for {NAME}様.")
    assert raw.parse().choices[0].message.content == f"[[PERSON_1]] / {NAME}"


def test_an_agent_tool_loop_on_a_cloud_conversation_continues_pseudonymized(
    pstack: Stack,
) -> None:
    agents = pytest.importorskip("agents")
    record = {"name": NAME, "email": MAIL, "phone": PHONE, "order": "A-1029"}

    def tool_call(body: dict[str, Any]) -> tuple[str, str] | None:
        items = body.get("input") if isinstance(body.get("input"), list) else []
        if any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in items):
            return None  # the tool answered: now write the reply
        return "lookup_customer", json.dumps({"order": "A-1029"})

    pstack.cloud.tool_call = tool_call

    @agents.function_tool
    def lookup_customer(order: str) -> str:
        """The customer record of an order."""
        return json.dumps(record, ensure_ascii=False)

    async def run() -> Any:
        client = openai.AsyncOpenAI(base_url=pstack.base_url, api_key="sk-client", max_retries=0)
        agent = agents.Agent(
            name="support", instructions="Draft replies to customers.", tools=[lookup_customer],
            model=agents.OpenAIResponsesModel(model="gpt-4o-mini", openai_client=client))
        result = await agents.Runner.run(
            agent, "Order A-1029 is late: draft a reply to the customer.",
            auto_previous_response_id=True,
            run_config=agents.RunConfig(tracing_disabled=True))
        await client.close()
        return result

    result = asyncio.run_coroutine_threadsafe(run(), pstack.loop.loop).result(60)
    assert result.final_output == RESTORED
    posts = pstack.posts(pstack.cloud)
    assert len(posts) == 2
    assert posts[1].body["previous_response_id"].startswith("resp_cloud_")
    never_saw_originals(pstack)


def test_a_cloud_conversation_continues_pseudonymized_or_refuses_with_the_way_out(
    pstack: Stack,
) -> None:
    client = pstack.openai()
    first = client.responses.create(model="gpt-4o-mini", input="Summarise our refund policy.")
    follow = client.responses.create(model="gpt-4o-mini", previous_response_id=first.id,
                                     input=PROMPT)
    assert follow.output_text == RESTORED
    sent = pstack.posts(pstack.cloud)[1].body["input"]
    # A follow-up numbers from a random base, so it never collides with earlier turns'
    # placeholders that the cloud still holds.
    assert re.fullmatch(r"\[\[PERSON_[1-9][0-9]{2}\]\]", placeholders({"i": sent})["PERSON"])
    with pytest.raises(openai.PermissionDeniedError) as info:
        client.responses.create(model="gpt-4o-mini", previous_response_id=first.id,
                                input=f"{PROMPT} 個人番号 123456789018")
    assert info.value.body["code"] == "conversation_on_cloud"  # type: ignore[index]
    assert "send its full input" in info.value.message
    assert len(pstack.posts(pstack.cloud)) == 2
    never_saw_originals(pstack)
