"""Each command parses its options, calls one core function with them, and prints the result.

Modelled on coverage.py's cmdline tests: the core function is replaced by a mock, the command
is run through click (CliRunner), and the test asserts which call it made with which arguments.
What the core functions do is tested with real sessions, bundles and shells elsewhere; these
tests pin the thin layer between an option and the argument it becomes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import click
import pytest
from click.testing import CliRunner, Result

from promptster.cli import cli
from promptster.errors import InputError
from promptster.record.session import ENDED, SessionPaths, SessionState
from promptster.record.submit import SubmissionSummary, SubmitResult

ANY = mock.ANY


def run(*args: str, input: str | None = None) -> Result:
    """`promptster ARGS` through click, as the console script runs it (minus error printing)."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[tuple[SessionPaths, SessionState]]:
    """A session the candidate commands find, without a recorder: `current_session` patched."""
    paths = SessionPaths(tmp_path / ".promptster")
    paths.root.mkdir()
    state = SessionState("s-1", str(tmp_path), str(tmp_path / "sock"), "2026-12-01T10:00:00.000Z")
    found = (paths, state)
    with (
        mock.patch("promptster.cli.current.current_session", return_value=found),
        mock.patch("promptster.cli.candidate_cmds.current_session", return_value=found),
        mock.patch("promptster.cli.candidate_session_cmds.current_session", return_value=found),
    ):
        yield found


# -- candidate: start, submit, done, abort, reset, doctor -----------------------------------


def started(workspace: Path) -> Any:
    state = SessionState("s-1", str(workspace), "sock", "2026-12-01T10:00:00.000Z")
    return SimpleNamespace(
        paths=SessionPaths(workspace / ".promptster"),
        state=state,
        resumed=False,
        recorder=SimpleNamespace(pid=42, restarted=False),
        cloned_commit=None,
    )


def test_start_calls_start_from_key(tmp_path: Path) -> None:
    target = "promptster.cli.candidate_session_cmds.start_from_key"
    with (
        mock.patch(target, return_value=started(tmp_path)) as start_from_key,
        mock.patch("promptster.cli.candidate_session_cmds.attach_terminal"),
    ):
        result = run(
            "start",
            "PST-AAAA-BBBB",
            "--workspace",
            str(tmp_path / "w"),
            "--assessment",
            str(tmp_path / "pack.json"),
            "--tools",
            "claude",
            "--accept",
            "--json",
        )
    assert result.exit_code == 0, result.output
    start_from_key.assert_called_once_with(
        "PST-AAAA-BBBB",
        ANY,  # the consent prompt
        workspace=tmp_path / "w",
        pack_path=tmp_path / "pack.json",
        tools=["shell", "claude-code"],
        progress=ANY,
        proxy=None,
    )
    assert json.loads(result.stdout)["sessionId"] == "s-1"


def test_start_refuses_an_unknown_tool_before_any_call() -> None:
    with mock.patch("promptster.cli.candidate_session_cmds.start_from_key") as start_from_key:
        result = run("start", "PST-AAAA-BBBB", "--tools", "cursorx")
    assert result.exit_code == 2
    start_from_key.assert_not_called()


def submitted(tmp_path: Path) -> SubmitResult:
    return SubmitResult(tmp_path / "x.pst", "sha256:ab", 10, 3, already=False)


@pytest.mark.parametrize(
    ("args", "mode", "output"),
    [
        (["submit", "--yes"], "submit", None),
        (["done", "-y"], "submit", None),
        (["submit", "--auto", "-o", "out.pst"], "auto", Path("out.pst")),
    ],
)
def test_submit_and_done_call_submit_session(
    session: tuple[SessionPaths, SessionState],
    tmp_path: Path,
    args: list[str],
    mode: str,
    output: Path | None,
) -> None:
    paths, _ = session
    with mock.patch(
        "promptster.record.submit.submit_session", return_value=submitted(tmp_path)
    ) as submit_session:
        result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    submit_session.assert_called_once_with(paths, mode, confirm=ANY, output=output, note=ANY)
    assert json.loads(result.stdout)["sha256"] == "sha256:ab"


def test_submit_confirm_shows_the_summary_and_passes_yes(
    session: tuple[SessionPaths, SessionState], tmp_path: Path
) -> None:
    """The confirm callback the command hands over: with --yes it agrees without asking."""
    summary = SubmissionSummary("s-1", 3, {"note": 1}, ["a.py"], 0, {}, 10, "t", None)
    answers: list[bool] = []

    def fake(paths: SessionPaths, mode: str, **kw: Any) -> SubmitResult:
        answers.append(kw["confirm"](summary))
        return submitted(tmp_path)

    with mock.patch("promptster.record.submit.submit_session", side_effect=fake):
        result = run("submit", "--yes")
    assert result.exit_code == 0, result.output
    assert answers == [True]
    assert "What will be submitted" in result.stderr


