"""A coverage-guided fuzz target (atheris, libFuzzer) for the request parser and text extraction.

    .venv/bin/python bench/fuzz.py [--seeds DIR] [libFuzzer flags: -runs=N -max_total_time=S
                                    -max_len=N] [CORPUS_DIR …]

Each input is what a client sends: its first byte picks the endpoint, the rest is the body.
The invariants are those of the hypothesis tests (``tests/test_fuzz_*.py``), whose checks this
reuses: ``parse_bytes`` accepts a body whole or refuses it with Sekisho's own 4xx, never another
exception; an accepted body, as each upstream would be sent it, is strict JSON that encodes as
UTF-8; and every key, string and identifier-length number each upstream would be sent was
inspected, or is one of the documented exceptions (API words at the schema's positions, flagged
non-text, token ids). A violation raises, and libFuzzer saves the input as ``crash-…``.

``--seeds DIR`` writes the labelled corpus's request bodies into DIR first (one file per
request and endpoint) and fuzzes from them. ``tests/test_fuzz_target.py`` runs a few thousand
inputs in the suite; for a real campaign give it minutes (``-max_total_time=600``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

# Coverage of Sekisho's own code only (instrumenting aiohttp, pydantic and the rest slows every
# input tenfold and guides the fuzzer nowhere useful).
with atheris.instrument_imports(include=["proxy"]):
    from proxy.errors import ProxyError
    from proxy.extraction import extract
    from proxy.parsing import parse_bytes
    from proxy.transform import map_model, with_usage
    from proxy.values import Endpoint, Route

from test_fuzz_extraction import (  # noqa: E402
    KNOWN_MODELS,
    LOCAL_MODEL,
    SETTINGS,
    assert_nothing_escapes,
    assert_segments_point_at_their_values,
)

ENDPOINTS = list(Endpoint)


def check(data: bytes) -> None:
    if not data:
        return
    endpoint = ENDPOINTS[data[0] % len(ENDPOINTS)]
    try:
        body = parse_bytes(data[1:], endpoint, SETTINGS.limits)
    except ProxyError as err:
        assert 400 <= err.status < 500, err
        return
    segments, flags = extract(body, known_models=KNOWN_MODELS)
    assert_segments_point_at_their_values(body, segments)
    assert_nothing_escapes(body, segments, flags)
    for route in (Route.CLOUD, Route.LOCAL):
        forwarded = with_usage(map_model(body, route, SETTINGS, LOCAL_MODEL))
        json.dumps(forwarded, ensure_ascii=False, allow_nan=False).encode("utf-8")
        assert_nothing_escapes(forwarded, segments, flags)


def write_seeds(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    chat = ENDPOINTS.index(Endpoint.CHAT)
    for path in sorted((ROOT / "tests" / "detection" / "corpus").glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            if line.strip():
                request = json.dumps(json.loads(line)["request"], ensure_ascii=False)
                (directory / f"{path.stem}-{n}").write_bytes(bytes([chat]) + request.encode())


def main() -> None:
    argv = list(sys.argv)
    if "--seeds" in argv:
        i = argv.index("--seeds")
        seeds = Path(argv[i + 1])
        del argv[i:i + 2]
        write_seeds(seeds)
        argv.append(str(seeds))
    atheris.Setup(argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
