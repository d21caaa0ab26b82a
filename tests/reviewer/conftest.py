"""Fixtures for the reviewer side: a private PROMPTSTER_HOME, an identity, a CLI runner,
assessments made through the real core, and a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reviewer_helpers import BRIEF, Cli, Inbox, SmtpServer, free_port, require_aiosmtpd

from promptster.issue.identity import Signer, init_identity, unlock_identity
from promptster.reviewer.assessments import AssessmentSpec, create_assessment
from promptster.reviewer.store import AssessmentRecord, Workspace


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


@pytest.fixture
def run(home: Path) -> Cli:
    return Cli()


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