def test_submit_declined_prints_nothing_on_stdout(
    session: tuple[SessionPaths, SessionState],
) -> None:
    with mock.patch("promptster.record.submit.submit_session", return_value=None):
        result = run("submit", "--yes", "--json")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_abort_calls_abort_session(session: tuple[SessionPaths, SessionState]) -> None:
    paths, state = session
    with mock.patch("promptster.record.lifecycle.abort_session", return_value=state) as abort:
        result = run("abort", "--yes")
    assert result.exit_code == 0, result.output
    abort.assert_called_once_with(paths, None)


def test_reset_calls_reset_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".promptster").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    with mock.patch("promptster.record.lifecycle.reset_session", return_value=None) as reset:
        result = run("reset", "--purge", "--yes")
    assert result.exit_code == 0, result.output
    reset.assert_called_once_with(tmp_path, purge=True)


def test_doctor_calls_run_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROMPTSTER_SESSION_DIR", raising=False)
    with mock.patch("promptster.record.doctor.run_checks", return_value=[]) as run_checks:
        result = run("doctor", "--json")
    assert result.exit_code == 0, result.output
    run_checks.assert_called_once_with(None)  # no session here
    assert json.loads(result.stdout) == {"ok": True, "checks": []}


# -- candidate: status, brief, note, explain, checkpoint --------------------------------------


def test_status_of_an_ended_session_calls_summarize(
    session: tuple[SessionPaths, SessionState],
) -> None:
    paths, state = session
    state.status, state.ended_at = ENDED, "2026-12-01T10:05:00.000Z"
    summary = SubmissionSummary("s-1", 3, {"note": 3}, [], 0, {}, 10, state.started_at, None)
    with mock.patch("promptster.record.submit.summarize", return_value=summary) as summarize:
        result = run("status", "--json")
    assert result.exit_code == 0, result.output
    summarize.assert_called_once_with(paths)
    body = json.loads(result.stdout)
    assert (body["eventCount"], body["elapsedSeconds"]) == (3, 300)


