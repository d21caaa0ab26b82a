"""The conventions every command keeps (docs/cli.md), checked over the whole command tree.

- A command's result goes to stdout, for people and for machines; progress, prompts, warnings
  and errors go to stderr. Each command that prints a result also takes `--json`.
- A reader that closes stdout early (`promptster … | head`) ends the command quietly with
  status 141, as a shell reports SIGPIPE.
- A mistyped command gets a "did you mean".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import click
import pytest
from click.testing import CliRunner, Result

from promptster import __version__
from promptster.cli import CLOSED_STDOUT_STATUS, cli
from promptster.errors import InputError

# Commands without --json, and why: none of them prints a result a script could read.
NO_JSON = {
    "hook": "speaks the AI tool's hook protocol on stdin and stdout",
    "mcp": "an MCP server: JSON-RPC on stdin and stdout",
    "shell": "interactive: the recorded shell itself is what it shows",
    "replay": "the terminal recording is its output, byte for byte, as `cat` prints a file",
    "help": "prints help text",
    "codex": "launches Codex with the arguments it is given: the output is Codex's own",
    "proxy": "a server in the foreground until ^C; `status --json` reports it (apiRecorder)",
}


def leaves(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, click.Command]]:
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from leaves(command, (*prefix, name))
        else:
            yield " ".join((*prefix, name)), command


def test_every_command_that_prints_a_result_takes_json() -> None:
    assert isinstance(cli, click.Group)
    missing = []
    for name, command in leaves(cli):
        options = {opt for p in command.params for opt in getattr(p, "opts", [])}
        top = name.split()[0]
        if "--json" not in options and top not in NO_JSON:
            missing.append(name)
    assert missing == []


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, prog_name="promptster")


# -- results on stdout ---------------------------------------------------------------------------


@pytest.fixture
def workspace() -> Iterator[mock.MagicMock]:
    opened = mock.MagicMock(name="workspace")
    opened.__enter__.return_value = opened
    with mock.patch("promptster.reviewer.store.Workspace.open", return_value=opened):
        yield opened


def test_version_and_help_print_on_stdout() -> None:
    assert run("version").stdout == f"{__version__}\n"
    assert json.loads(run("version", "--json").stdout) == {"version": __version__}
    helped = run("help", "keys", "create")
    assert helped.exit_code == 0 and "Usage: promptster keys create" in helped.stdout
    assert "Usage: promptster [OPTIONS] COMMAND" in run("help").stdout


def test_lists_go_to_stdout(workspace: mock.MagicMock) -> None:
    key = mock.MagicMock()
    key.to_json_obj.return_value = {
        "id": "ck_1", "key": "PST-AAAA-BBBB", "status": "active", "expiresAt": None,
        "redeemedAt": None, "completedAt": None, "sessionId": None,
        "candidateName": "Ada", "candidateEmail": "ada@example.org",
    }  # fmt: skip
    found = (SimpleNamespace(id="as-1"), [key])
    with mock.patch("promptster.cli.keys_cmds.list_keys", return_value=found):
        listed = run("keys", "list", "as-1")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert "Ada ada@example.org" in listed.stdout


def test_synth_review_and_verify_results_go_to_stdout(tmp_path: Path) -> None:
    bundle = tmp_path / "s.pst"
    made = run("synth", "-o", str(bundle), "--events", "30", "--json")
    assert made.exit_code == 0
    assert json.loads(made.stdout)["eventCount"] >= 30
    assert f"wrote {bundle}" in made.stderr  # the progress line
    checked = run("verify", str(bundle))
    assert checked.exit_code == 0 and "verified" in checked.stdout and checked.stderr == ""
    reviewed = run("review", str(bundle), "-o", str(tmp_path / "r.html"), "--json")
    assert reviewed.exit_code == 0, reviewed.output
    body = json.loads(reviewed.stdout)
    assert (body["report"], body["verified"]) == (str(tmp_path / "r.html"), True)


# -- closed stdout, mistyped commands, the bare key ------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["help"], ["version"], ["keys", "--help"]])
def test_a_closed_stdout_ends_quietly_with_141(args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line: the first write fails
    code = "import sys; from promptster.cli import main; sys.exit(main(sys.argv[1:]))"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *args], stdout=write, stderr=subprocess.PIPE, text=True
        )
    finally:
        os.close(write)
    assert done.returncode == CLOSED_STDOUT_STATUS == 141
    assert done.stderr == ""


def test_a_mistyped_command_gets_a_did_you_mean() -> None:
    for group, typo, meant in ((), "verfy", "verify"), (("keys",), "crate", "create"):
        result = CliRunner().invoke(cli, [*group, typo])
        assert result.exit_code == 2
        assert "Did you mean" in result.stderr and meant in result.stderr


def test_a_bare_key_starts_a_session(tmp_path: Path) -> None:
    """`promptster PST-XXXX-XXXX`, as the hosted docs say, is `promptster start PST-…`."""
    target = "promptster.cli.candidate_session_cmds.start_from_key"
    with mock.patch(target, side_effect=click.exceptions.Exit(0)) as start_from_key:
        result = run("PST-AAAA-BBBB", "--accept", "--no-shell")
    assert result.exit_code == 0
    assert start_from_key.call_args.args[0] == "PST-AAAA-BBBB"


# -- errors that say what to do ------------------------------------------------------------------


def test_a_short_assessment_prefix_names_the_minimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROMPTSTER_HOME", str(tmp_path / "home"))
    from promptster.cli import main

    with pytest.raises(InputError, match="a prefix needs at least 4 characters"):
        CliRunner().invoke(cli, ["assessment", "show", "ab"], catch_exceptions=False)
    assert main(["assessment", "show", "ab"]) == 2


def test_a_truncated_bundle_says_to_ask_for_it_again(tmp_path: Path) -> None:
    bundle = tmp_path / "s.pst"
    assert run("synth", "-o", str(bundle), "--events", "20").exit_code == 0
    cut = tmp_path / "cut.pst"
    cut.write_bytes(bundle.read_bytes()[: bundle.stat().st_size // 2])
    result = run("verify", str(cut))
    assert result.exit_code == 2
    assert "ask the sender for it again" in result.stdout


def test_printed_paths_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    bundle = tmp_path / "s.pst"
    assert run("synth", "-o", str(bundle), "--events", "20").exit_code == 0
    result = run("verify", str(tmp_path / "sub" / ".." / "s.pst"), "--json")
    assert json.loads(result.stdout)["bundles"][0]["path"] == str(bundle)
