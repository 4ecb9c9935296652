"""Recognizers for credentials: vendor API keys, JWTs, private keys, passwords, opaque tokens.

A credential pasted into a prompt is worth more to an attacker than most personal data, and it
is usually self-identifying: vendors put a fixed prefix on their keys precisely so scanners can
find them. Those are reported without context. Opaque values (an AWS secret access key, a
password, a random token) are reported only when a name or label says what they are. Values that
are obviously placeholders (``sk-...``, ``<your-key>``, ``xxxx``, AWS's documented ``EXAMPLE``
keys) are not credentials and are not reported.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import ClassVar

from proxy.detection import quickre
from proxy.detection.recognizers.base import Hit, PatternRecognizer, context_before

# Markers of documentation or template values rather than live credentials.
_PLACEHOLDER = quickre.compile(
    r"x{4,}|\*{3,}|\.{3}|…|<[^>]*>|\$\{|\{\{|your[_-]?|example|placeholder|redacted|dummy"
    r"|replace[_-]?me|insert[_-]?here|0{8,}",
    re.IGNORECASE,
)


def looks_like_placeholder(value: str) -> bool:
    """Whether a key-shaped value is a template (``sk-xxxx…``, ``<your-key>``), not a secret."""
    return _PLACEHOLDER.search(value) is not None or len(set(value)) < 6


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# ---------------------------------------------------------------------------------------------
# Vendor keys with a fixed prefix

_KEY_START = r"(?<![A-Za-z0-9_-])"
_KEY_END = r"(?![A-Za-z0-9_-])"


class _PrefixedKeyRecognizer(PatternRecognizer):
    """A key recognised by its vendor prefix; the body must not be a placeholder."""

    PATTERN: ClassVar[re.Pattern[str]]
    SCORE: ClassVar[float] = 0.95
    # Group whose text is checked for placeholders (0 = the whole match).
    BODY_GROUP: ClassVar[int] = 0

    def accept(self, body: str) -> bool:
        """Whether the key body looks real; the default only rules out placeholders."""
        return not looks_like_placeholder(body)

    def find(self, text: str) -> Iterator[Hit]:
        entity = self.ENTITIES[0]
        for m in self.PATTERN.finditer(text):
            if self.accept(m.group(self.BODY_GROUP)):
                yield Hit(entity, m.start(), m.end(), self.SCORE, entity.lower())


class AnthropicKeyRecognizer(_PrefixedKeyRecognizer):
    """Anthropic API keys: ``sk-ant-api03-…`` / ``sk-ant-admin01-…``."""

    ENTITIES = ("SECRET_ANTHROPIC_KEY",)
    GATE = ("sk-ant-",)
    CONTEXT = ("anthropic", "api key", "x-api-key", "claude")
    PATTERN = re.compile(_KEY_START + r"sk-ant-(?:[a-z]+\d{2}-)?([A-Za-z0-9_-]{20,})" + _KEY_END)
    BODY_GROUP = 1


class OpenAIKeyRecognizer(_PrefixedKeyRecognizer):
    """OpenAI API keys: legacy ``sk-`` + 48, and ``sk-proj-``/``sk-svcacct-``/``sk-admin-``.

    The body must mix upper case, lower case and digits, as generated keys do, so a kebab-case
    identifier that happens to start with ``sk-`` is not a key.
    """

    ENTITIES = ("SECRET_OPENAI_KEY",)
    GATE = ("sk-",)
    CONTEXT = ("openai", "api key", "OPENAI_API_KEY", "bearer")
    SCORE = 0.9
    PATTERN = re.compile(
        _KEY_START + r"sk-(?!ant-)(?:(?:proj|svcacct|admin|None)-)?([A-Za-z0-9_-]{20,})" + _KEY_END
    )
    BODY_GROUP = 1

    def accept(self, body: str) -> bool:
        mixed = (
            any(c.isupper() for c in body)
            and any(c.islower() for c in body)
            and any(c.isdigit() for c in body)
        )
        return mixed and not looks_like_placeholder(body)


class GitHubTokenRecognizer(_PrefixedKeyRecognizer):
    """GitHub tokens: classic ``ghp_/gho_/ghu_/ghs_/ghr_`` + 36, fine-grained ``github_pat_``."""

    ENTITIES = ("SECRET_GITHUB_TOKEN",)
    GATE = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_")
    CONTEXT = ("github", "token", "GITHUB_TOKEN", "GH_TOKEN")
    PATTERN = re.compile(
        _KEY_START
        + r"(?:gh[pousr]_([A-Za-z0-9]{36,255})|github_pat_([A-Za-z0-9_]{22,255}))"
        + _KEY_END
    )

    def find(self, text: str) -> Iterator[Hit]:
        for m in self.PATTERN.finditer(text):
            if not looks_like_placeholder(m.group(1) or m.group(2)):
                yield Hit("SECRET_GITHUB_TOKEN", m.start(), m.end(), self.SCORE, "github_token")


class SlackTokenRecognizer(_PrefixedKeyRecognizer):
    """Slack bot/user/app tokens (``xoxb-``, ``xoxp-``, ``xoxa-``, ``xoxr-``, ``xapp-``) and
    incoming-webhook URLs (whoever has the URL can post to the channel)."""

    ENTITIES = ("SECRET_SLACK_TOKEN",)
    GATE = ("xox", "xapp-", "hooks.slack.com")
    CONTEXT = ("slack", "token", "webhook", "SLACK_BOT_TOKEN")
    PATTERN = re.compile(
        _KEY_START + r"(?:xox[abposr]-|xapp-)([A-Za-z0-9-]{10,250})" + _KEY_END
        + r"|https?://hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]{20,})"
    )

    def find(self, text: str) -> Iterator[Hit]:
        for m in self.PATTERN.finditer(text):
            body = m.group(1) or m.group(2)
            if not looks_like_placeholder(body):
                rule = "slack_webhook" if m.group(2) else "slack_token"
                yield Hit("SECRET_SLACK_TOKEN", m.start(), m.end(), self.SCORE, rule)


class GoogleApiKeyRecognizer(_PrefixedKeyRecognizer):
    """Google API keys: ``AIza`` + 35 characters."""

    ENTITIES = ("SECRET_GOOGLE_API_KEY",)
    GATE = ("aiza",)
    CONTEXT = ("google", "api key", "key=", "GOOGLE_API_KEY")
    SCORE = 0.9
    PATTERN = re.compile(_KEY_START + r"AIza([0-9A-Za-z_-]{35})" + _KEY_END)
    BODY_GROUP = 1


_AWS_SECRET_NAME = (
    r"(?:aws)?[_.-]?secret[_.-]?(?:access)?[_.-]?key(?:[_.-]?id)?|SecretAccessKey"
)


class AwsKeyRecognizer(PatternRecognizer):
    """AWS access key ids (``AKIA``/``ASIA`` + 16) and secret access keys.

    A secret access key is 40 characters of base64 with no prefix, so it is reported only when
    it is assigned to a name like ``aws_secret_access_key`` (config, env, JSON, code).
    """

    ENTITIES = ("SECRET_AWS_KEY",)
    GATE = ("akia", "asia", "secret")
    CONTEXT = ("aws", "aws_access_key_id", "aws_secret_access_key", "access key", "secret key")
    SCORE_KEY_ID: ClassVar[float] = 0.9
    SCORE_SECRET: ClassVar[float] = 0.9
    _KEY_ID = re.compile(r"A(?<![A-Za-z0-9]A)(?:KIA|SIA)[A-Z0-9]{16}(?![A-Za-z0-9])")
    SECRET: ClassVar[re.Pattern[str]] = re.compile(
        r"(?i:" + _AWS_SECRET_NAME + r")[\"']?[ \t]*(?:=>|[:=])[ \t]*[\"']?"
        r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
    )

    def find(self, text: str) -> Iterator[Hit]:
        for m in self._KEY_ID.finditer(text):
            if not looks_like_placeholder(m.group()):
                yield Hit("SECRET_AWS_KEY", m.start(), m.end(), self.SCORE_KEY_ID, "aws_key_id")
        for m in self.SECRET.finditer(text):
            value = m.group(1)
            has_classes = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
            if has_classes and not looks_like_placeholder(value):
                yield Hit("SECRET_AWS_KEY", m.start(1), m.end(1), self.SCORE_SECRET,
                          "aws_secret_access_key", True)


# Every other vendor that prefixes its keys: (rule, the literal every key of it contains,
# pattern). The prefixes are the vendors' own documented formats; the body checks keep
# kebab-case identifiers and placeholders out. Each pattern runs only on a text holding its
# literal, so thirty vendors cost thirty substring tests on a text that has none of them.
# They are reported as SECRET_TOKEN, the generic credential type.
_VENDOR_KEYS: tuple[tuple[str, str, str], ...] = (
    ("sendgrid_api_key", "SG.", r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
    ("stripe_secret_key", "k_", r"(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{20,247}"),
    ("stripe_webhook_secret", "whsec_", r"whsec_[0-9A-Za-z]{24,}"),
    ("twilio_api_key", "SK", r"SK[0-9a-f]{32}"),
    ("vault_token", "hv", r"hv[sbr]\.[A-Za-z0-9_-]{24,}"),
    ("npm_token", "npm_", r"npm_[A-Za-z0-9]{36}"),
    ("pypi_token", "pypi-", r"pypi-AgE[A-Za-z0-9_-]{50,}"),
    ("gitlab_token", "gl", r"gl(?:pat|dt|rt|ptt|ft|cbt|oas)-[A-Za-z0-9_-]{20,}"),
    ("huggingface_token", "hf_", r"hf_[A-Za-z]{34}"),
    ("digitalocean_token", "_v1_", r"do[opr]_v1_[a-f0-9]{64}"),
    ("shopify_token", "shp", r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}"),
    ("square_token", "sq0", r"sq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}"),
    ("mailgun_key", "key-", r"key-[0-9a-f]{32}"),
    ("mailchimp_key", "-us", r"[0-9a-f]{32}-us[0-9]{1,2}"),
    ("atlassian_token", "ATATT3", r"ATATT3[A-Za-z0-9_=-]{100,}"),
    ("databricks_token", "dapi", r"dapi[0-9a-f]{32}(?:-\d)?"),
    ("grafana_token", "gl", r"gl(?:sa|c)_[A-Za-z0-9+/=_]{32,}"),
    ("sentry_token", "sntr", r"sntr[ysu]_[A-Za-z0-9+/=_]{50,}"),
    ("linear_key", "lin_api_", r"lin_api_[A-Za-z0-9]{40}"),
    ("telegram_bot_token", ":AA", r"\d{8,10}:AA[A-Za-z0-9_-]{33}"),
    ("google_oauth_token", "ya29.", r"ya29\.[0-9A-Za-z_-]{20,}"),
    ("google_oauth_secret", "GOCSPX-", r"GOCSPX-[A-Za-z0-9_-]{28}"),
    ("azure_client_secret", "Q~", r"[A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34}"),
    ("heroku_key", "HRKU-", r"HRKU-[A-Za-z0-9_-]{60}"),
    ("postman_key", "PMAK-", r"PMAK-[0-9a-f]{24}-[0-9a-f]{34}"),
    ("newrelic_key", "NRAK-", r"NRAK-[A-Z0-9]{27}"),
    ("dropbox_token", "sl.", r"sl\.[A-Za-z0-9_-]{130,}"),
    ("notion_token", "secret_", r"secret_[A-Za-z0-9]{43}"),
    ("notion_token", "ntn_", r"ntn_[0-9A-Za-z]{40,}"),
    ("groq_key", "gsk_", r"gsk_[A-Za-z0-9]{52}"),
    ("replicate_token", "r8_", r"r8_[A-Za-z0-9]{37}"),
    ("perplexity_key", "pplx-", r"pplx-[A-Za-z0-9]{48}"),
    ("xai_key", "xai-", r"xai-[A-Za-z0-9]{80}"),
)
_VENDOR_PATTERNS = tuple(
    (rule, literal, re.compile(_KEY_START + pattern + _KEY_END))
    for rule, literal, pattern in _VENDOR_KEYS
)
_SIGNED_GATE = ("sig=", "signature=", "accountkey=", "sharedaccess", "security-token=")
# Credentials in the query of a signed URL or in a connection string: whoever has them has the
# resource (Azure SAS ``sig=``, S3 and GCS presigned URLs, storage account keys).
_SIGNED = quickre.compile(
    r"(?:(?<=[?&;])(?:sig|signature|X-Amz-Signature|X-Goog-Signature|Signature|X-Amz-Security-Token)"
    r"|(?<![A-Za-z])(?:AccountKey|SharedAccessKey|SharedAccessSignature))"
    r"=(?P<value>[A-Za-z0-9%+/=_.-]{16,})",
    re.IGNORECASE,
)


class VendorKeyRecognizer(PatternRecognizer):
    """Keys of the many vendors that prefix theirs (SendGrid, Stripe, Vault, npm, PyPI, GitLab,
    Hugging Face, …) and the signatures of signed URLs and connection strings."""

    ENTITIES = ("SECRET_TOKEN",)
    GATE = ("sg.", "sk_", "rk_", "whsec_", "sk", "hvs.", "hvb.", "hvr.", "npm_", "pypi-", "gl",
            "hf_", "do", "shp", "sq0", "key-", "-us", "atatt3", "dapi", "sntr", "lin_api_", ":aa",
            "ya29.", "gocspx-", "q~", "hrku-", "pmak-", "nrak-", "sl.", "secret_", "ntn_",
            "gsk_", "r8_", "pplx-", "xai-", "sig=", "signature=", "accountkey=",
            "sharedaccess", "security-token=")
    CONTEXT = ("key", "token", "secret", "api")
    SCORE: ClassVar[float] = 0.9
    SCORE_SIGNED: ClassVar[float] = 0.8

    def find(self, text: str) -> Iterator[Hit]:
        for rule, literal, pattern in _VENDOR_PATTERNS:
            if literal not in text:
                continue
            for m in pattern.finditer(text):
                if not looks_like_placeholder(m.group()):
                    yield Hit("SECRET_TOKEN", m.start(), m.end(), self.SCORE, rule)
        lowered = text.lower()
        if not any(word in lowered for word in _SIGNED_GATE):
            return
        for m in _SIGNED.finditer(text):
            value = m.group("value")
            if not looks_like_placeholder(value) and len(set(value)) >= 8:
                yield Hit("SECRET_TOKEN", m.start("value"), m.end("value"), self.SCORE_SIGNED,
                          "signed_url_or_account_key", True)


# ---------------------------------------------------------------------------------------------
# Structured secrets


def _b64url_json(part: str) -> object:
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


class JwtRecognizer(PatternRecognizer):
    """JSON Web Tokens: three base64url parts whose header decodes to JSON with ``alg``.

    The header check keeps dotted base64-looking strings (hashes, file names) out. Unsigned
    tokens (``alg: none``, empty signature) still carry claims, so they are reported too.
    """

    ENTITIES = ("SECRET_JWT",)
    GATE = ("eyj",)
    CONTEXT = ("jwt", "bearer", "token", "authorization", "トークン")
    SCORE: ClassVar[float] = 0.95
    _JWT = re.compile(
        r"(?<![A-Za-z0-9_-])(eyJ[A-Za-z0-9_-]{10,})\.([A-Za-z0-9_-]{4,})\.([A-Za-z0-9_-]*)"
        r"(?![A-Za-z0-9_-])"
    )

    def find(self, text: str) -> Iterator[Hit]:
        for m in self._JWT.finditer(text):
            try:
                header = _b64url_json(m.group(1))
            except (ValueError, binascii.Error, UnicodeDecodeError):
                continue
            if isinstance(header, dict) and "alg" in header:
                yield Hit("SECRET_JWT", m.start(), m.end(), self.SCORE, "jwt_header")


_PEM_LABEL = r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?"
_PEM_BEGIN = quickre.compile(r"-----BEGIN " + _PEM_LABEL + r"-----")
_PEM_END = quickre.compile(r"-----END " + _PEM_LABEL + r"-----")
# Truncated: header lines and base64 lines, up to a blank line or other text.
_PEM_TRUNCATED = quickre.compile(
    r"(?:(?:\r?\n|\\n)[ \t]*(?:(?:Proc-Type|DEK-Info):[^\n\\]*|[A-Za-z0-9+/=]{4,}))+"
)


def pem_blocks(text: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, truncated) of every PEM private key block, BEGIN line through END line.

    A block runs from its BEGIN line to the first END line after it; with no END line after
    it (a truncated paste), over the header and base64 lines that follow. One lazy pattern
    (BEGIN, anything, END) searched the rest of the text for an END line from every BEGIN line:
    quadratic in a text of BEGIN lines without END lines. Here the END line found for one block
    serves every BEGIN line before it, so the text is searched for END lines once.
    """
    end: re.Match[str] | None = None
    searched = -1  # ``end`` is the first END line at or after this position (None: there is none)
    pos = 0
    while (begin := _PEM_BEGIN.search(text, pos)) is not None:
        if not (0 <= searched <= begin.end() and (end is None or end.start() >= begin.end())):
            end = _PEM_END.search(text, begin.end())
            searched = begin.end()
        if end is not None:
            yield begin.start(), end.end(), False
            pos = end.end()
        elif (rest := _PEM_TRUNCATED.match(text, begin.end())) is not None:
            yield begin.start(), rest.end(), True
            pos = rest.end()
        else:
            pos = begin.start() + 1


