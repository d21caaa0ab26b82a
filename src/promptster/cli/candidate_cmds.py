"""Candidate commands: start, status, brief, note, explain, checkpoint, doctor, abort, reset,
submit (alias done). Thin: the work is in promptster.record.*; this module prints and asks."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import click
from rich.markup import escape

from promptster.cli.current import current_session
from promptster.cli.output import err_console, out_console, print_json
from promptster.errors import EnvironmentProblem, InputError, StateError
from promptster.formats.events import parse_ts
from promptster.formats.payloads import CheckpointData, DecisionData, Payload
from promptster.protocol import find_session, new_event, send_events
from promptster.record.control import ask
from promptster.record.limits import Limits, journal_usage, read_limits
from promptster.record.session import SessionPaths, SessionState
from promptster.record.timer import format_remaining


def remaining_text(state: SessionState, now: datetime | None = None) -> str | None:
    if not state.deadline:
        return None
    return format_remaining(parse_ts(state.deadline) - (now or datetime.now(UTC)))


def _human_event(kind: str, data: Payload) -> dict[str, Any]:
    return new_event(
        kind,
        data,
        channel="cli",
        integration="promptster",
        emitter="promptster-cli",
        actor="human",
        attribution="likely_human",
        confidence=1.0,
        observability="high",
    )


JSON_HELP = "Print the recorded event as JSON on stdout."


def _recorded(event: dict[str, Any], as_json: bool, human: str) -> None:
    """The result of note/explain/checkpoint: the event that is now in the timeline."""
    if as_json:
        print_json({"ok": True, "id": event["id"], "kind": event["kind"], "data": event["data"]})
    else:
        out_console().print(human)


def _send(paths: SessionPaths, event: dict[str, Any]) -> None:
    handle = find_session(paths.root.parent)
    assert handle is not None
    result = send_events(handle, [event], timeout=5.0)
    if not result.acknowledged:
        error = result.error or "the recorder refused it"
        if "session is" in error or "ended" in error:
            raise StateError(f"not recorded: {error}")
        hint = "run `promptster doctor`"
        if "space" in error.lower():
            hint = "free some disk space, then run the command again"
        raise EnvironmentProblem(f"not recorded: {error}", hint)
    if result.via == "spool":
        err_console().print("[yellow]![/] the recorder was busy; saved to the spool")


# -- status / brief ---------------------------------------------------------------------------


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
def status(as_json: bool) -> None:
    """Show the session: id, times, remaining time, events recorded, capture sources."""
    paths, state = current_session()
    limits = read_limits(paths.assessment)
    now = datetime.now(UTC)
    started = parse_ts(state.started_at)
    # once the session has ended its clock stops: elapsed runs to the end, nothing remains
    until = parse_ts(state.ended_at) if not state.active and state.ended_at else now
    body: dict[str, Any] = {
        "sessionId": state.session_id,
        "status": state.status,
        "workspace": state.workspace,
        "startedAt": state.started_at,
        "endedAt": state.ended_at,
        "elapsedSeconds": int((until - started).total_seconds()),
        "timeLimitMinutes": state.time_limit_minutes,
        "deadline": state.deadline,
        "remainingSeconds": (
            int((parse_ts(state.deadline) - now).total_seconds())
            if state.deadline and state.active
            else None
        ),
        **limits.to_json_obj(),
    }
    if state.active:
        live = ask(paths, {"op": "status"})
        body.update(
            eventCount=live.get("nextSeq"),
            counts=live.get("counts", {}),
            sources=live.get("sources", {}),
            tools=live.get("tools", {}),
            redactions=live.get("redactions", 0),
            problem=live.get("problem"),
            usage=live.get("usage"),
        )
    else:
        from promptster.record.submit import summarize

        summary = summarize(paths)
        body.update(eventCount=summary.event_count, counts=summary.counts, sources={})
        body["usage"] = journal_usage(paths.journal, state.session_id, limits.token_budget_usd)
        body["bundle"] = state.bundle
    from promptster.record.proxy import control as proxy_control

    body["apiRecorder"] = proxy_control.status(paths.root, state.workspace_path)
    if as_json:
        print_json(body)
        return
    _print_status(state, body, now)


def _print_status(state: SessionState, body: dict[str, Any], now: datetime) -> None:
    console = out_console()
    console.print(f"[bold]Session[/] {state.session_id}  [dim]({state.status})[/]")
    console.print(f"  workspace   {escape(state.workspace)}")
    console.print(f"  started     {state.started_at}")
    if not state.active:
        # the session is over: its clock stopped, and time left means nothing any more
        reason = f"  [dim]({state.end_reason})[/]" if state.end_reason else ""
        console.print(f"  ended       {state.ended_at or '?'}{reason}")
        duration = timedelta(seconds=body["elapsedSeconds"])
        console.print(f"  duration    {format_remaining(duration)}")
    else:
        console.print(f"  elapsed     {format_remaining(now - parse_ts(state.started_at))}")
        remaining = remaining_text(state, now)
        if remaining:
            limit = f"limit {state.time_limit_minutes:g} min"
            console.print(f"  remaining   {remaining}  [dim]({limit})[/]")
        else:
            console.print("  remaining   no time limit")
    _print_limits(body)
    counts = body.get("counts") or {}
    listed = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
    console.print(f"  events      {body.get('eventCount', 0)}  [dim]{escape(listed)}[/]")
    if body.get("redactions"):
        console.print(f"  redactions  {body['redactions']}")
    for name, source in sorted((body.get("sources") or {}).items()):
        alive = source.get("alive", True)
        mark = "[green]✓[/]" if alive else "[dim]–[/]" if source.get("neutral") else "[red]✗[/]"
        detail = source.get("detail") or ""
        seen = source.get("lastSeen")
        extra = f"  last {seen}" if seen else ""
        console.print(f"  {mark} {name:<11} [dim]{escape(str(detail))}{extra}[/]")
    for name, tool in sorted((body.get("tools") or {}).items()):
        channels = tool.get("channels") or {}
        if not tool.get("wired") and not channels:
            continue
        heard = " · ".join(f"{ch} {ts}" for ch, ts in sorted(channels.items()))
        heard = heard or "wired, nothing heard yet"
        mark = "[green]✓[/]" if channels else "[dim]–[/]"
        label = str(tool.get("label") or name)
        console.print(f"  {mark} {escape(label):<11} [dim]{escape(heard)}[/]")
    recorder = body.get("apiRecorder")
    if recorder is not None:
        mark = "[green]✓[/]" if recorder["running"] else "[dim]–[/]"
        wired = ", ".join(recorder["wiredTools"]) or "no tool wired"
        spent = recorder.get("spentUsd")
        money = f"; ${spent:.4f} spent" if isinstance(spent, int | float) else ""
        if recorder.get("budgetUsd") is not None:
            money += f" of ${recorder['budgetUsd']:.2f}"
        state_word = "running" if recorder["running"] else "not running"
        line = f"{recorder['url']} {state_word}; wired: {wired}{money}"
        console.print(f"  {mark} {'API recorder':<11} [dim]{escape(line)}[/]")
    if body.get("problem"):
        console.print(f"[red]✗ {escape(str(body['problem']))}[/]")
    if state.bundle:
        console.print(f"  bundle      {escape(str(state.bundle.get('path')))}")


def _print_limits(body: dict[str, Any]) -> None:
    """The assessment's budget and allowed tools, and the tokens used so far."""
    from promptster.record.limits import usage_text

    console = out_console()
    if body.get("allowedTools") is not None:
        console.print(f"  AI tools    only {escape(', '.join(body['allowedTools']))}")
    usage = body.get("usage")
    if isinstance(usage, dict) and (usage.get("byModel") or body.get("tokenBudgetUsd")):
        over = usage.get("overBudget")
        console.print(f"  tokens      {'[red]' if over else ''}{escape(usage_text(usage))}"
                      f"{'[/]' if over else ''}")  # fmt: skip
    elif body.get("tokenBudgetUsd") is not None:
        console.print(f"  budget      ${body['tokenBudgetUsd']:g} of model tokens")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the brief as JSON on stdout.")
