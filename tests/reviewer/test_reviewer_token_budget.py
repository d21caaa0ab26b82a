"""An assessment's optional `tokenBudgetUsd` and `allowedTools`: pack format, CLI, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from reviewer_helpers import BRIEF, Cli
from test_reviewer_pack import REVIEWER, make_pack, payload_of, resign

from promptster.errors import FormatError
from promptster.formats.tools import TOOL_NAMES
from promptster.integrations.catalog import TOOLS
from promptster.issue.assessment import open_pack, sign_pack
from promptster.issue.identity import Signer


@pytest.fixture
def brief(tmp_path: Path) -> Path:
    path = tmp_path / "brief.md"
    path.write_text(BRIEF)
    return path


def create(run: Cli, brief: Path, *extra: str) -> dict[str, object]:
    body = run.json(
        "assessment", "create", "--title", "T", "--role", "R", "--brief", str(brief), *extra
    )
    return body["assessment"]  # type: ignore[no-any-return]


def test_the_formats_copy_of_tool_names_is_the_catalog() -> None:
    from promptster.formats.tools import AI_TOOLS

    assert [(t.name, t.option) for t in TOOLS] == list(AI_TOOLS)


def test_a_tool_from_a_newer_promptster_does_not_make_the_pack_unreadable() -> None:
    pack, _ = make_pack()
    body = pack.to_json_obj()
    body["allowedTools"] = ["claude-code", "windsurf"]
    assert open_pack(resign(body, REVIEWER)).pack.allowed_tools == ("claude-code", "windsurf")


def test_the_fields_round_trip_and_are_absent_when_unset() -> None:
    pack, _ = make_pack(token_budget_usd=2.5, allowed_tools=("claude-code", "codex"))
    body = payload_of(sign_pack(pack, REVIEWER))
    assert body["tokenBudgetUsd"] == 2.5
    assert body["allowedTools"] == ["claude-code", "codex"]
    assert body["formatVersion"] == 1
    assert open_pack(sign_pack(pack, REVIEWER)).pack == pack

    plain, _ = make_pack()
    plain_body = payload_of(sign_pack(plain, REVIEWER))
    assert "tokenBudgetUsd" not in plain_body and "allowedTools" not in plain_body
    reopened = open_pack(sign_pack(plain, REVIEWER)).pack
    assert reopened.token_budget_usd is None and reopened.allowed_tools is None
    assert reopened.extra == {}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("tokenBudgetUsd", 0, "positive number"),
        ("tokenBudgetUsd", -1.5, "positive number"),
        ("tokenBudgetUsd", "5", "must be a number"),
        ("tokenBudgetUsd", True, "must be a number"),
        ("tokenBudgetUsd", 1e400, "positive number"),  # inf once parsed
        ("allowedTools", [], "non-empty list"),
        ("allowedTools", "claude-code", "non-empty list"),
        ("allowedTools", ["claude-code", "Not A Name"], "'Not A Name' is not a tool name"),
        ("allowedTools", [3], "is not a tool"),
    ],
)
def test_a_pack_with_a_bad_field_is_refused_by_name(
    field: str, value: object, message: str
) -> None:
    pack, _ = make_pack()
    body = pack.to_json_obj()
    body[field] = value
    raw = resign(body, REVIEWER) if value != 1e400 else _with_raw(body, field, "1e400")
    with pytest.raises(FormatError, match=field) as caught:
        open_pack(raw)
    assert message in str(caught.value)


def _with_raw(body: dict[str, object], field: str, literal: str) -> bytes:
    """A pack whose field is a JSON literal canonical_json would refuse to write (1e400)."""
    import base64

    from promptster.formats.crypto import dsse_sign
    from promptster.formats.jsonio import canonical_json
    from promptster.issue.assessment import PACK_PAYLOAD_TYPE

    body = {k: v for k, v in body.items() if k != field}
    text = canonical_json(body).decode()
    payload = text[:-1] + f',"{field}":{literal}}}'
    envelope = dsse_sign(PACK_PAYLOAD_TYPE, payload.encode(), REVIEWER).to_json_obj()
    assert base64.b64decode(envelope["payload"]).decode() == payload
    return canonical_json(envelope)


def test_create_takes_budget_and_tools_and_signs_them(
    run: Cli, signer: Signer, brief: Path, tmp_path: Path
) -> None:
    created = create(run, brief, "--token-budget-usd", "$7.5", "--allowed-tools", "claude,codex")
    assert created["tokenBudgetUsd"] == 7.5
    assert created["allowedTools"] == ["claude-code", "codex"]
    shown = run("assessment", "show", str(created["id"]))
    assert "token budget  $7.5" in shown.stdout
    assert "allowed tools claude-code, codex" in shown.stdout
    out = tmp_path / "pack.json"
    assert run("assessment", "export", str(created["id"]), "-o", str(out)).exit_code == 0
    pack = open_pack(out.read_bytes()).pack
    assert pack.token_budget_usd == 7.5 and pack.allowed_tools == ("claude-code", "codex")
    # Issuing keys re-signs the pack: the limits stay in it.
    run.json("keys", "create", str(created["id"]), "--count", "1")
    assert run("assessment", "export", str(created["id"]), "-o", str(out)).exit_code == 0
    assert open_pack(out.read_bytes()).pack.allowed_tools == ("claude-code", "codex")


def test_without_the_options_the_pack_has_neither_field(
    run: Cli, signer: Signer, brief: Path, tmp_path: Path
) -> None:
    created = create(run, brief)
    assert created["tokenBudgetUsd"] is None and created["allowedTools"] is None
    out = tmp_path / "pack.json"
    assert run("assessment", "export", str(created["id"]), "-o", str(out)).exit_code == 0
    body = payload_of(out.read_bytes())
    assert "tokenBudgetUsd" not in body and "allowedTools" not in body


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token-budget-usd", "0"], "positive number"),
        (["--token-budget-usd", "-3"], "positive number"),
        (["--token-budget-usd", "nan"], "positive number"),
        (["--token-budget-usd", "inf"], "positive number"),
        (["--token-budget-usd", "five"], "is not a number"),
        (["--allowed-tools", "claude,chatgpt"], "'chatgpt' is not a tool"),
        (["--allowed-tools", ","], "non-empty list"),
    ],
)
def test_bad_budget_or_tools_is_a_usage_error_and_creates_nothing(
    run: Cli, signer: Signer, brief: Path, args: list[str], message: str
) -> None:
    result = run(
        "assessment", "create", "--title", "T", "--role", "R", "--brief", str(brief), *args
    )
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert run.json("assessment", "list")["assessments"] == []


def test_the_error_lists_the_known_tools(run: Cli, signer: Signer, brief: Path) -> None:
    result = run(
        "assessment", "create", "--title", "T", "--role", "R", "--brief", str(brief),
        "--allowed-tools", "vim",
    )  # fmt: skip
    assert all(name in result.stderr for name in TOOL_NAMES)