class PrivateKeyRecognizer(PatternRecognizer):
    """PEM private keys: the whole block, BEGIN line through END line.

    A block cut off before its END line (a truncated paste) is still reported, from BEGIN to the
    last base64 line before a blank line or other text, because what was pasted is still key
    material. Newlines
    escaped inside JSON strings (``\\n``) are covered by the same pattern.
    """

    ENTITIES = ("SECRET_PRIVATE_KEY",)
    GATE = ("private key",)
    CONTEXT = ("private key", "秘密鍵", "pem", "ssh")
    SCORE: ClassVar[float] = 1.0
    SCORE_TRUNCATED: ClassVar[float] = 0.9

    def find(self, text: str) -> Iterator[Hit]:
        for start, end, truncated in pem_blocks(text):
            if truncated:
                yield Hit("SECRET_PRIVATE_KEY", start, end, self.SCORE_TRUNCATED,
                          "pem_block_truncated")
            else:
                yield Hit("SECRET_PRIVATE_KEY", start, end, self.SCORE, "pem_block")


# ---------------------------------------------------------------------------------------------
# Passwords

# A name that ends in a password word: password, DB_PASSWORD, spring.datasource.password, pwd,
# PGPASSWORD, "passphrase", REDIS_PASS, smtp.pass. Names that merely start with one
# (password_policy, passenger) do not count.
# The prefix is bounded: an unbounded lazy run would make "1-1-1-…" quadratic.
_PASSWORD_NAME = (
    r"[A-Za-z0-9_.-]{0,40}?(?:password|passwd|passphrase|passcode|pwd|pw)"
    r"|(?:[A-Za-z0-9_.-]{0,40}?[_.-])?pass"
    r"|(?:wpa[23]?|wi-?fi|wlan|network|psk)[_ -]?(?:key|passphrase|psk)"
)
_JA_PASSWORD_NAME = (
    r"パスワード|暗証番号|パスコード|パスフレーズ|解錠番号|解除コード|ドアコード|暗号化キー"
    r"|(?:WPA[23]?|Wi-?Fi|無線LAN|ネットワーク)[ ]?(?:の)?(?:キー|パスワード)|セキュリティキー"
)
# Codes told in prose: "the side door keypad code is 4-4-0-9", "alarm code: 2 7 1 8".
_CODE_WORD = (r"(?:door|keypad|alarm|gate|lock|safe|entry|access|garage|locker|security|"
              r"unlock|lockbox|building)[ \t]+(?:code|pin|combination)")
