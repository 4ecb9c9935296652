"""Credential recognizers: tables of ``text → [(entity, start, end)]``.

Keys are generated at import from a seeded RNG and assembled from their prefixes, so this file
holds no string that a secret scanner would take for a live credential.
"""

from __future__ import annotations

import base64
import json
import random
import string

import pytest
from recognizer_cases import Span, detect, expect

from proxy.detection.recognizers.base import PatternRecognizer
from proxy.detection.recognizers.secrets import (
    AnthropicKeyRecognizer,
    AwsKeyRecognizer,
    GitHubTokenRecognizer,
    GoogleApiKeyRecognizer,
    HighEntropyTokenRecognizer,
    JwtRecognizer,
    OpenAIKeyRecognizer,
    PasswordRecognizer,
    PrivateKeyRecognizer,
    SlackTokenRecognizer,
    VendorKeyRecognizer,
    shannon_entropy,
)
from proxy.detection.registry import Registry

_rng = random.Random(20240412)
_B62 = string.ascii_letters + string.digits


def rand(n: int, alphabet: str = _B62) -> str:
    """Random characters using every class (lower, upper, digit) the alphabet has, as real
    generated keys do; a draw that misses one is redrawn."""
    classes = [c for c in (str.islower, str.isupper, str.isdigit) if any(map(c, alphabet))]
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        if all(any(map(c, value)) for c in classes):
            return value


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


OPENAI_PROJECT = "sk-" + "proj-" + rand(40) + "_" + rand(20)
OPENAI_LEGACY = "sk-" + rand(20) + "T3Blbk" + "FJ" + rand(20)
ANTHROPIC = "sk-" + "ant-" + "api03-" + rand(80, _B62 + "-_") + "AA"
GITHUB_CLASSIC = "gh" + "p_" + rand(36)
GITHUB_OAUTH = "gh" + "o_" + rand(36)
GITHUB_FINE = "github" + "_pat_" + "11" + rand(20) + "_" + rand(59)
SLACK_BOT = "xo" + "xb-" + "123456789012-" + "1234567890123-" + rand(24)
SLACK_USER = "xo" + "xp-" + "123456789012-" + "1234567890123-" + rand(32)
SLACK_WEBHOOK = (
    "https://hooks." + "slack.com/services/T" + rand(8) + "/B" + rand(8) + "/" + rand(24)
)
GOOGLE = "AI" + "za" + rand(35, _B62 + "-_")
AWS_KEY_ID = "AK" + "IA" + rand(16, string.ascii_uppercase + string.digits)
AWS_SESSION_KEY_ID = "AS" + "IA" + rand(16, string.ascii_uppercase + string.digits)
AWS_SECRET = rand(40, _B62 + "/+")
JWT = ".".join(
    [
        b64url({"alg": "HS256", "typ": "JWT"}),
        b64url({"sub": "1234567890", "name": "Taro Yamada", "iat": 1516239022}),
        rand(43, _B62 + "-_"),
    ]
)
TOKEN_HEX = rand(64, "0123456789abcdef")
TOKEN_B64 = rand(32, _B62 + "+/")
PEM_BODY = "\n".join(rand(64, _B62 + "+/") for _ in range(4)) + "\n" + rand(20, _B62 + "+/") + "=="
PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\n" + PEM_BODY + "\n-----END RSA PRIVATE KEY-----"






def detect_all(text: str) -> list[Span]:
    """Every credential recognizer together, to check they do not double-report one value."""
    found: list[Span] = []
    for recognizer in Registry().build():
        if type(recognizer).__module__ == "proxy.detection.recognizers.secrets":
            assert isinstance(recognizer, PatternRecognizer)
            found += detect(recognizer, text)
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# Vendor keys

