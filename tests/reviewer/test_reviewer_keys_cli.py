"""`promptster keys create|list|revoke|invite` without SMTP (the outbox)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from reviewer_helpers import Cli, attachment, body_text

from promptster.issue.assessment import open_pack
from promptster.issue.identity import Signer
from promptster.issue.keys import parse_key
from promptster.reviewer.assessments import create_keys
from promptster.reviewer.store import AssessmentRecord, Workspace


def pack_of(home: Path, assessment_id: str) -> bytes:
    return (home / "packs" / f"{assessment_id}.json").read_bytes()


def test_create_keys_writes_a_new_signed_pack_each_time(
    run: Cli, home: Path, assessment: AssessmentRecord
) -> None:
    first = run.json("keys", "create", assessment.id, "--count", "3")
    assert first["packRevision"] == 2
    assert len(first["keys"]) == 3 and first["invites"] == []
    for key in first["keys"]:
        assert re.fullmatch(r"PST-[0-9A-Z]{4}-[0-9A-Z]{4}", key["key"])
        assert key["status"] == "pending" and key["candidateEmail"] is None
        assert key["id"].startswith("ck_")
    pack = open_pack(pack_of(home, assessment.id)).pack
    assert [k.id for k in pack.keys] == [k["id"] for k in first["keys"]]
    for key, entry in zip(first["keys"], pack.keys, strict=True):
        assert pack.find_key(parse_key(key["key"]), entry.id) == entry
    second = run.json("keys", "create", assessment.id[:8], "--count", "1")
    assert second["packRevision"] == 3
    assert len(open_pack(pack_of(home, assessment.id)).pack.keys) == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "--count must be between 1 and 50"),
        (["--count", "51"], "--count must be between 1 and 50"),
        ([], "give --count N, or --email for each candidate"),
        (["--count", "2", "--email", "a@x.org"], "--count 2 with 1 --email"),
        (["--email", "a@x.org", "--name", "A", "--name", "B"], "2 --name for 1 --email"),
        (["--count", "1", "--name", "A"], "--name needs --email"),
        (["--email", "not-an-email"], "'not-an-email' is not an email address"),
        (["--email", "a@x.org", "--name", "Eve\nBcc: x@y"], "one line"),
    ],
)
def test_key_requests_follow_the_hosted_rules(
    run: Cli, assessment: AssessmentRecord, args: list[str], message: str
) -> None:
    result = run("keys", "create", assessment.id, *args)
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert run.json("keys", "list", assessment.id)["keys"] == []


def test_without_smtp_invites_are_written_to_the_outbox(
    run: Cli, home: Path, assessment: AssessmentRecord
) -> None:
    created = run.json(
        "keys", "create", assessment.id, "--email", "ada@example.org", "--name", "Ada Lovelace",
        "--email", "bob@example.org", "--name", "Bob",
    )  # fmt: skip
    keys, invites = created["keys"], created["invites"]
    assert [k["candidateName"] for k in keys] == ["Ada Lovelace", "Bob"]
    assert [i["status"] for i in invites] == ["outbox", "outbox"]
    path = Path(invites[0]["detail"])
    assert path.parent == home / "outbox" / assessment.id
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    text = body_text(message)
    assert keys[0]["key"] in text and "promptster start " + keys[0]["key"] in text
    assert "Fix the cache" in text and "90 minutes" in text
    assert "Secret" not in text and "Secret" not in str(message["Subject"])
    name, pack = attachment(message)
    assert name.endswith(".json")
    assert pack == pack_of(home, assessment.id)
    listed = run.json("keys", "list", assessment.id)["keys"]
    assert listed[0]["invite"]["status"] == "outbox"


def test_list_shows_every_status(run: Cli, signer: Signer, assessment: AssessmentRecord) -> None:
    past = datetime.now(UTC) - timedelta(days=30)
    with Workspace.open() as ws:
        fresh = create_keys(ws, signer, assessment.id, count=4).keys
        old = create_keys(ws, signer, assessment.id, count=1, now=past).keys
        ws.record_key_progress(
            fresh[1].id, session_id="s-1", redeemed_at=datetime.now(UTC), completed_at=None
        )
        ws.record_key_progress(
            fresh[2].id, session_id="s-2", redeemed_at=past, completed_at=datetime.now(UTC)
        )
    assert run.json("keys", "revoke", fresh[3].id)["keys"][0]["status"] == "revoked"
    listed = {k["id"]: k for k in run.json("keys", "list", assessment.id)["keys"]}
    assert listed[fresh[0].id]["status"] == "pending"
    assert listed[fresh[1].id]["status"] == "active"
    assert listed[fresh[1].id]["sessionId"] == "s-1"
    assert listed[fresh[1].id]["redeemedAt"] is not None
    assert listed[fresh[2].id]["status"] == "completed"
    assert listed[fresh[2].id]["completedAt"] is not None
    assert listed[fresh[3].id]["status"] == "revoked"
    assert listed[old[0].id]["status"] == "expired"
    only = run.json("keys", "list", assessment.id, "--status", "expired")["keys"]
    assert [k["id"] for k in only] == [old[0].id]
    human = run("keys", "list", assessment.id)
    assert human.exit_code == 0 and "completed" in human.stdout and "s-2" in human.stdout


def test_revoke_by_id_or_by_key_and_the_pack_follows(
    run: Cli, home: Path, assessment: AssessmentRecord
) -> None:
    keys = run.json("keys", "create", assessment.id, "--count", "2")["keys"]
    typed = keys[1]["key"].lower().replace("-", "")
    revoked = run.json("keys", "revoke", keys[0]["id"], typed)["keys"]
    assert [k["id"] for k in revoked] == [keys[0]["id"], keys[1]["id"]]
    assert all(entry.revoked for entry in open_pack(pack_of(home, assessment.id)).pack.keys)
    again = run("keys", "revoke", keys[0]["id"])
    assert again.exit_code == 2 and "already revoked" in again.stderr
    unknown = run("keys", "revoke", "ck_nothere")
    assert unknown.exit_code == 2 and "no candidate key 'ck_nothere'" in unknown.stderr
    typo = keys[0]["key"][:-1] + ("0" if keys[0]["key"][-1] != "0" else "1")
    mistyped = run("keys", "revoke", typo)
    assert mistyped.exit_code == 2 and "this key has a typo" in mistyped.stderr


def test_revoking_needs_the_identity_and_keeps_everything_when_it_fails(
    run: Cli, home: Path, assessment: AssessmentRecord
) -> None:
    keys = run.json("keys", "create", assessment.id, "--count", "1")["keys"]
    before = pack_of(home, assessment.id)
    key_file = home / "identity" / "reviewer.key"
    key_file.write_bytes(b"garbage")
    result = run("keys", "revoke", keys[0]["id"])
    assert result.exit_code == 2 and "cannot use the reviewer identity" in result.stderr
    assert run.json("keys", "list", assessment.id)["keys"][0]["status"] == "pending"
    assert pack_of(home, assessment.id) == before


def test_invite_resends_from_the_outbox_and_refuses_unusable_keys(
    run: Cli, assessment: AssessmentRecord, tmp_path: Path
) -> None:
    keys = run.json("keys", "create", assessment.id, "--email", "a@example.org")["keys"]
    plain = run.json("keys", "create", assessment.id, "--count", "1")["keys"]
    outbox = tmp_path / "elsewhere"
    sent = run.json("keys", "invite", keys[0]["id"], "--outbox", str(outbox))["invites"]
    assert sent[0]["status"] == "outbox" and (outbox / f"{keys[0]['id']}.eml").exists()
    no_email = run("keys", "invite", plain[0]["id"])
    assert no_email.exit_code == 2 and "has no candidate email" in no_email.stderr
    run.json("keys", "revoke", keys[0]["id"])
    revoked = run("keys", "invite", keys[0]["id"])
    assert revoked.exit_code == 2 and "is revoked" in revoked.stderr