_QUOTED = (
    r"\"(?P<dq>[^\"\n]{1,200})\"|'(?P<sq>[^'\n]{1,200})'|「(?P<jq>[^」\n]{1,200})」"
    r"|`(?P<bq>[^`\n]{1,200})`"
)
# Printable ASCII up to a space, quote or a separator of connection strings and query strings
# (Password=abc;User Id=x, pass=abc&user=x).
_BARE = r"(?P<bare>(?:(?![\"'`,;&<>])[!-~]){1,200})"
# A code read out digit by digit: "4-4-0-9", "2 7 1 8".
_DIGITS = r"(?P<digits>\d(?:[ \-]\d){3,11})(?![0-9A-Za-z])"

_PASSWORD = quickre.compile(
    rf"""
    (?:
        # config / code / JSON: password=..., "password": "...", PASSWORD: ...
        (?<![A-Za-z0-9_])["']?(?P<name>(?i:{_PASSWORD_NAME}))["']?
            [ \t]*(?::=|=>|->|→|[:=：])[ \t]*
      | # command line: --password hunter2, -password hunter2
        (?<![A-Za-z0-9_-])--?(?i:password|passwd|pass|pwd)[ \t]+(?=[^- \t])
      | # prose: "the password is hunter2", "my PIN is 1234", "the pw is x", "door code is 4409"
        (?P<prose>(?<![A-Za-z0-9_])(?P<word>(?i:password|passphrase|passcode|pin|pwd?|passwd
            |{_CODE_WORD}|(?:wi-?fi|wpa[23]?|network)[ \t]+(?:password|key|passphrase)))
            (?:[ \t]+(?i:for|of|on|to)[ \t]+[^.\n:=]{{1,40}}?)?  # "password for the Osaka HMI is"
            (?:[ \t]+(?i:is|was)[ \t]+|[ \t]*[:：][ \t]*))
      | # Japanese: パスワード：abc, パスワードは「abc」です
        (?P<ja>(?:{_JA_PASSWORD_NAME})[ \u3000]*(?:[:：=]|は|が|を|として|→)?[ \u3000]*)
    )
    (?:{_QUOTED}|{_DIGITS}|{_BARE})
    """,
    re.VERBOSE,
)
# Values that are code, types, variables or prose rather than a password.
_NOT_A_PASSWORD = frozenset(
    {
        "str", "string", "int", "bytes", "secretstr", "optional", "none", "null", "nil",
        "undefined", "true", "false", "required", "incorrect", "invalid", "wrong", "correct",
        "missing", "empty", "expired", "set", "unset", "not", "too", "the", "and", "was",
        "being", "changed", "reset", "updated", "stored", "hashed", "encrypted", "protected",
        "field", "input", "type", "value", "here", "below", "above", "same", "different",
        "very", "must", "should", "will", "can", "for", "with", "from", "manager", "policy",
        "length", "hash", "text", "secret", "hidden", "char", "varchar", "any", "object",
        "bool", "boolean", "also", "only", "still", "now", "never", "always", "weak", "strong",
    }
)
_CODE_VALUE = quickre.compile(
    r"^(?:\$|%|\{|\[|!(?:vault|env|secret|ref)|getenv|os\.|process\.env|env\()"
    r"|^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$|^[A-Za-z_]\w*[(\[]",
    re.IGNORECASE,
)
# scheme://user:password@host — the password part of a URL's userinfo.
_URL_CREDENTIALS = quickre.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{1,20}://[^\s:/@]{1,100}:([^\s:/@]{1,200})@")
# Documentation's stand-ins: postgres://user:password@localhost.
_URL_PLACEHOLDERS = frozenset({"password", "pass", "passwd", "pwd", "secret"})
_TRAILING_PUNCT = ".,;:!?)]}"
_OPENING = {")": "(", "]": "[", "}": "{"}
_MIN_PASSWORD_LENGTH = 3