def test_brief_reads_the_session(session: tuple[SessionPaths, SessionState]) -> None:
    paths, state = session
    paths.brief.write_text("Build the cart.", encoding="utf-8")
    state.title = "Cart"
    result = run("brief", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["brief"] == "Build the cart."


@pytest.fixture
def sent(session: tuple[SessionPaths, SessionState]) -> Iterator[mock.MagicMock]:
    """`protocol.send_events` as the note/explain/checkpoint commands call it."""
    handle = SimpleNamespace(active=True)
    ok = SimpleNamespace(acknowledged=True, via="recorder", error=None)
    with (
        mock.patch("promptster.cli.candidate_cmds.find_session", return_value=handle),
        mock.patch("promptster.cli.candidate_cmds.send_events", return_value=ok) as send,
    ):
        yield send


def only_event(send: mock.MagicMock) -> dict[str, Any]:
    send.assert_called_once_with(ANY, [ANY], timeout=5.0)
    event: dict[str, Any] = send.call_args.args[1][0]
    assert (event["source"]["channel"], event["actor"]["type"]) == ("cli", "human")
    return event


def test_note_sends_one_note_event(sent: mock.MagicMock) -> None:
    assert run("note", "tried the cache first").exit_code == 0
    event = only_event(sent)
    assert (event["kind"], event["data"]) == ("note", {"text": "tried the cache first"})


def test_explain_sends_one_decision_event(sent: mock.MagicMock) -> None:
    result = run("explain", "LRU is enough", "--title", "Cache", "--chosen", "lru", "--impact", "3")
    assert result.exit_code == 0, result.output
    event = only_event(sent)
    assert event["kind"] == "decision_event"
    assert event["data"] == {
        "title": "Cache",
        "chosenOption": "lru",
        "rationale": "LRU is enough",
        "capturedVia": "cli",
        "impactScore": 3,
    }


def test_checkpoint_asks_for_a_snapshot_then_sends_one_event(
    session: tuple[SessionPaths, SessionState], sent: mock.MagicMock
) -> None:
    paths, _ = session
    target = "promptster.cli.candidate_cmds.ask"
    with mock.patch(target, return_value={"ok": True, "commit": "c0ffee"}) as ask:
        assert run("checkpoint", "tests pass").exit_code == 0
    ask.assert_called_once_with(paths, {"op": "snapshot", "reason": "checkpoint"}, timeout=60.0)
    event = only_event(sent)
    assert event["data"] == {"label": "tests pass", "trigger": "manual", "snapshot": "c0ffee"}


# -- integrations: setup, teardown, hook, mcp ------------------------------------------------


def test_setup_calls_setup_claude(tmp_path: Path) -> None:
    done = SimpleNamespace(files=[".mcp.json"], executable="/bin/promptster")
    target = "promptster.integrations.claude.setup.setup_claude"
    with mock.patch(target, return_value=done) as setup_claude:
        result = run("setup", "claude-code", "--workspace", str(tmp_path))
    assert result.exit_code == 0, result.output
    setup_claude.assert_called_once_with(tmp_path)


def test_teardown_calls_teardown_claude(tmp_path: Path) -> None:
    done = SimpleNamespace(restored=[".mcp.json"], merged=[], notes=[])
    target = "promptster.integrations.claude.setup.teardown_claude"
    with mock.patch(target, return_value=done) as teardown_claude:
        result = run("teardown", "claude-code", "--workspace", str(tmp_path))
    assert result.exit_code == 0, result.output
    teardown_claude.assert_called_once_with(tmp_path)


def test_hook_calls_the_claude_hook_handler() -> None:
    with mock.patch("promptster.integrations.claude.hook.main", return_value=0) as handler:
        assert run("hook", "claude-code").exit_code == 0
    handler.assert_called_once_with()


def test_the_console_script_sends_the_hook_past_click(monkeypatch: pytest.MonkeyPatch) -> None:
    """`promptster hook claude-code` (every AI tool call) never imports the CLI."""
    from promptster import entry

    monkeypatch.setattr("sys.argv", ["promptster", "hook", "claude-code"])
    with (
        mock.patch("promptster.integrations.claude.hook.main", return_value=0) as handler,
        mock.patch("promptster.cli.run") as cli_run,
        pytest.raises(SystemExit) as exited,
    ):
        entry.run()
    assert exited.value.code == 0
    handler.assert_called_once_with()
    cli_run.assert_not_called()


def test_setup_codex_calls_setup_codex(tmp_path: Path) -> None:
    done = SimpleNamespace(executable="/bin/promptster", hooks=False)
    target = "promptster.integrations.codex.setup.setup_codex"
    with mock.patch(target, return_value=done) as setup_codex:
        result = run("setup", "codex", "--workspace", str(tmp_path), "--no-hooks")
    assert result.exit_code == 0, result.output
    setup_codex.assert_called_once_with(tmp_path, hooks=False)


def test_teardown_codex_calls_teardown_codex(tmp_path: Path) -> None:
    target = "promptster.integrations.codex.setup.teardown_codex"
    with mock.patch(target, return_value=True) as teardown_codex:
        result = run("teardown", "codex", "--workspace", str(tmp_path))
    assert result.exit_code == 0, result.output
    teardown_codex.assert_called_once_with(tmp_path)


def test_codex_passes_every_argument_to_the_launcher() -> None:
    with mock.patch("promptster.integrations.codex.launcher.run") as launch:
        result = run("codex", "exec", "--json", "-m", "gpt-x", "fix it")
    assert result.exit_code == 0, result.output
    launch.assert_called_once_with(["exec", "--json", "-m", "gpt-x", "fix it"])


def test_hook_codex_calls_the_codex_hook_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    from promptster import entry

    with mock.patch("promptster.integrations.codex.hook.main", return_value=0) as handler:
        assert run("hook", "codex").exit_code == 0
    handler.assert_called_once_with()
    monkeypatch.setattr("sys.argv", ["promptster", "hook", "codex"])
    with (
        mock.patch("promptster.integrations.codex.hook.main", return_value=0) as handler,
        mock.patch("promptster.cli.run") as cli_run,
        pytest.raises(SystemExit),
    ):
        entry.run()
    handler.assert_called_once_with([])  # through the catalog's hook entry: the words after it
    cli_run.assert_not_called()


def test_mcp_calls_the_mcp_server() -> None:
    with mock.patch("promptster.integrations.mcp_server.main") as serve:
        assert run("mcp").exit_code == 0
    serve.assert_called_once_with()


# -- reviewer: verify, synth, score, cohort, review, redeem, demo, replay ----------------------


def a_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "a.pst"
    bundle.write_bytes(b"not read: the core call is mocked")
    return bundle


def test_verify_calls_verify_bundle(tmp_path: Path) -> None:
    bundle = a_bundle(tmp_path)
    report = mock.MagicMock(exit_code=0)
    report.to_json_obj.return_value = {"ok": True}
    target = "promptster.cli.bundle_cmds.verify_bundle"
    with mock.patch(target, return_value=report) as verify_bundle:
        result = run("verify", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    verify_bundle.assert_called_once_with(bundle, extra_checks=ANY)
    # issuerChecked: whether the pack's signer was compared with one of your reviewer keys
    assert json.loads(result.stdout) == {"bundles": [{"ok": True, "issuerChecked": True}]}


def test_synth_calls_generate_bundle(tmp_path: Path) -> None:
    written = SimpleNamespace(
        path=tmp_path / "s.pst", size=1, sha256="sha256:x", manifest=SimpleNamespace(event_count=2)
    )
    target = "promptster.record.synth.generate_bundle"
    with mock.patch(target, return_value=written) as generate:
        result = run("synth", "-o", str(tmp_path / "s.pst"), "--events", "40", "--seed", "7")
    assert result.exit_code == 0, result.output
    generate.assert_called_once_with(
        tmp_path / "s.pst", events=40, seed=7, candidate=None, progress=ANY
    )
    assert result.stdout == "sha256:x\n"


def test_score_calls_score_bundles(tmp_path: Path) -> None:
    from promptster.analysis.score import ScoreSummary

    bundle = a_bundle(tmp_path)
    target = "promptster.reviewer.scoring.score_bundles"
    with mock.patch(target, return_value=ScoreSummary(1, 0)) as score_bundles:
        result = run("score", str(bundle), "--format", "json", "--jobs", "3", "--allow-invalid",
                     "--rerun-tests")  # fmt: skip
    assert result.exit_code == 0, result.output
    score_bundles.assert_called_once_with(
        (bundle,),
        ANY,  # stdout
        "json",
        jobs=3,
        allow_invalid=True,
        judge_model=None,
        rerun_tests=True,
        unsafe_no_sandbox=False,
        progress=None,  # not a terminal: no progress bar
        tables=None,
        reviewer_keys=(),
        require_issuer=False,
        hidden_at="final",
        prices=None,
    )


def test_score_bundles_gives_one_bundle_one_worker(tmp_path: Path) -> None:
    """The core call, not the CLI, decides the workers: never more than bundles."""
    import io

    from promptster.analysis.score_run import score_bundles

    bundle = a_bundle(tmp_path)
    with mock.patch("promptster.analysis.score.iter_scores", return_value=iter([])) as scores:
        score_bundles([tmp_path], io.BytesIO(), "json", jobs=3, allow_invalid=True,
                      judge_model=None, checks=[])  # fmt: skip
    scores.assert_called_once_with(
        [bundle],
        jobs=1,
        allow_invalid=True,
        judge_model=None,
        checks=[],
        tables=None,
        prices=None,
    )


def test_score_passes_the_tables_folder(tmp_path: Path) -> None:
    bundle = a_bundle(tmp_path)
    with mock.patch("promptster.analysis.score.iter_scores", return_value=iter([])) as scores:
        result = run("score", str(bundle), "--format", "csv", "--tables", str(tmp_path / "t"))
    assert result.exit_code == 0, result.output
    assert scores.call_args.kwargs["tables"] == tmp_path / "t"


def test_cohort_calls_cohort_from_bundles(tmp_path: Path) -> None:
    from promptster.analysis.cohort import BundleCohorts, BundleNote

    bundle = a_bundle(tmp_path)
    found = BundleCohorts([], {}, 1, [BundleNote(bundle, "left_out", "bad signature")])
    target = "promptster.analysis.cohort.cohort_from_bundles"
    with mock.patch(target, return_value=found) as cohort_from_bundles:
        result = run(
            "cohort", str(tmp_path), "--assessment", "as-1", "--weight", "promptCount=2", "--json"
        )
    cohort_from_bundles.assert_called_once_with(
        (tmp_path,),
        assessment_id="as-1",
        weights=ANY,
        allow_invalid=False,
        checks=ANY,
        augment=ANY,  # adds the hidden tests' pass rate before ranking
        overrides=ANY,  # the reviewer's orientation per assessment (workspace setting)
    )
    assert cohort_from_bundles.call_args.kwargs["weights"]["promptCount"] == 2.0
    assert json.loads(result.stdout) == {"cohorts": []}
    assert "left out: bad signature" in result.stderr
    assert result.exit_code == 1  # a bundle was left out


def test_review_calls_review_bundle(tmp_path: Path) -> None:
    bundle = a_bundle(tmp_path)
    done = SimpleNamespace(
        verified=True, timings={"verify": 0.1}, size=10, report=SimpleNamespace(findings=[])
    )
    with mock.patch("promptster.report.review.review_bundle", return_value=done) as review:
        result = run("review", str(bundle), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0, result.output
    review.assert_called_once_with(
        bundle,
        tmp_path / "r.html",
        cohort_bundles=[],
        cohort_assessment=None,
        rerun_tests=False,
        unsafe_no_sandbox=False,
        extra_checks=ANY,
        hidden_at="final",
        prices=None,
        judge_model=None,
    )
    assert result.stdout == f"{tmp_path / 'r.html'}\n"


def test_redeem_calls_redeem_key(tmp_path: Path) -> None:
    redemption = mock.MagicMock()
    redemption.to_json_obj.return_value = {"key": "PST-AAAA-BBBB"}
    target = "promptster.cli.redeem_cmd.redeem_key"
    with mock.patch(target, return_value=redemption) as redeem_key:
        result = run("redeem", "PST-AAAA-BBBB", "--assessment", str(tmp_path / "p.json"), "--json")
    assert result.exit_code == 0, result.output
    redeem_key.assert_called_once_with("PST-AAAA-BBBB", tmp_path / "p.json", ANY)


def test_demo_calls_run_demo(tmp_path: Path) -> None:
    outcome = SimpleNamespace(verified=True, seconds=1.0, bundle="b.pst", report="r.html")
    with mock.patch("promptster.demo.runner.run_demo", return_value=outcome) as run_demo:
        result = run("demo", "-o", str(tmp_path / "demo"))
    run_demo.assert_called_once_with(tmp_path / "demo", ANY)  # ANY: the progress printer
    assert result.exit_code == 0, result.output
    assert result.stdout == "r.html\n"


def test_every_command_is_listed() -> None:
    """A new command gets a line in COMMANDS (and a test in this file)."""
    from promptster.cli import COMMANDS

    group = cli
    assert isinstance(group, click.Group)
    assert set(group.list_commands(click.Context(group))) == set(COMMANDS)


# -- reviewer workspace: import, sessions, identity, keys ---------------------------------------


@pytest.fixture
def workspace() -> Iterator[mock.MagicMock]:
    """`Workspace.open()` without a reviewer home: the commands get this stand-in."""
    opened = mock.MagicMock(name="workspace")
    opened.__enter__.return_value = opened
    with mock.patch("promptster.reviewer.store.Workspace.open", return_value=opened):
        yield opened


def test_import_calls_import_bundles(tmp_path: Path, workspace: mock.MagicMock) -> None:
    bundle = a_bundle(tmp_path)
    target = "promptster.reviewer.imports.import_bundles"
    with mock.patch(target, return_value=[]) as import_bundles:
        result = run("import", str(tmp_path), "--allow-invalid", "--json")
    assert result.exit_code == 0, result.output
    import_bundles.assert_called_once_with(workspace, [bundle], allow_invalid=True)
    assert json.loads(result.stdout) == {"imports": []}


@pytest.fixture
def opened() -> Iterator[object]:
    """The read-only analysis connection `promptster sessions …` opens."""
    con = object()
    with mock.patch("promptster.cli.sessions_cmds._opened") as connect:
        connect.return_value.__enter__.return_value = con
        yield con


def test_sessions_list_calls_listed_sessions(opened: object) -> None:
    target = "promptster.reviewer.people.listed_sessions"  # list_sessions with names, ratings
    with mock.patch(target, return_value=[]) as listed_sessions:
        result = run("sessions", "list", "--assessment", "as-1", "--json")
    assert result.exit_code == 0, result.output
    listed_sessions.assert_called_once_with(opened, "as-1")
    assert json.loads(result.stdout) == {"sessions": [], "total": 0}


def test_sessions_show_calls_get_session(opened: object) -> None:
    row = mock.MagicMock()
    row.to_json_obj.return_value = {"sessionId": "s-1"}
    extra = {"candidateEmail": "ada@example.com", "ratings": None}
    with (
        mock.patch("promptster.analysis.queries.get_session", return_value=row) as get_session,
        mock.patch("promptster.reviewer.people.described", return_value=extra) as described,
    ):
        result = run("sessions", "show", "s-1", "--json")
    assert result.exit_code == 0, result.output
    get_session.assert_called_once_with(opened, "s-1")
    described.assert_called_once_with(opened, row)  # names and scorecards from the workspace
    assert json.loads(result.stdout) == {"session": {"sessionId": "s-1", **extra}}


def test_identity_init_calls_init_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_PASS", "correct horse")
    created = mock.MagicMock()
    created.to_json_obj.return_value = {"org": "Acme"}
    target = "promptster.cli.identity_cmds.init_identity"
    with mock.patch(target, return_value=created) as init_identity:
        result = run("identity", "init", "--org", "Acme", "--passphrase-env", "MY_PASS", "--json")
    assert result.exit_code == 0, result.output
    init_identity.assert_called_once_with("Acme", b"correct horse")


def test_identity_show_calls_read_identity() -> None:
    current = mock.MagicMock()
    current.to_json_obj.return_value = {"fingerprint": "fp"}
    target = "promptster.cli.identity_cmds.read_identity"
    with mock.patch(target, return_value=current) as read_identity:
        result = run("identity", "show", "--json")
    assert result.exit_code == 0, result.output
    read_identity.assert_called_once_with()
    assert json.loads(result.stdout) == {"fingerprint": "fp"}


def test_keys_revoke_calls_revoke_keys(workspace: mock.MagicMock) -> None:
    signer = object()
    with (
        mock.patch("promptster.cli.keys_cmds.unlock_identity", return_value=signer) as unlock,
        mock.patch("promptster.cli.keys_cmds.revoke_keys", return_value=[]) as revoke_keys,
    ):
        result = run("keys", "revoke", "k1", "PST-AAAA-BBBB", "--passphrase-env", "P", "--json")
    assert result.exit_code == 0, result.output
    unlock.assert_called_once_with("P")
    revoke_keys.assert_called_once_with(workspace, signer, ("k1", "PST-AAAA-BBBB"))


# -- shell, replay ----------------------------------------------------------------------------


def test_shell_calls_run_recorded_shell(
    session: tuple[SessionPaths, SessionState], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths, _ = session
    monkeypatch.delenv("PROMPTSTER_RECORDED_SHELL", raising=False)
    monkeypatch.setenv("SHELL", "/bin/bash")
    outcome = SimpleNamespace(
        recording=SimpleNamespace(error=None),
        delivery=SimpleNamespace(dropped=0),
        session_active=True,
        exit_code=0,
    )
    target = "promptster.record.shell.session.run_recorded_shell"
    with (
        mock.patch("promptster.record.shell.session.recorded_shell_session", return_value=None),
        mock.patch(target, return_value=outcome) as run_shell,
    ):
        result = run("shell")
    assert result.exit_code == 0, result.output
    run_shell.assert_called_once_with(paths, shell_path="/bin/bash", cwd=Path.cwd(), announce=ANY)


def test_replay_loads_the_recording_and_plays_it(tmp_path: Path) -> None:
    bundle = a_bundle(tmp_path)
    recording = SimpleNamespace(width=80, height=24, duration=3.0, header={})
    loaded = SimpleNamespace(name="terminal/0.cast", recording=recording, available=["x"])
    with (
        mock.patch("promptster.record.shell.replay.load_recording", return_value=loaded) as load,
        mock.patch("promptster.record.shell.replay.play", return_value=True) as play,
        mock.patch("promptster.record.shell.pty_shell.terminal_size", return_value=None),
    ):
        result = run("replay", str(bundle), "--speed", "2", "--cast", "1")
    assert result.exit_code == 0, result.output
    load.assert_called_once_with(bundle, 1)
    play.assert_called_once_with(recording, ANY, ANY, speed=2.0, idle_limit=None)


# -- sessions timeline and decisions -----------------------------------------------------------


def test_sessions_timeline_calls_timeline_page(opened: object) -> None:
    page = mock.MagicMock(events=[], has_more=False)
    page.to_json_obj.return_value = {"events": [], "hasMore": False}
    row = SimpleNamespace(session_id="s-1-full")
    with (
        mock.patch("promptster.analysis.queries.get_session", return_value=row),
        mock.patch("promptster.analysis.queries.timeline_page", return_value=page) as timeline,
    ):
        result = run("sessions", "timeline", "s-1", "--after", "e9", "--limit", "5", "--json")
    assert result.exit_code == 0, result.output
    timeline.assert_called_once_with(opened, "s-1-full", after="e9", limit=5, kind=None)
    assert json.loads(result.stdout) == {"events": [], "hasMore": False}


def test_sessions_decisions_calls_decisions(opened: object) -> None:
    row = SimpleNamespace(session_id="s-1-full")
    with (
        mock.patch("promptster.analysis.queries.get_session", return_value=row),
        mock.patch("promptster.analysis.queries.decisions", return_value=[]) as decisions,
    ):
        result = run("sessions", "decisions", "s-1", "--json")
    assert result.exit_code == 0, result.output
    decisions.assert_called_once_with(opened, "s-1-full")
    assert json.loads(result.stdout) == {"decisions": []}


# -- assessment create/list/show/delete/export ---------------------------------------------------


def a_view(assessment_id: str = "as-1") -> mock.MagicMock:
    view = mock.MagicMock()
    view.record = SimpleNamespace(id=assessment_id, title="Cart", pack_revision=1)
    view.to_json_obj.return_value = {"id": assessment_id}
    return view


@pytest.fixture
def signer() -> Iterator[object]:
    key = object()
    with mock.patch("promptster.cli.assessment_cmds.unlock_identity", return_value=key):
        yield key


def test_assessment_create_calls_new_assessment(
    tmp_path: Path, workspace: mock.MagicMock, signer: object
) -> None:
    brief = tmp_path / "brief.md"
    brief.write_text("Build the cart.", encoding="utf-8")
    target = "promptster.cli.assessment_cmds.new_assessment"
    with mock.patch(target, return_value=a_view()) as new_assessment:
        result = run("assessment", "create", "--title", "Cart", "--role", "Dev",
                     "--brief", str(brief), "--time-limit", "60", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    new_assessment.assert_called_once_with(workspace, signer, ANY, None)  # no hidden tests
    spec = new_assessment.call_args.args[2]
    assert (spec.title, spec.role, spec.brief, spec.time_limit_minutes) == (
        "Cart", "Dev", "Build the cart.", 60
    )  # fmt: skip
    assert json.loads(result.stdout) == {"assessment": {"id": "as-1"}}


def test_assessment_update_calls_set_hidden_tests(workspace: mock.MagicMock) -> None:
    from promptster.reviewer.operations import HiddenTestsChange

    record = SimpleNamespace(id="as-1")
    target = "promptster.cli.assessment_cmds.set_hidden_tests"
    with mock.patch(target, return_value=(record, None)) as set_hidden_tests:
        result = run("assessment", "update", "as-1", "--hidden-test-command", "pytest", "--json")
    assert result.exit_code == 0, result.output
    set_hidden_tests.assert_called_once_with(
        workspace, "as-1", HiddenTestsChange(None, "pytest", None)
    )
    with mock.patch(target, return_value=(record, None)) as set_hidden_tests:
        assert run("assessment", "update", "as-1", "--no-hidden-tests").exit_code == 0
    set_hidden_tests.assert_called_once_with(workspace, "as-1", None)


def test_assessment_list_calls_list_assessments(workspace: mock.MagicMock) -> None:
    target = "promptster.cli.assessment_cmds.list_assessments"
    with mock.patch(target, return_value=[a_view()]) as list_assessments:
        result = run("assessment", "list", "--all", "--json")
    assert result.exit_code == 0, result.output
    list_assessments.assert_called_once_with(workspace, include_deleted=True)
    assert json.loads(result.stdout) == {"assessments": [{"id": "as-1"}]}


def test_assessment_show_calls_show_assessment(workspace: mock.MagicMock) -> None:
    target = "promptster.cli.assessment_cmds.show_assessment"
    with mock.patch(target, return_value=a_view()) as show_assessment:
        result = run("assessment", "show", "as-1", "--json")
    assert result.exit_code == 0, result.output
    show_assessment.assert_called_once_with(workspace, "as-1")


def test_assessment_delete_calls_remove_assessment(
    workspace: mock.MagicMock, signer: object
) -> None:
    deleted = SimpleNamespace(id="as-1")
    target = "promptster.cli.assessment_cmds.remove_assessment"
    with mock.patch(target, return_value=deleted) as remove_assessment:
        result = run("assessment", "delete", "as-1", "--yes", "--json")
    assert result.exit_code == 0, result.output
    remove_assessment.assert_called_once_with(workspace, signer, "as-1", ANY)
    confirm = remove_assessment.call_args.args[3]
    assert confirm(SimpleNamespace(id="as-1", title="Cart")) is True  # --yes agrees
    assert json.loads(result.stdout) == {"ok": True, "id": "as-1"}


def test_assessment_export_calls_current_pack(tmp_path: Path, workspace: mock.MagicMock) -> None:
    record = SimpleNamespace(id="as-1", pack_revision=2)
    target = "promptster.cli.assessment_cmds.current_pack"
    with mock.patch(target, return_value=(record, b"{}")) as current_pack:
        result = run("assessment", "export", "as-1", "-o", str(tmp_path / "p.json"), "--json")
    assert result.exit_code == 0, result.output
    current_pack.assert_called_once_with(workspace, "as-1")
    assert (tmp_path / "p.json").read_bytes() == b"{}"
    assert json.loads(result.stdout)["packRevision"] == 2


# -- keys create/list/invite ---------------------------------------------------------------------


def test_keys_create_calls_issue_keys(tmp_path: Path, workspace: mock.MagicMock) -> None:
    from promptster.reviewer.operations import Delivery

    batch = SimpleNamespace(assessment=SimpleNamespace(id="as-1", pack_revision=2), keys=[])
    issued = SimpleNamespace(batch=batch, invites=[])
    signer = object()
    with (
        mock.patch("promptster.cli.keys_cmds.unlock_identity", return_value=signer),
        mock.patch("promptster.cli.keys_cmds.issue_keys", return_value=issued) as issue_keys,
    ):
        result = run("keys", "create", "as-1", "--email", "ada@example.org", "--name", "Ada",
                     "--outbox", str(tmp_path), "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    issue_keys.assert_called_once_with(
        workspace,
        signer,
        "as-1",
        count=None,
        emails=("ada@example.org",),
        names=("Ada",),
        delivery=Delivery(None, tmp_path, "promptster@localhost"),
    )
    assert json.loads(result.stdout)["packRevision"] == 2


def test_keys_list_calls_list_keys(workspace: mock.MagicMock) -> None:
    record = SimpleNamespace(id="as-1")
    target = "promptster.cli.keys_cmds.list_keys"
    with mock.patch(target, return_value=(record, [])) as list_keys:
        result = run("keys", "list", "as", "--status", "active", "--json")
    assert result.exit_code == 0, result.output
    list_keys.assert_called_once_with(workspace, "as", status="active")
    assert json.loads(result.stdout) == {"assessmentId": "as-1", "keys": []}


def test_keys_invite_calls_resend_invites(workspace: mock.MagicMock) -> None:
    target = "promptster.cli.keys_cmds.resend_invites"
    with mock.patch(target, return_value=[]) as resend_invites:
        result = run("keys", "invite", "k1", "--from", "hr@example.org", "--json")
    assert result.exit_code == 0, result.output
    resend_invites.assert_called_once_with(workspace, ("k1",), ANY)
    assert resend_invites.call_args.args[2].sender == "hr@example.org"
    assert json.loads(result.stdout) == {"invites": []}


# -- the hosted product's verbs: cleanup, abort --reason, explain --last, brief --plain ----------


def test_cleanup_is_abort_and_passes_the_reason(session: tuple[SessionPaths, SessionState]) -> None:
    paths, state = session
    with mock.patch("promptster.record.lifecycle.abort_session", return_value=state) as abort:
        result = run("cleanup", "--yes", "--reason", "wrong task", "--json")
    assert result.exit_code == 0, result.output
    abort.assert_called_once_with(paths, "wrong task")
    assert json.loads(result.stdout)["sessionId"] == "s-1"


def test_brief_plain_prints_text_without_styling(
    session: tuple[SessionPaths, SessionState],
) -> None:
    paths, state = session
    paths.brief.write_text("Build the [cart].", encoding="utf-8")
    state.title = "Cart"
    result = run("brief", "--plain")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == ["Cart", "Build the [cart]."]


def test_explain_last_shows_recent_activity_and_attaches_its_files(
    session: tuple[SessionPaths, SessionState], sent: mock.MagicMock
) -> None:
    from promptster.formats.events import now_ts

    paths, _ = session
    lines = [
        {"kind": "file_diff", "ts": "2020-01-01T00:00:00.000Z", "data": {"path": "old.py"}},
        {"kind": "file_diff", "ts": now_ts(), "data": {"path": "cache.py"}},
        {"kind": "command", "ts": now_ts(), "data": {"command": "pytest -q"}},
        {"kind": "prompt", "ts": now_ts(), "data": {"text": "why"}},
    ]
    paths.journal.write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
    result = run("explain", "LRU is enough", "--last", "20m")
    assert result.exit_code == 0, result.output
    assert "cache.py" in result.stderr and "pytest -q" in result.stderr
    assert "old.py" not in result.stderr
    assert only_event(sent)["data"]["files"] == ["cache.py"]


@pytest.mark.parametrize(("text", "minutes"), [("20m", 20), ("1h", 60), ("90", 60), ("0m", 1)])
def test_explain_last_windows(text: str, minutes: int) -> None:
    from promptster.record.recent import parse_window

    assert parse_window(text) == minutes


# -- human scorecards, analytics, ranking orientation ------------------------------------------


def test_rate_calls_save_rating(workspace: mock.MagicMock) -> None:
    from promptster.reviewer.ratings import Rating

    saved = Rating("s-1-full", "rita", {"code_quality": 4}, "advance", "ok")
    workspace.connection.execute.return_value.fetchone.return_value = ("as-1", "Ada")
    with (
        mock.patch("promptster.reviewer.ratings.save_rating", return_value=saved) as save,
        mock.patch("promptster.reviewer.ratings.load_ratings", return_value={}),
        mock.patch("promptster.reviewer.imports.attach"),
        mock.patch("promptster.reviewer.people.directory_from") as directory,
    ):
        directory.return_value.of_session.return_value.label.return_value = "Ada"
        result = run(
            "rate", "s-1", "--dimension", "code_quality=4", "--decision", "advance",
            "--note", "ok", "--reviewer", "rita", "--wait", "5",
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    save.assert_called_once_with(
        workspace, Rating("s-1", "rita", {"code_quality": 4}, "advance", "ok")
    )
    assert result.stdout.startswith("rated Ada (s-1-full")


def test_rate_checks_the_rating_before_opening_the_workspace() -> None:
    with mock.patch("promptster.reviewer.store.Workspace.open") as opened:
        result = CliRunner().invoke(cli, ["rate", "s-1", "--dimension", "code_quality=7"])
    assert isinstance(result.exception, InputError)  # main() turns it into exit 2
    assert "outside 1–5" in result.exception.message
    opened.assert_not_called()


def test_analytics_calls_load_analytics(tmp_path: Path) -> None:
    from promptster.reviewer.analytics import Analytics

    with (
        mock.patch(
            "promptster.reviewer.analytics.load_analytics", return_value=Analytics()
        ) as load,
        mock.patch("promptster.report.analytics_page.write_analytics_html") as write,
    ):
        result = run("analytics", "--json", "-o", str(tmp_path / "a.html"), "--top", "3")
    assert result.exit_code == 0, result.output
    load.assert_called_once_with(top=3)
    write.assert_called_once_with(tmp_path / "a.html", Analytics())
    assert json.loads(result.stdout)["assessments"] == []


def test_assessment_orientation_calls_set_orientation(workspace: mock.MagicMock) -> None:
    target = "promptster.reviewer.orientation.set_orientation"
    with mock.patch(target, return_value=("as-1-full", [])) as set_orientation:
        result = run("assessment", "orientation", "as-1", "promptCount=higher", "--json")
    assert result.exit_code == 0, result.output
    set_orientation.assert_called_once_with(workspace, "as-1", ("promptCount=higher",), reset=False)
    assert json.loads(result.stdout) == {"assessmentId": "as-1-full", "orientation": []}
