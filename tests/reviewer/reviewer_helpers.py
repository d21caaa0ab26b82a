"""Helpers shared by the reviewer tests (imported by name; fixtures live in conftest.py)."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default as default_policy
from typing import Any

import click
from click.testing import CliRunner, Result

from promptster.cli import main
from support import require

# A script that holds the workspace at argv[1] open for writing until it reads a line.
HOLDER = """
import sys
from promptster.reviewer.store import Workspace
with Workspace.open(sys.argv[1]):
    print("ready", flush=True)
    sys.stdin.readline()
"""

BRIEF = "# Fix the cache\n\nThe LRU cache in `cache.py` never evicts.\nMake the tests pass.\n"


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


def require_aiosmtpd() -> None:
    require(
        importlib.util.find_spec("aiosmtpd") is not None,
        "aiosmtpd is not installed (pip install -e '.[test]')",
    )


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox


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