class PasswordRecognizer(PatternRecognizer):
    """Password assignments in code, config and prose, in English and Japanese.

    The span is the value only, so redaction keeps ``password=`` and the reader still sees what
    was removed. Values that are code (``os.environ[...]``, ``self.password``, ``password=
    password``), types (``password: str``), template variables (``${DB_PASSWORD}``) or prose
    ("password is required") are not passwords. ``changeme`` is: weak, but real.
    """

    ENTITIES = ("SECRET_PASSWORD",)
    GATE = ("pass", "pwd", "pw", "pin", "パスワード", "暗証番号", "パスコード", "パスフレーズ",
            "://", "login", "credential", "creds", "sign", "ログイン", "認証情報", "アカウント情報",
            "door", "keypad", "alarm", "gate", "lock", "safe", "entry", "access", "garage",
            "security", "unlock", "building", "wi-fi", "wifi", "wpa", "wlan", "network", "psk",
            "解錠", "解除コード", "ドアコード", "暗号化キー", "無線lan", "ネットワーク",
            "セキュリティ",
            "-u", "--user", "net use", "mysql", "sshpass", "cvv", "cvc", "csc", "answer", "答え",
            "secret>", "key>", "token>")
    # The cheaper families of the patterns below, each run only when its words are there.
    _CLI_GATE = ("-u", "--user", "net use", "mysql", "sshpass")
    _CARD_SECRET_GATE = ("pin", "cvv", "cvc", "csc", "security", "answer", "答え", "セキュリティ")
    CONTEXT = ("password", "passwd", "pwd", "パスワード", "暗証番号", "passphrase")
    SCORE_ASSIGNED: ClassVar[float] = 0.8
    SCORE_QUOTED_PROSE: ClassVar[float] = 0.75
    SCORE_PROSE: ClassVar[float] = 0.6

    @staticmethod
    def _looks_chosen(m: re.Match[str], value: str) -> bool:
        """In English prose a bare lower-case word after "password is" is usually just English
        ("the password is long"); a chosen password has a digit, a capital or a symbol. A PIN
        or a door code is digits."""
        word = m.group("word").lower()
        if word == "pin" or word.endswith(("code", "pin", "combination")):
            return value.replace("-", "").replace(" ", "").isdigit()
        return not value.isalpha() or not value.islower()

    def find(self, text: str) -> Iterator[Hit]:
        for m in _URL_CREDENTIALS.finditer(text):
            value = m.group(1)
            if value.lower() not in _URL_PLACEHOLDERS and not _PLACEHOLDER.search(value):
                yield Hit("SECRET_PASSWORD", m.start(1), m.end(1), self.SCORE_ASSIGNED,
                          "password_in_url", True)
        for m in _PASSWORD.finditer(text):
            group = next(g for g in ("dq", "sq", "jq", "bq", "digits", "bare")
                         if m.group(g) is not None)
            start, end = m.start(group), m.end(group)
            value = m.group(group)
            labelled = text[m.start() : start]
            in_prose = m.group("prose") is not None or (
                m.group("ja") is not None and not any(c in labelled for c in ":：=")
            )
            if group == "bare":
                # A sentence ends the value ("the password is hunter2."); in code a closing
                # bracket does ("connect(password=hunter2)") unless the value opened it.
                stripped = value.rstrip(_TRAILING_PUNCT) if in_prose else value
                while stripped and stripped[-1] in ")]}" and _OPENING[stripped[-1]] not in stripped:
                    stripped = stripped[:-1]
                end -= len(value) - len(stripped)
                value = stripped
                if _CODE_VALUE.search(value):
                    continue
            name = m.group("name")
            if name is not None and value.lower() == name.lower():
                continue  # password=password: a variable passed on, in code
            if len(value.strip()) < _MIN_PASSWORD_LENGTH or value.lower() in _NOT_A_PASSWORD:
                continue
            if _PLACEHOLDER.search(value) or len(set(value)) < 2:
                continue
            if (m.group("word") is not None and group in ("bare", "digits")
                    and not self._looks_chosen(m, value)):
                continue
            if not in_prose:
                score, rule = self.SCORE_ASSIGNED, "password_assignment"
            elif group == "digits":
                score, rule = self.SCORE_PROSE, "code_read_out"
            elif group != "bare":
                score, rule = self.SCORE_QUOTED_PROSE, "password_quoted"
            else:
                score, rule = self.SCORE_PROSE, "password_prose"
            yield Hit("SECRET_PASSWORD", start, end, score, rule, True)
        lowered = text.lower()
        cli = any(word in lowered for word in self._CLI_GATE)
        card_secret = any(word in lowered for word in self._CARD_SECRET_GATE)
        for m in _CLI_CREDENTIALS.finditer(text) if cli else ():
            group = next(g for g in ("curl", "netuse", "netuse2", "mysql", "sshpass")
                         if m.group(g) is not None)
            value = m.group(group)
            if not _PLACEHOLDER.search(value) and not _CODE_VALUE.search(value):
                yield Hit("SECRET_PASSWORD", m.start(group), m.end(group), self.SCORE_ASSIGNED,
                          "command_line_password", True)
        for m in _CARD_SECRET.finditer(text) if card_secret else ():
            group = next(g for g in ("dq", "sq", "bare") if m.group(g) is not None)
            value = m.group(group)
            answer = "answer" in m.group("name").lower() or "答え" in m.group("name")
            if answer or value.isdigit() and 3 <= len(value) <= 8:
                if not _PLACEHOLDER.search(value) and len(set(value)) >= 2 - answer:
                    yield Hit("SECRET_PASSWORD", m.start(group), m.end(group),
                              self.SCORE_ASSIGNED, "pin_or_security_answer", True)
        for m in _XML_SECRET.finditer(text) if "</" in text else ():
            value = m.group("value")
            if _may_be_secret(value) and len(set(value)) >= 4:
                yield Hit("SECRET_PASSWORD", m.start("value"), m.end("value"),
                          self.SCORE_ASSIGNED, "xml_secret_element", True)
        # A value only prose sets off, so it must look chosen.
        for pattern, rule in ((_PASSWORD_SPACED, "password_word_then_value"),
                              (_LOGIN_PAIR, "login_user_slash_password")):
            for m in pattern.finditer(text):
                value = m.group("pw").rstrip(_TRAILING_PUNCT)
                if _may_be_secret(value) and _CHOSEN.search(value):
                    yield Hit("SECRET_PASSWORD", m.start("pw"), m.start("pw") + len(value),
                              self.SCORE_PROSE, rule, True)


