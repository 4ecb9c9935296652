"""Decoded views: encoded stretches read as a model reads them, mapped back to the original."""

from __future__ import annotations

import base64
import json
import urllib.parse

import pytest

from proxy.detection.decoding import BINARY_MIN_CHARS, MAX_DEPTH, canonicalize


def decoded(text: str) -> list[str]:
    return [v.text for v in canonicalize(text).views[1:]]


@pytest.mark.parametrize(
    ("original", "readable"),
    [
        pytest.param(json.dumps({"name": "山田太郎"}), '"山田太郎"', id="json-unicode-escapes"),
        pytest.param("\\xe5\\xb1\\xb1\\xe7\\x94\\xb0", "山田", id="hex-byte-escapes"),
        pytest.param('"hr/\\345\\211\\215\\347\\224\\260.jpg"', "前田", id="octal-escapes"),
        pytest.param("email=taro%40example.jp", "taro@example.jp", id="percent"),
        pytest.param("name=%96%D8%91%BA%20%90%5E%97%9D%8Eq", "木村 真理子",
                     id="percent-shift-jis"),
        pytest.param("cardholder=LUCAS+FERREIRA&x=%41", "LUCAS FERREIRA", id="form-plus"),
        pytest.param("&#23665;&#x7530; &commat;", "山田 @", id="html-references"),
        pytest.param("=E5=B1=B1=E7=94=B0 san", "山田", id="quoted-printable"),
        pytest.param("VALUES (0xE6B1A0E794B0,'x')", "池田", id="sql-hex-literal"),
        pytest.param("t=" + base64.urlsafe_b64encode(b'{"tel": "070-4160-9114"}').decode()
                     .rstrip("="), "070-4160-9114", id="base64url-after-equals"),
        pytest.param("-EncodedCommand " + base64.b64encode(
            "net use x /user:a Secr3t!".encode("utf-16-le")).decode(), "Secr3t!",
            id="base64-utf16-powershell"),
        pytest.param("Decode this ROT13: Lhxv Gnanxn", "Yuki Tanaka", id="rot13-when-told"),
        pytest.param("逆から読んで: 4226-3038-090", "090-8303-6224", id="reversed-when-told"),
    ],
)
def test_encoded_stretches_are_read(original: str, readable: str) -> None:
    assert any(readable in view for view in decoded(original))


def test_plain_text_has_no_decoded_view() -> None:
    for text in ("Summarise the Q3 release notes.", "50% off, 100% sure",
                 "internationalization and localisation", "git sha 3f5a2c9e1b7d4f60a8c2",
                 "本日の会議は15時からです。"):
        assert decoded(text) == []


def test_a_finding_in_a_decoded_view_maps_to_the_encoded_characters() -> None:
    encoded = urllib.parse.quote("taro@example.jp")
    text = f"GET /u?email={encoded} 200"
    view = canonicalize(text).views[1]
    at = view.text.index("taro@example.jp")
    start, end = view.to_original(at, at + len("taro@example.jp"))
    assert text[start:end] == encoded


def test_layers_decode_nested_encodings_and_stop_at_the_bound() -> None:
    once = base64.b64encode(json.dumps({"tel": "090-1234-5678"}).encode()).decode()
    twice = base64.b64encode(once.encode()).decode()
    assert any("090-1234-5678" in v for v in decoded(twice))
    deep = "taro@example.jp"
    for _ in range(MAX_DEPTH + 2):
        deep = urllib.parse.quote(deep, safe="")
    flags = canonicalize(deep).flags
    assert [f.entity_type for f in flags] == ["CONTENT_ENCODED"]


def test_data_urls_anywhere_are_flagged_by_type() -> None:
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(40)).decode()
    text = (f"![a](data:image/png;base64,{png}) and <audio src=' data:audio/wav;BASE64,AAAA'>"
            " and data:application/pdf;base64,JVBERi0x")
    kinds = sorted(f.entity_type for f in canonicalize(text).flags)
    assert kinds == ["CONTENT_AUDIO", "CONTENT_FILE", "CONTENT_IMAGE"]
    # A text payload is decoded, not flagged.
    plain = "see data:text/plain;base64," + base64.b64encode(b"call 090-1234-5678").decode()
    assert canonicalize(plain).flags == ()
    assert any("090-1234-5678" in v for v in decoded(plain))


def test_binary_base64_is_a_file_only_when_long() -> None:
    binary = base64.b64encode(bytes(range(256)) * 4).decode()
    assert len(binary) >= BINARY_MIN_CHARS
    assert [f.entity_type for f in canonicalize(f"blob {binary}").flags] == ["CONTENT_FILE"]
    short_hash = base64.b64encode(bytes(range(32))).decode()
    assert canonicalize(f"sha256 {short_hash}").flags == ()
