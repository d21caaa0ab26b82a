"""Secret redaction: formats, false positives, JSON, streams, snapshot paths, big inputs.

Every fake secret is assembled at run time from pieces, so this file does not itself look like
it leaks credentials to secret scanners; the values are format-valid but random.
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptster.formats.jsonio import JsonValue
from promptster.record.redact.redactor import (
    DEFAULT_SECRET_PATH_PATTERNS,
    MAX_LINE_LOCAL_MATCH,
    Finding,
    StreamRedactor,
    is_secret_name,
    is_secret_path,
    redact_json,
    redact_text,
    redaction_warning,
)

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def rand(n: int, alphabet: str = ALNUM, *, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


def b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def pem(label: str, *, seed: int, headers: str = "") -> str:
    body = rand(64 * 12 + 20, B64, seed=seed)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    dashes = "-" * 5
    return (
        f"{dashes}BEGIN {label}{dashes}\n{headers}"
        + "\n".join(lines)
        + f"\n{dashes}END {label}{dashes}"
    )


@dataclass(frozen=True)
class Sample:
    kind: str
    text: str  # a realistic line containing the secret
    secret: str  # the part that must disappear
    kept: str = ""  # a part that must survive (names, hosts)


def _samples() -> list[Sample]:
    jwt = (
        b64url({"alg": "HS256", "typ": "JWT"})
        + "."
        + b64url({"sub": "candidate-7", "iat": 1_700_000_000})
        + "."
        + rand(43, URLSAFE, seed=1)
    )
    anthropic = "sk-" + "ant-" + "api03-" + rand(93, URLSAFE, seed=2) + "AA"
    openai_project = "sk-" + "proj-" + rand(120, URLSAFE, seed=3)
    openai_legacy = "sk-" + rand(20, seed=4) + "T3Blbk" + "FJ" + rand(20, seed=5)
    aws_id = "AK" + "IA" + rand(16, string.ascii_uppercase + string.digits, seed=6)
    aws_secret = rand(40, B64, seed=7)
    github = "gh" + "p_" + rand(36, seed=8)
    github_pat = "github" + "_pat_" + rand(82, ALNUM + "_", seed=9)
    gitlab = "gl" + "pat-" + rand(20, URLSAFE, seed=10)
    slack = "xo" + "xb-" + rand(12, string.digits, seed=11) + "-" + rand(24, seed=12)
    webhook = "https://hooks.slack.com/services/T" + rand(10, seed=13) + "/B" + rand(24, seed=14)
    stripe = "sk" + "_live_" + rand(24, seed=15)
    stripe_restricted = "rk" + "_test_" + rand(24, seed=16)
    google = "AI" + "za" + rand(35, URLSAFE, seed=17)
    npm = "np" + "m_" + rand(36, seed=18)
    hf = "h" + "f_" + "Ab" + rand(32, string.ascii_letters, seed=19)
    pypi = "pypi-" + "AgEIcHlwaS5vcmc" + rand(60, URLSAFE, seed=20)
    sendgrid = "S" + "G." + rand(22, URLSAFE, seed=21) + "." + rand(43, URLSAFE, seed=22)
    password = rand(18, seed=23) + "7"
    url_password = rand(16, seed=24) + "9"
    bearer = rand(40, URLSAFE + ".", seed=25) + "1"
    basic = base64.b64encode(b"candidate:" + rand(12, seed=26).encode()).decode()
    quoted = rand(14, seed=27) + "!x"
    rsa = pem("RSA PRIVATE KEY", seed=30)
    # as it appears inside JSON: escaped newlines
    openssh = pem("OPENSSH PRIVATE KEY", seed=31).replace("\n", "\\n")
    encrypted = pem(
        "EC PRIVATE KEY", seed=32, headers="Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A\n\n"
    )
    return [
        Sample(
            "anthropic_api_key", f"ANTHROPIC_API_KEY={anthropic}", anthropic, "ANTHROPIC_API_KEY="
        ),
        Sample("openai_api_key", f"key is {openai_project} ok", openai_project),
        Sample("openai_api_key", f"openai.api_key = '{openai_legacy}'", openai_legacy),
        Sample("aws_access_key_id", f"aws_access_key_id = {aws_id}", aws_id),
        Sample(
            "aws_secret_access_key",
            f"aws_secret_access_key = {aws_secret}",
            aws_secret,
            "aws_secret_access_key = ",
        ),
        Sample("github_token", f"git push https://{github}@github.com/o/r", github),
        Sample("github_token", f"GH_TOKEN={github_pat}", github_pat),
        Sample("gitlab_token", f"token: {gitlab}", gitlab),
        Sample("slack_token", f'"slack": "{slack}"', slack),
        Sample("slack_webhook_url", f"curl -X POST {webhook}", webhook),
        Sample("stripe_key", f"stripe.api_key = {stripe!r}", stripe),
        Sample("stripe_key", f"{stripe_restricted}", stripe_restricted),
        Sample("google_api_key", f"?key={google}&q=1", google),
        Sample("jwt", f"cookie: session={jwt}; Path=/", jwt),
        Sample("npm_token", f"//registry.npmjs.org/:_authToken={npm}", npm),
        Sample("hf_token", f"huggingface-cli login --token {hf}", hf),
        Sample("pypi_token", f"password = {pypi}", pypi),
        Sample("sendgrid_api_key", f"SENDGRID={sendgrid}", sendgrid),
        Sample("pem_private_key", rsa, rsa.splitlines()[5]),
        Sample("pem_private_key", f'"key": "{openssh}"', openssh.split("\\n")[5]),
        Sample("pem_private_key", encrypted, encrypted.splitlines()[5]),
        Sample(
            "connection_string_password",
            f"DATABASE_URL=postgres://app:{url_password}@db.internal:5432/app",
            url_password,
            "postgres://app:",
        ),
        Sample(
            "connection_string_password",
            f"mongodb+srv://admin:{url_password}@cluster0.example.net/test",
            url_password,
            "@cluster0.example.net/test",
        ),
        Sample(
            "connection_string_password", f"redis://:{url_password}@localhost:6379/0", url_password
        ),
        Sample(
            "secret_assignment", f"export DB_PASSWORD={password}", password, "export DB_PASSWORD="
        ),
        Sample("secret_assignment", f"DB_PASSWORD: {password}", password, "DB_PASSWORD: "),
        Sample(
            "secret_assignment", f'{{"clientSecret": "{quoted}"}}', quoted, '{"clientSecret": "'
        ),
        Sample("secret_assignment", f"mysql --password {password} app", password, "--password "),
        Sample("secret_assignment", f"client_secret='{quoted}'", quoted, "client_secret='"),
        Sample("generic_bearer_token", f"Authorization: Bearer {bearer}", bearer, "Bearer "),
        Sample("generic_bearer_token", f'-H "authorization: {bearer}"', bearer),
        Sample("basic_auth_credentials", f"Authorization: Basic {basic}", basic, "Basic "),
    ]


SAMPLES = _samples()


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.kind)
def test_each_kind_is_redacted_with_its_placeholder(sample: Sample) -> None:
    result = redact_text(sample.text)
    assert f"[REDACTED:{sample.kind}]" in result.text
    assert sample.secret not in result.text
    assert sample.kept in result.text
    assert sample.kind in {f.kind for f in result.findings}
    for finding in result.findings:  # offsets refer to the original text
        assert 0 <= finding.start < finding.end <= len(sample.text)


def test_only_the_secret_part_is_replaced() -> None:
    url_password = "pw" + rand(14, seed=40)
    assert redact_text(f"postgres://user:{url_password}@host/db").text == (
        "postgres://user:[REDACTED:connection_string_password]@host/db"
    )
    value = "v4lue" + rand(12, seed=41)
    for line, expected in [
        (f"API_TOKEN={value}", "API_TOKEN=[REDACTED:secret_assignment]"),
        (f"export API_TOKEN={value}", "export API_TOKEN=[REDACTED:secret_assignment]"),
        (f"api_token: {value}", "api_token: [REDACTED:secret_assignment]"),
        (f'"apiToken": "{value}",', '"apiToken": "[REDACTED:secret_assignment]",'),
        (f"--api-token={value} -v", "--api-token=[REDACTED:secret_assignment] -v"),
    ]:
        assert redact_text(line).text == expected


def test_a_recognised_token_under_a_secret_name_keeps_its_specific_kind() -> None:
    token = "gh" + "p_" + rand(36, seed=42)
    result = redact_text(f"GITHUB_TOKEN={token}")
    assert result.text == "GITHUB_TOKEN=[REDACTED:github_token]"
    assert [f.kind for f in result.findings] == ["github_token"]


def test_type_annotations_and_case_variants() -> None:
    value = "v4lue" + rand(12, seed=46)
    assert redact_text(f'token: str | None = "{value}"').text == (
        'token: str | None = "[REDACTED:secret_assignment]"'
    )
    bearer = rand(30, seed=47) + "9"
    assert redact_text(f"AUTHORIZATION: BEARER {bearer}").text == (
        "AUTHORIZATION: BEARER [REDACTED:generic_bearer_token]"
    )
    # Found by Hypothesis: prose after a colon was read as a type annotation, so a second
    # pass redacted more than the first.
    once = redact_text("Proxy-Authorization: export authorization=password").text
    assert redact_text(once).text == once


def test_overlapping_matches_become_one_placeholder() -> None:
    jwt = "ey" + "J" + rand(20, seed=43) + ".ey" + "J" + rand(30, seed=44) + "." + rand(20, seed=45)
    result = redact_text(f'AUTH_HEADER="Bearer {jwt}"')
    assert result.text == 'AUTH_HEADER="[REDACTED:jwt]"'
    assert len(result.findings) == 1


NOT_SECRETS = [
    "commit 3f2c1a9be0d64c1f8e2b7a5c9d0e1f2a3b4c5d6e",
    "id: 123e4567-e89b-12d3-a456-426614174000",
    "prev: sha256:" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    '<img src="data:image/png;base64,' + rand(300, B64, seed=50) + '">',
    "Please pass the token to the author; the password policy wants 12 characters.",
    "password = input()",
    "token = get_token()",
    "token = self.get_token(scope)",
    'api_key = os.environ["OPENAI_API_KEY"]',
    'secret = os.getenv("SECRET")',
    "password: str = Field(...)",
    "def login(username: str, password: str) -> Token:",
    'headers = {"Authorization": f"Bearer {token}"}',
    'curl -H "Authorization: Bearer $TOKEN" https://api.example.test',
    "self.password = password",
    "client = Client(api_key=api_key, token=token)",
    "password = user_password",
    "max_tokens=4096",
    '"input_tokens": 1234, "output_tokens": 56',
    "TOKENIZERS_PARALLELISM=false",
    "PWD=/home/candidate/work",
    "AUTHOR=Ada",
    "author: Ada Lovelace",
    "PASSWORD_MIN_LENGTH=12",
    "TOKEN_URL=https://oauth2.example.test/token",
    "GOOGLE_APPLICATION_CREDENTIALS=/run/secrets/gcp.json",
    "DB_PASSWORD=",
    "DB_PASSWORD=changeme",
    "API_KEY=<your-api-key>",
    "API_KEY=your_api_key_here",
    "API_KEY=xxxxxxxxxxxxxxxx",
    'SECRET_KEY="${SECRET_KEY}"',
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "DATABASE_URL=postgres://user:${DB_PASSWORD}@db/app",
    "postgres://localhost:5432/app",
    "git@github.com:org/repo.git",
    "https://github.com/org/repo/blob/main/auth.py#L10",
    "===== 5 passed, 1 skipped in 0.12s =====",
    "public_key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9'",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    "task-" + rand(40, seed=51),
    "auth: Auth = Depends(get_auth)",
    "primary_key=True, sort_key='created_at'",
    "if password == confirm_password:",
    "Password: ",
    "password hunter22x --",  # "--" at the very end is not a flag before the first name
]


@pytest.mark.parametrize("text", NOT_SECRETS)
def test_obvious_non_secrets_are_left_alone(text: str) -> None:
    result = redact_text(text)
    assert result.text == text
    assert result.findings == ()


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DB_PASSWORD", True),
        ("dbPassword", True),
        ("PGPASSWD", True),
        ("DB_PWD", True),
        ("MYAPIKEY", True),
        ("x-api-key", True),
        ("clientSecret", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("accessToken", True),
        ("_authToken", True),
        ("Authorization", True),
        ("OAUTH_TOKEN", True),
        ("GITHUB_CREDENTIALS", True),
        ("private_key", True),
        ("passphrase", True),
        ("AUTHOR", False),
        ("authority", False),
        ("max_tokens", False),
        ("tokenizer", False),
        ("PWD", False),
        ("OLDPWD", False),
        ("TOKEN_URL", False),
        ("PASSWORD_FILE", False),
        ("key", False),
        ("primary_key", False),
        ("public_key", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


# --------------------------------------------------------------------------- JSON


def test_json_values_are_redacted_in_place_and_keys_stay() -> None:
    token = "gh" + "o_" + rand(36, seed=60)
    short = "abcd"
    value: JsonValue = {
        "tool_input": {"command": f"git clone https://x:{token}@github.com/o/r"},
        "env": {"DB_PASSWORD": short, "DEBUG": "1", "API_KEYS": ["k-" + rand(20, seed=61)]},
        "headers": {"Authorization": "Bearer " + rand(30, seed=62) + "1"},
        "usage": {"input_tokens": 10, "max_tokens": 1024, "token_type": "bearer"},
        "empty": {"password": ""},
    }
    before = json.dumps(value)
    redacted, findings = redact_json(value)
    assert json.dumps(value) == before  # the input is not modified
    assert isinstance(redacted, dict)
    assert list(redacted) == list(value)
    assert token not in json.dumps(redacted)
    env = redacted["env"]
    assert isinstance(env, dict)
    # Under a secret-looking key the whole string goes, whatever its length or format.
    assert env == {
        "DB_PASSWORD": "[REDACTED:secret_assignment]",
        "DEBUG": "1",
        "API_KEYS": ["[REDACTED:secret_assignment]"],
    }
    assert redacted["headers"] == {"Authorization": "[REDACTED:generic_bearer_token]"}
    assert redacted["usage"] == value["usage"]
    assert redacted["empty"] == {"password": ""}
    paths = {f.path for f in findings}
    assert ("env", "DB_PASSWORD") in paths
    assert ("env", "API_KEYS", 0) in paths
    assert ("tool_input", "command") in paths


def test_json_scalars_and_deep_nesting() -> None:
    assert redact_json(None) == (None, ())
    assert redact_json(3.5) == (3.5, ())
    deep: JsonValue = "sk-" + "proj-" + rand(40, URLSAFE, seed=63)
    for _ in range(5000):  # deeper than the recursion limit
        deep = [deep]
    redacted, findings = redact_json(deep)
    assert [f.kind for f in findings] == ["openai_api_key"]
    assert len(findings[0].path) == 5000
    for _ in range(5000):
        assert isinstance(redacted, list)
        redacted = redacted[0]
    assert redacted == "[REDACTED:openai_api_key]"


def test_redaction_warning_names_kinds_but_no_secret() -> None:
    token = "gh" + "p_" + rand(36, seed=64)
    result = redact_text(f"{token} and {token}")
    data = redaction_warning(result.findings)
    assert data["code"] == "redaction"
    assert data["count"] == 2
    assert data["kinds"] == {"github_token": 2}
    assert token not in json.dumps(data)
    assert redaction_warning([Finding("jwt", 0, 5)])["message"] == (
        "Redacted 1 secret before writing (jwt)."
    )


# --------------------------------------------------------------------------- properties

FILLER = st.text(alphabet=" \t\n\r=:\"'-_/.,;(){}[]$@#abcxyzXYZ0129", max_size=30)
DASHES = "-" * 5
# Pieces that the rules react to, so that random concatenations exercise their interplay.
FRAGMENTS = st.lists(
    st.sampled_from(
        [
            *("password", "PASSWORD", "token", "api_key", "Authorization", "auth", "secret"),
            *("key", "pwd", "--", "--token ", "export ", "Bearer ", "BEARER ", "Basic "),
            *("=", ":", ": ", " = ", ":=", "=>", ": str", " | ", ", ", '"', "'", "`", "$"),
            *("{", "}", "(", ")", "[", "]", "@", "://", "http://", "a@b", "/", "\\", "."),
            *(" ", "\n", "\r", "\t", "x", "Ab3", "hunter22", "abc123def456ghi", "é", "İ"),
            *("sk-", "proj-", "ant-", "AKIA", "ghp_", "eyJ", "-", "_", "0123456789abcdefABCDEF"),
            *(DASHES + "BEGIN RSA PRIVATE KEY" + DASHES, DASHES + "END RSA PRIVATE KEY" + DASHES),
            *("MIIEpAIBAAKCAQEA", "[REDACTED:jwt]", "postgres://", "u:", "\x1b[32m"),
        ]
    ),
    max_size=50,
).map("".join)

SEPARATOR = st.sampled_from([" ", "\n", "\r\n", "\t", " \n "])


@st.composite
def texts_with_secrets(draw: st.DrawFn) -> tuple[str, list[Sample]]:
    chosen = draw(st.lists(st.sampled_from(SAMPLES), min_size=1, max_size=4))
    parts = [draw(FILLER)]
    for sample in chosen:
        parts += [draw(SEPARATOR), sample.text, draw(SEPARATOR), draw(FILLER)]
    return "".join(parts), chosen


def feed_in_chunks(text: str, cuts: list[int]) -> tuple[str, tuple[Finding, ...]]:
    stream = StreamRedactor()
    out = []
    previous = 0
    for cut in [*sorted(c % (len(text) + 1) for c in cuts), len(text)]:
        out.append(stream.feed(text[previous:cut]))
        previous = max(previous, cut)
    out.append(stream.flush())
    return "".join(out), stream.take_findings()


ANY_TEXT = st.one_of(st.text(), FRAGMENTS, texts_with_secrets().map(lambda case: case[0]))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(texts_with_secrets())
def test_embedded_secrets_never_survive(case: tuple[str, list[Sample]]) -> None:
    text, chosen = case
    out = redact_text(text).text
    for sample in chosen:
        assert sample.secret not in out


@settings(max_examples=500)
@given(ANY_TEXT)
def test_redaction_is_idempotent_and_total(text: str) -> None:
    once = redact_text(text)
    assert redact_text(once.text).text == once.text
    assert redact_text(once.text).findings == ()


@settings(max_examples=500)
@given(ANY_TEXT, st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_streaming_equals_whole_text(text: str, cuts: list[int]) -> None:
    whole = redact_text(text)
    out, findings = feed_in_chunks(text, cuts)
    assert out == whole.text
    assert findings == whole.findings


@settings(max_examples=300)
@given(st.one_of(FRAGMENTS, texts_with_secrets().map(lambda case: case[0])))
def test_ascii_fast_path_agrees_with_the_full_scan(text: str) -> None:
    # A non-ASCII first line turns the precheck off without changing any match after it.
    assert redact_text("é\n" + text).text == "é\n" + redact_text(text).text


def test_placeholders_are_not_redacted_again() -> None:
    for text in [
        "[REDACTED:openai_api_key]",
        "API_KEY=[REDACTED:secret_assignment]",
        'password = "[REDACTED:secret_assignment]"',
        "postgres://u:[REDACTED:connection_string_password]@h/db",
        "Authorization: Bearer [REDACTED:generic_bearer_token]",
    ]:
        assert redact_text(text).text == text
    assert redact_json({"password": "[REDACTED:jwt]"}) == ({"password": "[REDACTED:jwt]"}, ())


# --------------------------------------------------------------------------- streams


def test_stream_holds_a_private_key_until_its_end_line() -> None:
    block = pem("PRIVATE KEY", seed=70)
    stream = StreamRedactor()
    out = stream.feed("$ cat key.pem\n")
    assert out == "$ cat key.pem\n"
    for line in block.splitlines(keepends=True):
        assert stream.feed(line.replace("\n", "\r\n")) == ""
    out = stream.feed("\r\n$ ")
    assert out == "[REDACTED:pem_private_key]\r\n"
    assert stream.flush() == "$ "
    assert [f.kind for f in stream.take_findings()] == ["pem_private_key"]


def test_stream_redacts_a_key_whose_end_never_arrives() -> None:
    head = pem("RSA PRIVATE KEY", seed=71)[:300]
    stream = StreamRedactor()
    out = stream.feed(head + "\n") + stream.flush()
    assert out.startswith("[REDACTED:pem_private_key]")
    assert head[40:80] not in out


def test_stream_cuts_long_lines_and_still_matches_whole_text() -> None:
    rng = random.Random(72)
    pieces = []
    for i in range(60):
        pieces.append(rand(rng.randrange(500, 3000), ALNUM + " ,.", seed=100 + i))
        pieces.append(" " + rng.choice(SAMPLES).text.replace("\n", " ") + " ")
    text = "".join(pieces)  # one line of a few hundred KiB
    assert "\n" not in text and len(text) > 10 * MAX_LINE_LOCAL_MATCH
    whole = redact_text(text)
    for seed in range(5):
        chunk_rng = random.Random(seed)
        cuts = sorted(chunk_rng.randrange(len(text)) for _ in range(400))
        assert feed_in_chunks(text, cuts) == (whole.text, whole.findings)
    stream = StreamRedactor()
    most_held = 0
    for i in range(0, len(text), 1000):
        stream.feed(text[i : i + 1000])
        most_held = max(most_held, stream.held)
    assert most_held <= 16_384 + 1000  # the window bounds what is held back


def test_stream_rejects_a_window_smaller_than_a_match() -> None:
    with pytest.raises(ValueError):
        StreamRedactor(max_hold=1024)


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        (".env", True),
        (".env.local", True),
        ("app/.env.production", True),
        ("deploy/prod.env", True),
        (".envrc", True),
        (".env.example", False),
        ("config/.env.sample", False),
        (".env.template", False),
        ("certs/server.pem", True),
        ("tls\\server.KEY", True),
        ("id_rsa", True),
        ("keys/id_ed25519", True),
        ("keys/id_ed25519.pub", False),
        ("store.p12", True),
        ("cert.pfx", True),
        (".npmrc", True),
        (".pypirc", True),
        (".netrc", True),
        ("credentials.json", True),
        ("vault.kdbx", True),
        ("home/.aws/credentials", True),
        (".aws/config", False),
        ("./.ssh/known_hosts", True),
        ("terraform.tfstate", True),
        ("src/env.py", False),
        ("src/secrets_manager.py", False),
        ("README.md", False),
        ("keyboard.py", False),
        ("", False),
    ],
)
def test_secret_paths(path: str, secret: bool) -> None:
    assert is_secret_path(path) is secret


def test_secret_path_patterns_use_supported_forms() -> None:
    for pattern in DEFAULT_SECRET_PATH_PATTERNS:
        body = pattern.removeprefix("!")
        assert body and ("/" not in body.rstrip("/") or body.startswith("**/")), pattern


# --------------------------------------------------------------------------- big inputs


@pytest.mark.parametrize(
    "unit",
    [
        "a",
        "password",
        "password=",
        "key=",
        "sk-",
        "://a:",
        "eyJ",
        "Bearer ",
        "-----BEGIN ",
        'token="x ',
    ],
)
def test_one_megabyte_lines_of_repeated_fragments_finish(unit: str) -> None:
    text = unit * (1_000_000 // len(unit))
    result = redact_text(text)
    assert redact_text(result.text).text == result.text
    assert all(0 <= f.start < f.end <= len(text) for f in result.findings)


def test_unterminated_private_key_of_a_megabyte() -> None:
    text = "-----BEGIN PRIVATE KEY-----\n" + "A" * 1_000_000
    result = redact_text(text)
    assert result.text.startswith("[REDACTED:pem_private_key]")
    assert result.findings[0].end > 65_536


def test_ten_megabytes_with_secrets_at_known_places() -> None:
    rng = random.Random(80)
    filler_lines = [rand(rng.randrange(20, 120), ALNUM + " ,.():=", seed=i) for i in range(200)]
    lines: list[str] = []
    planted = 0
    size = 0
    while size < 10_000_000:
        line = rng.choice(filler_lines)
        if rng.random() < 0.01:
            line = SAMPLES[planted % len(SAMPLES)].text
            planted += 1
        lines.append(line)
        size += len(line) + 1
    text = "\n".join(lines)
    result = redact_text(text)
    for sample in SAMPLES:
        assert sample.secret not in result.text
    assert len(result.findings) >= planted
    out, findings = feed_in_chunks(text, list(range(0, len(text), 4096)))
    assert (out, findings) == (result.text, result.findings)


# Issue 16 (6): a bare AWS secret access key, no label, was left in files, snapshots and casts.
AWS_EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    "text",
    [
        f"{AWS_EXAMPLE_SECRET}\n",
        f"AWS={AWS_EXAMPLE_SECRET}",
        f"AKIAIOSFODNN7EXAMPLE,{AWS_EXAMPLE_SECRET}",
        f"key AKIAIOSFODNN7EXAMPLE secret {rand(40, ALNUM.lower(), seed=4)} done",
        f'{{"id": "ASIA{rand(16, string.ascii_uppercase, seed=5)}", '
        f'"s": "{rand(40, B64, seed=6)}"}}',
        *(f"creds: {rand(40, B64, seed=seed)}" for seed in range(20)),
    ],
)
def test_a_bare_aws_secret_access_key_is_redacted(text: str) -> None:
    result = redact_text(text)
    assert "aws_secret_access_key" in {f.kind for f in result.findings}
    assert "[REDACTED:aws_secret_access_key]" in result.text
    streamed, _ = feed_in_chunks(text, [3, 17, 30])
    assert streamed == result.text


@pytest.mark.parametrize(
    "text",
    [
        "commit 9668dcb6f1e2a3b4c5d6e7f8091a2b3c4d5e6f70 (HEAD -> main)",
        "9668DCB6F1E2A3B4C5D6E7F8091A2B3C4D5E6F70",
        "class AbstractSingletonProxyFactoryBean1234567:",
        "ThisIsMyVeryLongCamelCaseIdentifierName1",
        "/Users/JohnSmith/Documents/GitHub/MyProj9",
        "home/user/projects/Promptster/src/Module1",
        "x = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'",
    ],
)
def test_forty_character_non_secrets_stay(text: str) -> None:
    assert redact_text(text).text == text


def test_every_git_sha_stays() -> None:
    shas = [rand(40, "0123456789abcdef", seed=seed) for seed in range(200)]
    text = "\n".join(f"AKIAIOSFODNN7EXAMPLE {sha}" for sha in shas)
    out = redact_text(text).text
    assert all(sha in out for sha in shas)