# Passwords on a command line: curl -u user:pass, net use \\host /user:CORP\svc pass,
# mysql -pSecret, sshpass -p secret.
_CLI_CREDENTIALS = quickre.compile(
    r"(?<![\w-])(?:-u|--user)[ =]+[\"']?[^\s:\"']{1,64}:(?P<curl>[^\s\"']{3,128})"
    r"|\bnet[ \t]+use\b[^\n]{0,120}?/user:[^\s]{1,64}[ \t]+(?P<netuse>[^\s/;]{3,128})"
    r"|\bnet[ \t]+use[ \t]+\S+[ \t]+(?P<netuse2>[^\s/;*]{3,128})[ \t]+/user:"
    r"|\bmysql(?:dump|admin)?\b[^\n]{0,80}?[ \t]-p(?P<mysql>[^\s\-][^\s]{2,127})"
    r"|\bsshpass[ \t]+-p[ \t]*(?P<sshpass>[^\s]{3,128})",
    re.IGNORECASE,
)
# A card's PIN or security code, or the answer to a security question, under its label
# ("pin": "4821", cvv=372, security_answer: "ポチ").
_CARD_SECRET = quickre.compile(
    r"(?<![A-Za-z0-9_])[\"']?(?P<name>(?i:(?:[a-z0-9]{1,20}[_.-])?(?:pin|cvv2?|cvc2?|csc)"
    r"(?:[_-]?(?:code|no|number))?|(?:card[_ -]?)?security[_ -]?code"
    r"|(?:security|secret)[_ -]?(?:answer|question[_ -]?answer)"
    r"|秘密の質問の答え|セキュリティコード))"
    r"[\"']?[ \t]*(?::=|=>|[:=：])[ \t]*(?:\"(?P<dq>[^\"\n]{1,60})\"|'(?P<sq>[^'\n]{1,60})'"
    r"|(?P<bare>[0-9]{3,8})(?![0-9A-Za-z]))"
)