@click.option("--plain", is_flag=True, help="Plain text, no styling (as when piped).")
def brief(as_json: bool, plain: bool) -> None:
    """Show the task brief, the time left, and the token budget and AI tools allowed."""
    paths, state = current_session()
    text = paths.brief.read_text(encoding="utf-8") if paths.brief.exists() else ""
    remaining_seconds = None
    if state.deadline and state.active:
        remaining_seconds = int((parse_ts(state.deadline) - datetime.now(UTC)).total_seconds())
    if as_json:
        print_json(
            {
                "title": state.title,
                "brief": text,
                "timeLimitMinutes": state.time_limit_minutes,
                "remainingSeconds": remaining_seconds,
                "remainingMinutes": None
                if remaining_seconds is None
                else max(remaining_seconds, 0) // 60,
                "workspace": state.workspace,
                "deadline": state.deadline,
                **read_limits(paths.assessment).to_json_obj(),
            }
        )
        return
    print_brief(state, text, plain=plain, limits=read_limits(paths.assessment))


def print_brief(
    state: SessionState, text: str, *, plain: bool = False, limits: Limits | None = None
) -> None:
    from rich.text import Text

    lines = []
    if state.title:
        lines.append(f"[bold]{escape(state.title)}[/]")
    lines.append(escape(text.rstrip()) if text else "[dim](no brief)[/]")
    remaining = remaining_text(state)
    if not state.active:
        lines.append(f"\n[bold]The session has ended[/] ({state.status}).")
    elif remaining:
        lines.append(
            f"\n[bold]Time limit[/] {state.time_limit_minutes:g} minutes — "
            f"{remaining} left (until {state.deadline})"
        )
    if limits is not None and limits.token_budget_usd is not None:
        lines.append(
            f"[bold]Token budget[/] ${limits.token_budget_usd:g} of model tokens for the session "
            "(`promptster status` shows what is used so far)"
        )
    if limits is not None and limits.allowed_tools is not None:
        lines.append(
            f"[bold]AI tools allowed[/] {escape(', '.join(limits.allowed_tools))} — any other AI "
            "tool you use is reported to the reviewer"
        )
    for line in lines:
        if plain:
            click.echo(Text.from_markup(line).plain)
        else:
            out_console().print(line)