VENDOR_FOUND = [
    (OpenAIKeyRecognizer, f"OPENAI_API_KEY={OPENAI_PROJECT}", OPENAI_PROJECT),
    (OpenAIKeyRecognizer, f'client = OpenAI(api_key="{OPENAI_LEGACY}")', OPENAI_LEGACY),
    (OpenAIKeyRecognizer, f"このキー{OPENAI_PROJECT}を使って", OPENAI_PROJECT),
    (AnthropicKeyRecognizer, f'export ANTHROPIC_API_KEY="{ANTHROPIC}"', ANTHROPIC),
    (AnthropicKeyRecognizer, f"x-api-key: {ANTHROPIC}", ANTHROPIC),
    (GitHubTokenRecognizer, f"git clone https://{GITHUB_CLASSIC}@github.com/o/r", GITHUB_CLASSIC),
    (GitHubTokenRecognizer, f"token: {GITHUB_OAUTH}", GITHUB_OAUTH),
    (GitHubTokenRecognizer, f'{{"token": "{GITHUB_FINE}"}}', GITHUB_FINE),
    (SlackTokenRecognizer, f"SLACK_BOT_TOKEN={SLACK_BOT}", SLACK_BOT),
    (SlackTokenRecognizer, f"ユーザートークンは{SLACK_USER}です", SLACK_USER),
    (SlackTokenRecognizer, f"curl -X POST {SLACK_WEBHOOK} -d '{{}}'", SLACK_WEBHOOK),
    (GoogleApiKeyRecognizer, f"https://maps.googleapis.com/maps/api/js?key={GOOGLE}", GOOGLE),
    (AwsKeyRecognizer, f"aws_access_key_id = {AWS_KEY_ID}", AWS_KEY_ID),
    (AwsKeyRecognizer, f'"AccessKeyId": "{AWS_SESSION_KEY_ID}",', AWS_SESSION_KEY_ID),
    (AwsKeyRecognizer, f"aws_secret_access_key = {AWS_SECRET}", AWS_SECRET),
    (AwsKeyRecognizer, f'{{"SecretAccessKey": "{AWS_SECRET}"}}', AWS_SECRET),
    (AwsKeyRecognizer, f"AWS_SECRET_ACCESS_KEY='{AWS_SECRET}'", AWS_SECRET),
    (JwtRecognizer, f"Authorization: Bearer {JWT}", JWT),
    (JwtRecognizer, f"トークン：{JWT}", JWT),
    (PrivateKeyRecognizer, f"key.pem:\n{PEM}\n", PEM),
    (PrivateKeyRecognizer, json.dumps({"private_key": PEM}), json.dumps(PEM)[1:-1]),
]


