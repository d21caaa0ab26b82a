"""Invites over real SMTP: aiosmtpd servers on 127.0.0.1 that accept, refuse or hang up."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from reviewer_helpers import (
    Cli,
    Inbox,
    SmtpServer,
    attachment,
    body_text,
    free_port,
    require_aiosmtpd,
)

from promptster.issue.assessment import open_pack
from promptster.issue.keys import parse_key
from promptster.reviewer.store import AssessmentRecord


def smtp_args(server: SmtpServer, *extra: str) -> list[str]:
    return ["--smtp-host", server.host, "--smtp-port", str(server.port), *extra]


def test_three_invites_arrive_with_the_pack_and_the_key_redeems(
    run: Cli,
    home: Path,
    tmp_path: Path,
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("# Fix the cache\n\nThe LRU cache never evicts.\n")
    run.json("identity", "init", "--org", "Acme Hiring")
    assessment = run.json(
        "assessment", "create", "--title", "Eviction off-by-one", "--role", "Backend Engineer",
        "--brief", str(brief), "--time-limit", "90",
    )["assessment"]  # fmt: skip
    people = [("ada@example.org", "Ada"), ("bob@example.org", "Bob"), ("cy@example.org", "Cy")]
    args = [part for email, name in people for part in ("--email", email, "--name", name)]
    created = run.json(
        "keys", "create", assessment["id"], "--count", "3", *args,
        *smtp_args(smtp_server), "--from", "hiring@acme.example",
    )  # fmt: skip
    assert [i["status"] for i in created["invites"]] == ["sent"] * 3

    received = smtp_server.inbox.messages
    assert [rcpts for _, rcpts, _ in received] == [[email] for email, _ in people]
    assert {sender for sender, _, _ in received} == {"hiring@acme.example"}
    for (_, _, message), key in zip(received, created["keys"], strict=True):
        text = body_text(message)
        assert key["key"] in text and "The LRU cache never evicts." in text
        assert "pipx install ." in text and f"promptster start {key['key']}" in text
        assert "Eviction off-by-one" not in text + str(message["Subject"])
        _, pack = attachment(message)
        signed = open_pack(pack)
        assert signed.pack.find_key(parse_key(key["key"])) is not None
    statuses = {k["invite"]["status"] for k in run.json("keys", "list", assessment["id"])["keys"]}
    assert statuses == {"sent"}

    # The candidate saves the attachment under any name and redeems the key from the email.
    folder = tmp_path / "candidate"
    folder.mkdir()
    _name, pack = attachment(received[1][2])
    (folder / "whatever-i-called-it.json").write_bytes(pack)
    (folder / "package.json").write_text('{"name": "not a pack"}')
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "candidate-home"))
    result = run("redeem", created["keys"][1]["key"], input="yes\n")
    assert result.exit_code == 0, result.stderr
    assert "Acme Hiring" in result.stderr and "90 minutes" in result.stderr
    assert "does not record" in result.stderr.replace("It does not", "does not")
    assert "Eviction off-by-one" not in result.stderr


class Refuser(Inbox):
    """Refuses recipients whose address contains 'bounce' (or everyone)."""

    def __init__(self, everyone: bool = False) -> None:
        super().__init__()
        self.everyone = everyone

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.everyone or "bounce" in address:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class HangUp(Inbox):
    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        server.transport.close()
        return "250 OK"


def serve(handler: Any, **kwargs: Any) -> Iterator[SmtpServer]:
    require_aiosmtpd()
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, handler)
    finally:
        controller.stop()


@pytest.fixture
def refusing_server() -> Iterator[SmtpServer]:
    yield from serve(Refuser(everyone=True))


@pytest.fixture
def picky_server() -> Iterator[SmtpServer]:
    yield from serve(Refuser())


@pytest.fixture
def hanging_up_server() -> Iterator[SmtpServer]:
    yield from serve(HangUp())


def test_a_refusing_server_leaves_the_keys_and_invite_resends(
    run: Cli, assessment: AssessmentRecord, refusing_server: SmtpServer, smtp_server: SmtpServer
) -> None:
    result = run(
        "keys", "create", assessment.id, "--email", "a@example.org", "--email", "b@example.org",
        *smtp_args(refusing_server),
    )  # fmt: skip
    assert result.exit_code == 3
    assert "2 of 2 invites did not go out" in result.stderr
    assert "550 5.1.1 mailbox unavailable" in result.stderr
    assert "promptster keys invite ck_" in result.stderr
    assert "Traceback" not in result.stderr
    keys = run.json("keys", "list", assessment.id)["keys"]
    assert len(keys) == 2 and {k["invite"]["status"] for k in keys} == {"failed"}

    resent = run.json("keys", "invite", *[k["id"] for k in keys], *smtp_args(smtp_server))
    assert [i["status"] for i in resent["invites"]] == ["sent", "sent"]
    assert len(smtp_server.inbox.messages) == 2
    assert {k["invite"]["status"] for k in run.json("keys", "list", assessment.id)["keys"]} == {
        "sent"
    }


def test_one_refused_recipient_does_not_stop_the_others(
    run: Cli, assessment: AssessmentRecord, picky_server: SmtpServer
) -> None:
    result = run(
        "keys", "create", assessment.id, "--email", "a@example.org",
        "--email", "bounce@example.org", "--email", "c@example.org",
        *smtp_args(picky_server), "--json",
    )  # fmt: skip
    assert result.exit_code == 3
    assert "1 of 3 invites did not go out: bounce@example.org" in result.stderr
    import json

    invites = json.loads(result.stdout)["invites"]
    assert [i["status"] for i in invites] == ["sent", "failed", "sent"]
    assert len(picky_server.inbox.messages) == 2


def test_a_server_that_hangs_up_is_reported(
    run: Cli, assessment: AssessmentRecord, hanging_up_server: SmtpServer
) -> None:
    result = run(
        "keys", "create", assessment.id, "--email", "a@example.org", "--email", "b@example.org",
        *smtp_args(hanging_up_server),
    )  # fmt: skip
    assert result.exit_code == 3
    assert "closed the connection" in result.stderr
    assert len(run.json("keys", "list", assessment.id)["keys"]) == 2


def test_no_server_listening(run: Cli, assessment: AssessmentRecord) -> None:
    port = free_port()
    result = run(
        "keys", "create", assessment.id, "--email", "a@example.org",
        "--smtp-host", "127.0.0.1", "--smtp-port", str(port),
    )  # fmt: skip
    assert result.exit_code == 3
    assert f"cannot reach the SMTP server at 127.0.0.1:{port}" in result.stderr
    assert len(run.json("keys", "list", assessment.id)["keys"]) == 1


def make_tls_files(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    good = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"reviewer",
        b"s3cret",
    )
    return AuthResult(success=good, handled=False)


@pytest.fixture
def tls_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    cert, key = make_tls_files(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts only this server
    yield from serve(
        Inbox(),
        tls_context=context,
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
    )


def test_starttls_with_credentials_from_the_environment(
    run: Cli, assessment: AssessmentRecord, tls_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAIL_USER", "reviewer")
    monkeypatch.setenv("MAIL_PASS", "s3cret")
    created = run.json(
        "keys", "create", assessment.id, "--email", "a@example.org",
        *smtp_args(tls_server, "--smtp-starttls", "--smtp-user-env", "MAIL_USER",
                   "--smtp-password-env", "MAIL_PASS"),
    )  # fmt: skip
    assert created["invites"][0]["status"] == "sent"
    assert len(tls_server.inbox.messages) == 1

    monkeypatch.setenv("MAIL_PASS", "wrong")
    result = run(
        "keys", "create", assessment.id, "--email", "b@example.org", "--email", "c@example.org",
        *smtp_args(tls_server, "--smtp-starttls", "--smtp-user-env", "MAIL_USER",
                   "--smtp-password-env", "MAIL_PASS"),
    )  # fmt: skip
    assert result.exit_code == 3
    assert "rejected the user name or password" in result.stderr
    assert len(tls_server.inbox.messages) == 1
    assert len(run.json("keys", "list", assessment.id)["keys"]) == 3


def test_credentials_are_never_sent_in_clear(
    run: Cli, assessment: AssessmentRecord, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTSTER_SMTP_USER", "reviewer")
    monkeypatch.setenv("PROMPTSTER_SMTP_PASSWORD", "s3cret")
    result = run("keys", "create", assessment.id, "--email", "a@x.org", *smtp_args(smtp_server))
    assert result.exit_code == 2
    assert "unencrypted connection" in result.stderr
    assert run.json("keys", "list", assessment.id)["keys"] == []  # refused before any key