# "the admin login for staging is admin / Winter2024!Grafana", "ログイン情報：admin / Pa55word",
# "the usual login (plantops / Tr3atm3nt!2024)": a login or credentials word, then "user /
# password" (or user:password) within the sentence.
_LOGIN_PAIR = quickre.compile(
    r"(?i:\blogins?\b|\bcredentials?\b|\bcreds\b|\bsign[- ]?in\b|ログイン|認証情報|アカウント情報)"
    r"[^\n.。]{0,60}?(?:\bis\b|\bare\b|[:：=(（]|は)[ \t]*"
    r"(?P<user>[A-Za-z0-9_.@-]{1,64})[ \t]*[/:][ \t]*(?P<pw>[!-~]{1,128})"
)
# An XML element named for a password or a secret: Icecast's <source-password>…</…>, Tomcat's
# and Jenkins' <password>, <client-secret>, <apiKey>. The closing tag must match the opening.
_XML_SECRET = quickre.compile(
    r"<(?P<tag>[A-Za-z][\w.:-]{0,40}?(?i:password|passwd|passphrase|secret|api[-_]?key|token))>"
    r"[ \t]*(?P<value>[^<>\s][^<>\n]{0,199}?)[ \t]*</(?P=tag)>")
# The word and the value with only a blank between, as a list of credentials gives them
# ("user tanaka.h, password Lift#2024spring"); the value must look chosen.
_PASSWORD_SPACED = quickre.compile(
    r"(?<![A-Za-z0-9_-])(?i:password|passwd|passcode|pwd)[ \t]+(?P<pw>[!-~]{6,128})")