STRIPE_LIVE = "sk_" + "live_" + rand(99)
STRIPE_RESTRICTED = "rk_" + "live_" + rand(99)
SENDGRID = "SG." + rand(22, _B62 + "_-") + "." + rand(43, _B62 + "_-")
VAULT = "hv" + "s." + rand(90, _B62 + "_-")
NPM = "np" + "m_" + rand(36)
PYPI = "pypi-" + "AgEIcHlwaS5vcmc" + rand(60, _B62 + "_-")
GITLAB = "glp" + "at-" + rand(20, _B62 + "_-")
HUGGINGFACE = "hf" + "_" + rand(34, string.ascii_letters)
AZURE_KEY = rand(86, _B62 + "+/") + "=="
TWILIO_KEY = "S" + "K" + rand(32, "0123456789abcdef")
SAS_SIG = rand(43, _B62 + "+/") + "="
VENDOR_FOUND += [
    (VendorKeyRecognizer, f"const stripe = require('stripe')('{STRIPE_LIVE}');", STRIPE_LIVE),
    (VendorKeyRecognizer, f"STRIPE_RESTRICTED={STRIPE_RESTRICTED}", STRIPE_RESTRICTED),
    (VendorKeyRecognizer, f"SendGridAPIClient('{SENDGRID}')", SENDGRID),
    (VendorKeyRecognizer, f"export VAULT_TOKEN={VAULT}", VAULT),
    (VendorKeyRecognizer, f"//registry.npmjs.org/:_authToken={NPM}", NPM),
    (VendorKeyRecognizer, f"password = {PYPI}", PYPI),
    (VendorKeyRecognizer, f"git remote set-url origin https://oauth2:{GITLAB}@gitlab.com/x",
     GITLAB),
    (VendorKeyRecognizer, f"HF_TOKEN={HUGGINGFACE}", HUGGINGFACE),
    (VendorKeyRecognizer, f"client = Client('{TWILIO_KEY}', secret)", TWILIO_KEY),
    (VendorKeyRecognizer, f"DefaultEndpointsProtocol=https;AccountName=p;AccountKey={AZURE_KEY};",
     AZURE_KEY),
    (VendorKeyRecognizer, "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig="
     + SAS_SIG.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"),
     SAS_SIG.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")),
]


@pytest.mark.parametrize(("recognizer", "text", "value"), VENDOR_FOUND)
def test_vendor_keys_are_reported_without_context(
    recognizer: type[PatternRecognizer], text: str, value: str
) -> None:
    assert detect(recognizer(), text) == expect(text, (recognizer.ENTITIES[0], value))


def test_truncated_private_key_is_reported_up_to_the_end_of_its_body() -> None:
    begin = "-----BEGIN OPENSSH " + "PRIVATE KEY-----\n"
    body = rand(70, _B62 + "+/") + "\n" + rand(30, _B62 + "+/")
    text = f"my key is\n{begin}{body}\n\nwhy does ssh fail?"
    assert detect(PrivateKeyRecognizer(), text) == expect(
        text, ("SECRET_PRIVATE_KEY", begin + body)
    )


VENDOR_NOT_FOUND = [
    pytest.param(OpenAIKeyRecognizer, "OPENAI_API_KEY=sk-...", id="openai-ellipsis"),
    pytest.param(OpenAIKeyRecognizer, "api_key=sk-" + "x" * 48, id="openai-xxxx"),
    pytest.param(OpenAIKeyRecognizer, "api_key=<your-key>", id="openai-template"),
    pytest.param(OpenAIKeyRecognizer, "sk-long-kebab-case-identifier-name", id="kebab-case-word"),
    pytest.param(OpenAIKeyRecognizer, "the task-" + rand(30), id="sk-inside-a-word"),
    pytest.param(AnthropicKeyRecognizer, "ANTHROPIC_API_KEY=sk-ant-...", id="anthropic-template"),
    pytest.param(GitHubTokenRecognizer, "ghp_" + "x" * 36, id="github-xxxx"),
    pytest.param(GitHubTokenRecognizer, "ghp_" + rand(20), id="github-too-short"),
    pytest.param(SlackTokenRecognizer, "xoxb-your-token-here", id="slack-template"),
    pytest.param(GoogleApiKeyRecognizer, "AIza" + rand(20), id="google-too-short"),
    pytest.param(AwsKeyRecognizer, "AKIA" + "IOSFODNN7" + "EXAMPLE", id="aws-documentation-key"),
    pytest.param(AwsKeyRecognizer, f"data = {AWS_SECRET}", id="aws-secret-without-name"),
    pytest.param(JwtRecognizer, "eyJhbGciOiJIUzI1.bm90IGpzb24.sig", id="jwt-header-not-json"),
    pytest.param(
        JwtRecognizer, b64url({"typ": "JWT"}) + "." + b64url({"a": 1}) + ".c2ln", id="jwt-no-alg"
    ),
    pytest.param(PrivateKeyRecognizer, "-----BEGIN PUBLIC KEY-----\nMIIB\n", id="public-key"),
    pytest.param(PrivateKeyRecognizer, "-----BEGIN CERTIFICATE-----\nMIIB\n", id="certificate"),
]


@pytest.mark.parametrize(("recognizer", "text"), VENDOR_NOT_FOUND)
def test_placeholders_and_lookalikes_are_not_reported_as_keys(
    recognizer: type[PatternRecognizer], text: str
) -> None:
    assert detect(recognizer(), text) == []


def test_each_credential_is_reported_once_under_its_most_precise_name() -> None:
    env = (
        f"OPENAI_API_KEY={OPENAI_PROJECT}\nGITHUB_TOKEN={GITHUB_CLASSIC}\n"
        f"AWS_ACCESS_KEY_ID={AWS_KEY_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"
        f"AUTH_TOKEN={JWT}\nSSH_KEY='{PEM}'\n"
    )
    assert detect_all(env) == expect(
        env,
        ("SECRET_OPENAI_KEY", OPENAI_PROJECT),
        ("SECRET_GITHUB_TOKEN", GITHUB_CLASSIC),
        ("SECRET_AWS_KEY", AWS_KEY_ID),
        ("SECRET_AWS_KEY", AWS_SECRET),
        ("SECRET_JWT", JWT),
        ("SECRET_PRIVATE_KEY", PEM),
    )


# ---------------------------------------------------------------------------------------------
# Passwords

PASSWORD_FOUND = [
    ("password=hunter2", ["hunter2"]),
    ('{"user": "taro", "password": "Tr0ub4dor&3"}', ["Tr0ub4dor&3"]),
    ("PASSWORD: changeme", ["changeme"]),
    ("DB_PASSWORD='s3cr3t pass phrase'", ["s3cr3t pass phrase"]),
    ("spring.datasource.password=Sup3rS3cret", ["Sup3rS3cret"]),
    ("pwd=Qw3rty!", ["Qw3rty!"]),
    ("Server=db;User Id=sa;Password=P@ssw0rd;", ["P@ssw0rd"]),
    ("https://example.com/login?user=taro&pass=abc123&next=/", ["abc123"]),
    ("conn = connect(host='db', password=hunter22)", ["hunter22"]),
    ("mysql --user=root --password s3cret db", ["s3cret"]),
    ("postgres://app:Sup3rS3cret@db.internal:5432/app", ["Sup3rS3cret"]),
    ("The password is hunter2.", ["hunter2"]),
    ("my PIN is 4821", ["4821"]),
    ("パスワード：abc123", ["abc123"]),
    ("パスワードは「ひみつの合言葉」です", ["ひみつの合言葉"]),
    ("パスワードは abc123 です", ["abc123"]),
    ("パスワード：ａｂｃ１２３", ["ａｂｃ１２３"]),
    ("暗証番号は1234です", ["1234"]),
    ("db:\n  password: \"y4ml-s3cret\"\n", ["y4ml-s3cret"]),
    ("REDIS_PASS=Zq81mk_vv", ["Zq81mk_vv"]),
    ("smtp.pass: mailpw-2291", ["mailpw-2291"]),
    ("the admin login for staging grafana is admin / Winter2024!Grafana, rotate it",
     ["Winter2024!Grafana"]),
    ("Credentials: admin:Pa55word#1", ["Pa55word#1"]),
    ("the admin password for the Osaka plant HMI is Kumo!2024-blue", ["Kumo!2024-blue"]),
    ("ログイン情報は admin / Sakura2024x です", ["Sakura2024x"]),
    ("・基幹システム ID: kanri01 / PW→Kanri#2024", ["Kanri#2024"]),
    ("the pw is Kanri#2024 for now", ["Kanri#2024"]),
    ("来客用Wi-Fi：WPA2キーは hM7r-22xq-Lp90。", ["hM7r-22xq-Lp90"]),
    ("the wifi password is Sunny-Day-42", ["Sunny-Day-42"]),
    ("the side door keypad code is 4-4-0-9 and the alarm code is 2 7 1 8",
     ["4-4-0-9", "2 7 1 8"]),
    ('{"card_last4": "6467", "pin": "4821", "cvv": "372", "security_answer": "ポチ"}',
     ["4821", "372", "ポチ"]),
    ("curl -u admin:Zq8!rTy2Lp https://api.internal/v1", ["Zq8!rTy2Lp"]),
    ("net use \\\\fs01\\backup /user:CORP\\svc Sup3r$ecret!2024; robocopy", ["Sup3r$ecret!2024"]),
    ("mysql -u root -pS3cretPw app", ["S3cretPw"]),
    ("sshpass -p Rk9!mm2x ssh ops@host", ["Rk9!mm2x"]),
    # A login told in brackets, and XML elements named for a password or a secret.
    ("I used the usual login (plantops / Tr3atm3nt!2024) on the VPN", ["Tr3atm3nt!2024"]),
    ("<authentication>\n  <source-password>Kz8#fmKaze2291</source-password>\n"
     "  <admin-password>Fm-Kaze!Adm_0417</admin-password>\n</authentication>",
     ["Kz8#fmKaze2291", "Fm-Kaze!Adm_0417"]),
    ("<oauth><client-secret>q7T2mZ9xW4kL</client-secret></oauth>", ["q7T2mZ9xW4kL"]),
    # The word and a chosen value with only a blank between, in a list of credentials.
    ("He can use my login for now: user tanaka.h, password Lift#2024spring.",
     ["Lift#2024spring"]),
]


@pytest.mark.parametrize(("text", "values"), PASSWORD_FOUND)
def test_password_values_are_reported_without_their_label(text: str, values: list[str]) -> None:
    expected = expect(text, *(("SECRET_PASSWORD", v) for v in values))
    assert detect(PasswordRecognizer(), text) == expected


PASSWORD_NOT_FOUND = [
    pytest.param("Reset your password via the link.", id="prose"),
    pytest.param("Password is required.", id="prose-required"),
    pytest.param("The password is long enough.", id="prose-adjective"),
    pytest.param("The pin is loose.", id="pin-word"),
    pytest.param("Enter your password: ", id="empty-value"),
    pytest.param("password: str", id="type-annotation"),
    pytest.param("password: Optional[str] = None", id="optional-type"),
    pytest.param("password = os.environ['DB_PASSWORD']", id="environment-lookup"),
    pytest.param("password = self.password", id="attribute"),
    pytest.param("password = get_password()", id="function-call"),
    pytest.param("<password>${DB_PASS}</password><apiKey>xxxxxxxx</apiKey>", id="xml-template"),
    pytest.param("<password></password> stays empty until the installer runs", id="xml-empty"),
    pytest.param("the login (see the wiki / docs page) is described there", id="login-prose"),
    pytest.param("The password reset link expires in 24 hours.", id="password-then-word"),
    pytest.param("Set password 123456789 for the demo kiosk", id="password-then-digits"),
    pytest.param("password=${DB_PASSWORD}", id="template-variable"),
    pytest.param("password: {{ vault_password }}", id="jinja-template"),
    pytest.param("check(user, password=password)", id="variable-passed-on"),
    pytest.param("password=********", id="masked"),
    pytest.param('"password": null', id="null"),
    pytest.param("password=<your-password>", id="placeholder"),
    pytest.param("postgres://user:password@localhost/db", id="documentation-url"),
    pytest.param("パスワードを変更してください", id="japanese-prose"),
    pytest.param("パスワードは8文字以上にしてください", id="japanese-policy"),
    pytest.param("password_policy=strict", id="name-that-only-starts-with-password"),
    pytest.param("The login page is /admin/login and sign-in uses OAuth.", id="login-path"),
    pytest.param("Login is 09:00 / 18:00 on weekdays.", id="login-hours"),
    pytest.param("The password for this field is required.", id="password-for-prose"),
    pytest.param("credentials are user / password as in the docs", id="login-placeholder"),
    pytest.param("passenger=Tanaka", id="name-that-only-starts-with-pass"),
    pytest.param("bypass=true", id="name-that-ends-in-pass-without-separator"),
    pytest.param("gpio_pin = 17", id="a-pin-of-a-chip"),
    pytest.param("The door code is printed on the badge.", id="code-without-digits"),
    pytest.param("curl -u $USER:$TOKEN https://x", id="shell-variables"),
    pytest.param("Wi-Fi パスワードを変更済", id="japanese-wifi-prose"),
    pytest.param("TWILIO_AUTH_TOKEN=${TWILIO_AUTH_TOKEN}", id="twilio-token-variable"),
]


@pytest.mark.parametrize("text", PASSWORD_NOT_FOUND)
def test_password_words_without_a_password_value_are_not_reported(text: str) -> None:
    assert detect(PasswordRecognizer(), text) == []


# ---------------------------------------------------------------------------------------------
# High-entropy tokens

TOKEN_FOUND = [
    (f'api_secret = "{TOKEN_B64}"', TOKEN_B64),
    (f"X-Auth-Token: {TOKEN_HEX}", TOKEN_HEX),
    (f"認証トークン：{TOKEN_HEX}", TOKEN_HEX),
    (f"client_secret={TOKEN_B64}&grant_type=client_credentials", TOKEN_B64),
    (f"シークレットは {TOKEN_B64} です", TOKEN_B64),
    (f"Authorization: Bearer {TOKEN_B64}", TOKEN_B64),
    # Shorter values, assigned to a name that ends in a secret's word.
    ("2024-11-20 08:14:04 DEBUG client_secret=q7T2mZ9xW4kL8pR3", "q7T2mZ9xW4kL8pR3"),
    ('{"api_key": "Ab12Cd34Ef56Gh"}', "Ab12Cd34Ef56Gh"),
    ("SESSION_TOKEN: 7fQ2xK9pLm3Z", "7fQ2xK9pLm3Z"),
    # A UUID assigned to a key's name: vendors issue keys so (DeepL's free plan adds ":fx").
    ("DEEPL_API_KEY=8f3a2c91-7d4e-4b0a-9e61-2c5fd8b07a13:fx",
     "8f3a2c91-7d4e-4b0a-9e61-2c5fd8b07a13:fx"),
    ('HEROKU_API_KEY: "3e9b1c44-5a2f-4d1e-8c7b-9f0a2d6e4b13"',
     "3e9b1c44-5a2f-4d1e-8c7b-9f0a2d6e4b13"),
]


@pytest.mark.parametrize(("text", "value"), TOKEN_FOUND)
def test_high_entropy_tokens_next_to_secret_words_are_reported(text: str, value: str) -> None:
    assert detect(HighEntropyTokenRecognizer(), text) == expect(text, ("SECRET_TOKEN", value))


TOKEN_NOT_FOUND = [
    pytest.param(f"commit {TOKEN_HEX[:40]}", id="git-sha-without-secret-word"),
    pytest.param(f"random blob {TOKEN_B64}", id="blob-without-secret-word"),
    pytest.param("token: 550e8400-e29b-41d4-a716-446655440000", id="uuid"),
    pytest.param('"session_id": "8f3a2c91-7d4e-4b0a-9e61-2c5fd8b07a13"', id="uuid-id"),
    pytest.param("api_key = 01234567-89ab-cdef-0123-456789abcdef", id="uuid-sequential"),
    pytest.param("SECRET_KEY = get_secret_from_vault_v2_prod", id="identifier-of-words"),
    pytest.param("token_budget_for_the_quarterly_report", id="snake-case-words"),
    pytest.param("api_key = 'xxxxxxxxxxxxxxxxxxxxxxxx'", id="placeholder"),
    pytest.param("api_key = '00000000000000000000'", id="zeros"),
    pytest.param("the key path is /usr/local/share/keys/service", id="path"),
    pytest.param(f"secret {'ab' * 20}", id="low-entropy"),
    pytest.param("token: YOUR_TOKEN_HERE1", id="short-placeholder"),
    pytest.param("secret_name=prod-db-creds", id="short-words"),
    pytest.param("cache_token = 2024-11-20", id="short-date"),
    pytest.param("session_token=abcdefghijkl", id="short-no-digit"),
    pytest.param("client_secret=q7T2mZ9x", id="too-short"),
]


@pytest.mark.parametrize("text", TOKEN_NOT_FOUND)
def test_ordinary_strings_near_or_far_from_secret_words_are_not_tokens(text: str) -> None:
    assert detect(HighEntropyTokenRecognizer(), text) == []


def test_entropy_is_measured_in_bits_per_character() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)


def test_random_tokens_pass_the_entropy_check_reliably() -> None:
    rng = random.Random(7)
    for alphabet, length in ((_B62, 20), (_B62 + "-_", 32), ("0123456789abcdef", 32)):
        tokens = ["".join(rng.choice(alphabet) for _ in range(length)) for _ in range(500)]
        passed = sum(HighEntropyTokenRecognizer.is_high_entropy(t) for t in tokens)
        assert passed >= 0.95 * len(tokens), (alphabet, length, passed)
