"""Fixtures for the reviewer side: a private PROMPTSTER_HOME, an identity, a CLI runner,
assessments made through the real core, and real SMTP servers (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from promptster.cli import main
from promptster.identity import Signer, init_identity, unlock_identity
from promptster.reviewer import AssessmentSpec, create_assessment
from promptster.store import AssessmentRecord, Workspace
from support import require


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("PROMPTSTER_HOME", str(path))
    for name in ("PROMPTSTER_PASSPHRASE", "PROMPTSTER_SMTP_USER", "PROMPTSTER_SMTP_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def signer(home: Path) -> Signer:
    init_identity("Acme Hiring", None)
    return unlock_identity()


@pytest.fixture
def workspace(home: Path) -> Iterator[Workspace]:
    with Workspace.open() as ws:
        yield ws


BRIEF = "# Fix the cache\n\nThe LRU cache in `cache.py` never evicts.\nMake the tests pass.\n"


@pytest.fixture
def assessment(signer: Signer) -> AssessmentRecord:
    with Workspace.open() as ws:
        return create_assessment(
            ws,
            signer,
            AssessmentSpec(
                title="Secret: the eviction off-by-one",
                role="Backend Engineer",
                brief=BRIEF,
                time_limit_minutes=90,
            ),
        )


class Cli:
    """Run `promptster` in-process through `main()`, the one place that maps errors to exit
    codes, with stdout and stderr captured separately."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        @click.command()
        def entry() -> None:
            sys.exit(main(list(args)))

        return self.runner.invoke(entry, [], input=input, catch_exceptions=False)

    def json(self, *args: str, input: str | None = None) -> Any:
        result = self(*args, "--json", input=input)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture
def run(home: Path) -> Cli:
    return Cli()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Inbox:
    """What an aiosmtpd handler received."""

    messages: list[tuple[str, list[str], Message]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


def require_aiosmtpd() -> None:
    require(
        importlib.util.find_spec("aiosmtpd") is not None,
        "aiosmtpd is not installed (pip install -e '.[test]')",
    )


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    require_aiosmtpd()
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()


def attachment(message: Message) -> tuple[str, bytes]:
    for part in message.walk():
        if part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return str(part.get_filename()), payload
    raise AssertionError("no attachment")


def body_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and part.get_content_disposition() is None:
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode("utf-8")
    raise AssertionError("no text body")