def _may_be_secret(value: str) -> bool:
    """A value long enough to be a password that is no prose word, placeholder or code."""
    return (len(value) >= 6 and value.lower() not in _NOT_A_PASSWORD
            and not _PLACEHOLDER.search(value) and not _CODE_VALUE.search(value))


# A chosen password mixes kinds of characters: a digit or a symbol, and a letter.
_CHOSEN = quickre.compile(r"(?=.*[A-Za-z])(?=.*[0-9!#$%&*+?@^_~-])")


# ---------------------------------------------------------------------------------------------
# Opaque tokens

# '=' only as base64 padding, so "api_key=AbC…" yields the value, not the name with it.
_TOKEN_CANDIDATE = quickre.compile(
    r"(?<![A-Za-z0-9_+/.-])[A-Za-z0-9_+/-]{20,512}={0,2}(?![A-Za-z0-9_+/=-]|\.[A-Za-z0-9_+/-])"
)
_SECRET_WORDS = quickre.compile(
    r"key|secret|token|auth|bearer|credential|認証|トークン|シークレット|鍵|キー", re.IGNORECASE
)
_UUID_SHAPE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_UUID = quickre.compile(_UUID_SHAPE)
# Shapes the vendor recognizers already report under their own, more precise names.
_VENDOR_PREFIX = quickre.compile(r"sk-|gh[pousr]_|github_pat_|xox[abposr]-|xapp-|AIza|AKIA|ASIA|eyJ"
                            r"|SG\.|[sr]k_(?:live|test)_|hv[sbr]\.|npm_|pypi-|glpat-|hf_")
_HEX = frozenset("0123456789abcdefABCDEF")
# Letter runs as a reader splits them: camelCase humps and SNAKE/kebab words.
_LETTER_CHUNK = quickre.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


# A shorter value (12 to 19 characters) assigned to a name that ends in a secret's word, in
# config, code, JSON or a log: client_secret=q7T2mZ9xW4kL8pR3, "api_key": "…", TOKEN: …. The
# assignment says what it is, as a password's name does; the value must still look random.
def _assigned_to(names: str) -> str:
    """A name that ends in one of ``names`` (in config, code, JSON or a log), an assignment's
    sign and an opening quote: what comes before an assigned value."""
    return (r"(?<![A-Za-z0-9_])[\"']?(?i:[A-Za-z0-9_.-]{0,40}?(?:" + names + r"))[\"']?[ \t]*"
            r"(?::=|=>|[:=])[ \t]*[\"']?")


