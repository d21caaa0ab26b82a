"""`promptster assessment create|list|show|delete|export`."""

from __future__ import annotations

from pathlib import Path

import pytest
from reviewer_helpers import BRIEF, Cli

from promptster.issue.assessment import open_pack
from promptster.issue.identity import Signer
from promptster.reviewer.store import Workspace


@pytest.fixture
def brief(tmp_path: Path) -> Path:
    path = tmp_path / "brief.md"
    path.write_text(BRIEF)
    return path


def create(run: Cli, brief: Path, *extra: str) -> dict[str, object]:
    body = run.json(
        "assessment", "create", "--title", "Secret title", "--role", "Backend Engineer",
        "--brief", str(brief), *extra,
    )  # fmt: skip
    return body["assessment"]  # type: ignore[no-any-return]


def test_create_list_show_export(run: Cli, signer: Signer, brief: Path, tmp_path: Path) -> None:
    created = create(
        run, brief, "--time-limit", "90", "--repo", "https://github.com/acme/cache.git",
        "--rev", "ABCDEF1234567", "--expires-in-days", "3",
    )  # fmt: skip
    assert created["timeLimitMinutes"] == 90
    assert created["repoRev"] == "abcdef1234567"
    assert created["expiresInDays"] == 3
    assert created["org"] == "Acme Hiring"
    assert created["keyCounts"] == dict.fromkeys(
        ("pending", "active", "completed", "expired", "revoked"), 0
    )
    listed = run.json("assessment", "list")["assessments"]
    assert [a["id"] for a in listed] == [created["id"]]
    assert "taskBrief" not in listed[0]
    shown = run.json("assessment", "show", str(created["id"])[:8])["assessment"]
    assert shown["taskBrief"] == BRIEF

    out = tmp_path / "pack.json"
    result = run("assessment", "export", str(created["id"]), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    signed = open_pack(out.read_bytes())
    assert signed.pack.role == "Backend Engineer"
    assert signed.pack.brief == BRIEF
    assert signed.pack.time_limit_minutes == 90
    assert signed.pack.repo is not None and signed.pack.repo.rev == "abcdef1234567"
    assert signed.reviewer_fingerprint == signer.identity.fingerprint
    assert b"Secret title" not in out.read_bytes()
    assert "Secret title" not in signed.pack.to_json_obj().values()


def test_the_brief_can_come_from_stdin(run: Cli, signer: Signer) -> None:
    result = run(
        "assessment", "create", "--title", "T", "--role", "R", "--brief", "-", "--json",
        input="# From stdin\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert '"taskBrief": "# From stdin\\n"' in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--title", ""], "the title must be 1 to 255 characters"),
        (["--title", "x" * 256], "the title must be 1 to 255 characters"),
        (["--role", "   "], "the role must be 1 to 255 characters"),
        (["--time-limit", "0"], "--time-limit must be a positive number"),
        (["--time-limit", "-5"], "--time-limit must be a positive number"),
        (["--expires-in-days", "0"], "--expires-in-days must be between 1 and 365"),
        (["--rev", "abcdef1"], "--rev needs --repo"),
        (["--repo", "not a url"], "is not a repository URL"),
        (["--repo", "ftp://x/y"], "is not a repository URL"),
        (["--repo", "https://x/y", "--rev", "main"], "is not a commit id"),
    ],
)
def test_field_rules_match_the_hosted_product(
    run: Cli, signer: Signer, brief: Path, args: list[str], message: str
) -> None:
    base = {"--title": "T", "--role": "R", "--brief": str(brief)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    result = run("assessment", "create", *[part for pair in base.items() for part in pair])
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert run.json("assessment", "list")["assessments"] == []


def test_a_brief_is_required_and_must_be_readable_text(
    run: Cli, signer: Signer, tmp_path: Path
) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("  \n")
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\xff\xfe\x00")
    cases = [
        (str(empty), "a brief is required"),
        (str(tmp_path / "missing.md"), "cannot read the brief"),
        (str(binary), "is not UTF-8 text"),
    ]
    for source, message in cases:
        result = run("assessment", "create", "--title", "T", "--role", "R", "--brief", source)
        assert result.exit_code == 2 and message in result.stderr
    missing = run("assessment", "create", "--title", "T", "--role", "R")
    assert missing.exit_code == 2 and "--brief" in missing.stderr


def test_delete_is_soft_revokes_keys_and_keeps_sessions(
    run: Cli, signer: Signer, brief: Path, tmp_path: Path
) -> None:
    assessment_id = str(create(run, brief)["id"])
    keys = run.json("keys", "create", assessment_id, "--count", "2")["keys"]
    with Workspace.open() as ws:
        ws._run(
            "INSERT INTO sessions (session_id, assessment_id, key_id, bundle_sha256, "
            "imported_at, verified) VALUES ('s-1', ?, ?, 'sha256:0', now()::TIMESTAMP, true)",
            [assessment_id, keys[0]["id"]],
        )
    refused = run("assessment", "delete", assessment_id, input="n\n")
    assert refused.exit_code == 130 and "Aborted" in refused.stderr
    assert run.json("assessment", "list")["assessments"] != []
    no_answer = run("assessment", "delete", assessment_id)  # no terminal, nothing on stdin
    assert no_answer.exit_code == 2
    assert "refusing to delete without confirmation; pass --yes" in no_answer.stderr
    assert "Aborted" not in no_answer.stderr
    assert run.json("assessment", "list")["assessments"] != []

    assert run.json("assessment", "delete", assessment_id, "--yes") == {
        "ok": True,
        "id": assessment_id,
    }
    assert run.json("assessment", "list")["assessments"] == []
    everything = run.json("assessment", "list", "--all")["assessments"]
    assert everything[0]["deletedAt"] is not None
    statuses = {k["status"] for k in run.json("keys", "list", assessment_id)["keys"]}
    assert statuses == {"revoked"}
    out = tmp_path / "pack.json"
    assert run("assessment", "export", assessment_id, "-o", str(out)).exit_code == 0
    assert all(k.revoked for k in open_pack(out.read_bytes()).pack.keys)
    with Workspace.open() as ws:
        assert ws._run("SELECT count(*) FROM sessions").fetchone() == (1,)
    again = run("keys", "create", assessment_id, "--count", "1")
    assert again.exit_code == 2 and "was deleted" in again.stderr


def test_unknown_and_ambiguous_ids(run: Cli, signer: Signer, brief: Path) -> None:
    result = run("assessment", "show", "nope-nope")
    assert result.exit_code == 2 and "no assessment matches 'nope-nope'" in result.stderr
    assert "assessment list" in result.stderr
    short = run("assessment", "show", "ab")
    assert short.exit_code == 2


def test_human_output_goes_to_stdout(run: Cli, signer: Signer, brief: Path) -> None:
    """The result is on stdout for a pipe or `> file`, as with git or gh; stderr stays quiet."""
    created = create(run, brief)
    listed = run("assessment", "list")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert str(created["id"])[:8] in listed.stdout
    shown = run("assessment", "show", str(created["id"]))
    assert "Backend Engineer" in shown.stdout and "Fix the cache" in shown.stdout