# -- notes, decisions, checkpoints ------------------------------------------------------------


@click.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def note(text: str, as_json: bool) -> None:
    """Add a note to the timeline."""
    paths, _ = current_session()
    if not text.strip():
        raise InputError("the note is empty")
    event = _human_event("note", {"text": text})
    _send(paths, event)
    _recorded(event, as_json, "[green]✓[/] note recorded")


EXPLAIN_TEMPLATE = """Title: {title}
Chosen option: {chosen}
Tradeoffs: {tradeoffs}
Impact (1-5): {impact}

{text}
# Explain a decision: the options you saw, what you chose, and the tradeoff you accepted.
# Fill in the fields above and write the rationale on the lines after them.
# Lines starting with '#' are ignored. Save and quit to record; leave it empty to cancel.
"""


def parse_explanation(edited: str) -> dict[str, str]:
    """Fields ("Title: …") then free text, from the editor template."""
    fields: dict[str, str] = {}
    body: list[str] = []
    names = {"title": "title", "chosen option": "chosen", "tradeoffs": "tradeoffs"}
    names["impact (1-5)"] = "impact"
    for line in edited.splitlines():
        if line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if sep and not body and key.strip().lower() in names:
            fields[names[key.strip().lower()]] = value.strip()
            continue
        body.append(line)
    fields["text"] = "\n".join(body).strip()
    return {k: v for k, v in fields.items() if v}