_KEY_NAMES = (r"api[_-]?key|apikey|access[_-]?key|private[_-]?key|signing[_-]?key|"
              r"auth[_-]?key")
_ASSIGNED_SECRET = quickre.compile(
    _assigned_to(r"secret|token|" + _KEY_NAMES)
    + r"(?P<value>[A-Za-z0-9_+/~.-]{12,19}={0,2})(?![A-Za-z0-9_+/=~.-])"
)


# A UUID is an identifier — except where a name that ends in a key's or a secret's word is
# assigned it (not a bare "token", which request and trace ids are called): vendors issue keys
# as UUIDs (DeepL's, with its ":fx" suffix for the free plan; Heroku's).
_ASSIGNED_UUID = quickre.compile(
    _assigned_to(r"secret|auth[_-]?token|" + _KEY_NAMES)
    + r"(?:Bearer[ \t]+|DeepL-Auth-Key[ \t]+)?"
    r"(?P<value>" + _UUID_SHAPE + r"(?::[A-Za-z]{1,4})?)(?![A-Za-z0-9_-])"
)


class HighEntropyTokenRecognizer(PatternRecognizer):
    """Opaque high-entropy tokens (≥ 20 chars) within 40 characters after a secret word, and
    shorter ones (≥ 12) assigned to a name that ends in one (``_ASSIGNED_SECRET``).

    Entropy alone would flag every git SHA, UUID and base64 blob, so a key/secret/token/認証/
    トークン word must come first. UUIDs are identifiers, not secrets, and are reported only
    when a name ending in a secret's word is assigned one (``_ASSIGNED_UUID``);
    identifiers made of words (``get_secret_from_vault``) fail the word-length check. A short
    value cannot reach the long ones' entropy floor (16 distinct symbols hold 4 bits), so its
    floor is half a bit under the most its length can hold.
    """

    ENTITIES = ("SECRET_TOKEN",)
    GATE = ("key", "secret", "token", "auth", "bearer", "credential", "認証", "トークン",
            "シークレット", "鍵", "キー")
    CONTEXT = ("key", "secret", "token", "api_key", "認証", "トークン", "シークレット")
    SCORE: ClassVar[float] = 0.7
    MIN_ENTROPY: ClassVar[float] = 3.5
    MIN_ENTROPY_HEX: ClassVar[float] = 2.8

    MAX_MEAN_WORD: ClassVar[float] = 3.75

    @classmethod
    def is_high_entropy(cls, value: str, floor: float | None = None) -> bool:
        """Random-looking: two character classes, no run of words, enough entropy.

        Measured on random strings: the mean letter-chunk length of base62/base64 tokens of 20+
        characters stays under 3.6 (99th percentile), while identifiers built from words
        (``get_secret_from_vault_v2``, ``getSecretFromVault``) sit at 3.8 and above. Hex has
        only 16 symbols, hence its lower entropy floor (a 20-char random hex string: ~2.9 bits).
        """
        classes = (
            any(c.islower() for c in value)
            + any(c.isupper() for c in value)
            + any(c.isdigit() for c in value)
        )
        if classes < 2 or _UUID.fullmatch(value):
            return False
        chunks = [len(c) for c in _LETTER_CHUNK.findall(value)]
        if chunks and sum(chunks) / len(chunks) >= cls.MAX_MEAN_WORD:
            return False
        threshold = cls.MIN_ENTROPY_HEX if set(value) <= _HEX else cls.MIN_ENTROPY
        if floor is not None:
            threshold = min(threshold, floor)
        return shannon_entropy(value) >= threshold

    def find(self, text: str) -> Iterator[Hit]:
        claimed: list[tuple[int, int]] | None = None
        for m in _TOKEN_CANDIDATE.finditer(text):
            value = m.group()
            if _VENDOR_PREFIX.match(value) or looks_like_placeholder(value):
                continue
            if not self.is_high_entropy(value):
                continue
            if context_before(text, m.start(), _SECRET_WORDS, 40) is None:
                continue
            if claimed is None:
                # Key material the precise recognizers report under their own names.
                claimed = [(start, end) for start, end, _ in pem_blocks(text)]
                claimed += [k.span(1) for k in AwsKeyRecognizer.SECRET.finditer(text)]
            if any(s <= m.start() and m.end() <= e for s, e in claimed):
                continue
            yield Hit("SECRET_TOKEN", m.start(), m.end(), self.SCORE, "high_entropy_token", True)
        for m in _ASSIGNED_SECRET.finditer(text):
            value = m.group("value")
            if (_VENDOR_PREFIX.match(value) or looks_like_placeholder(value)
                    or not any(c.isdigit() for c in value)
                    or not self.is_high_entropy(value, math.log2(len(value)) - 0.5)):
                continue
            yield Hit("SECRET_TOKEN", m.start("value"), m.end("value"), self.SCORE,
                      "assigned_short_secret", True)
        for m in _ASSIGNED_UUID.finditer(text):
            digits = m.group("value").replace("-", "").lower()
            if not looks_like_placeholder(m.group("value")) and not any(
                    run in digits for run in ("01234567", "12345678", "abcdef")):
                yield Hit("SECRET_TOKEN", m.start("value"), m.end("value"), self.SCORE,
                          "assigned_uuid_secret", True)