@click.command()
@click.argument("text", required=False)
@click.option("--title", default=None, help="A short name for the decision.")
@click.option("--chosen", default=None, help="The option you chose.")
@click.option("--tradeoffs", default=None, help="What you gave up.")
@click.option("--context", default=None, help="What made the decision necessary.")
@click.option("--impact", type=click.IntRange(1, 5), default=None, help="Impact, 1 (low) to 5.")
@click.option(
    "--last",
    "window",
    default=None,
    metavar="DURATION",
    help="Show what happened in the last DURATION (e.g. 20m; 1 to 60 minutes) and attach "
    "the files changed then to the decision.",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def explain(
    text: str | None,
    title: str | None,
    chosen: str | None,
    tradeoffs: str | None,
    context: str | None,
    impact: int | None,
    window: str | None,
    as_json: bool,
) -> None:
    """Record a decision and why you made it (opens an editor when TEXT is not given)."""
    paths, _ = current_session()
    files: list[str] = []
    if window is not None:
        files = _show_recent(paths, window)
    if text is None:
        if not sys.stdin.isatty():
            raise InputError("give the explanation as TEXT (no terminal for an editor)")
        template = EXPLAIN_TEMPLATE.format(
            title=title or "", chosen=chosen or "", tradeoffs=tradeoffs or "",
            impact=impact or "", text="",
        )  # fmt: skip
        try:
            edited = click.edit(template, extension=".md")
        except click.ClickException as exc:
            editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
            editor = editor or exc.message.split(": Editing failed", 1)[0]
            raise InputError(
                f"could not start the editor {editor!r}",
                "set EDITOR to an installed editor, or pass the decision as text: "
                'promptster explain "..."',
            ) from exc
        if edited is None:
            err_console().print("cancelled: nothing recorded")
            return
        fields = parse_explanation(edited)
        if not fields.get("text") and not fields.get("title"):
            err_console().print("empty: nothing recorded")
            return
        text = fields.get("text", "")
        title = fields.get("title") or title
        chosen = fields.get("chosen") or chosen
        tradeoffs = fields.get("tradeoffs") or tradeoffs
        if fields.get("impact", "").strip().isdigit():
            impact = min(max(int(fields["impact"]), 1), 5)
    if not (text or "").strip() and not title:
        raise InputError("the explanation is empty")
    rationale = (text or "").strip()
    data: DecisionData = {
        "title": title or _first_line(rationale),
        "chosenOption": chosen or "",
        "rationale": rationale,
        "capturedVia": "cli",
    }
    if context:
        data["context"] = context
    if tradeoffs:
        data["tradeoffs"] = tradeoffs
    if impact:
        data["impactScore"] = impact
    if files:
        data["files"] = files
    event = _human_event("decision_event", data)
    _send(paths, event)
    _recorded(event, as_json, f"[green]✓[/] decision recorded: {escape(data['title'])}")


def _show_recent(paths: SessionPaths, window: str) -> list[str]:
    """Print the recent activity on stderr (it frames the question); the files changed."""
    from promptster.record.recent import parse_window, recent_activity

    try:
        minutes = parse_window(window)
    except ValueError as exc:
        raise InputError(str(exc), "give minutes or hours: --last 20m, --last 1h") from exc
    activity = recent_activity(paths, minutes)
    console = err_console()
    if activity.empty:
        console.print(f"[dim]nothing recorded in the last {minutes} min[/]")
        return []
    console.print(f"[bold]In the last {minutes} min[/]")
    if activity.files:
        console.print(f"  files     {escape(', '.join(activity.files))}")
    if activity.commands:
        console.print(f"  commands  {escape(' · '.join(activity.commands[:8]))}")
    if activity.prompts:
        console.print(f"  prompts   {activity.prompts}")
    return activity.files


def _first_line(text: str, limit: int = 80) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "decision"
    return line if len(line) <= limit else line[: limit - 1] + "…"


@click.command()
@click.argument("label")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def checkpoint(label: str, as_json: bool) -> None:
    """Mark a point in the session (a snapshot is taken first)."""
    paths, _ = current_session()
    if not label.strip():
        raise InputError(
            "the checkpoint label is empty", 'name it, e.g. promptster checkpoint "tests pass"'
        )
    reply = ask(paths, {"op": "snapshot", "reason": "checkpoint"}, timeout=60.0)
    data: CheckpointData = {"label": label, "trigger": "manual", "snapshot": reply.get("commit")}
    event = _human_event("checkpoint", data)
    _send(paths, event)
    _recorded(event, as_json, f"[green]✓[/] checkpoint {escape(label)}")
