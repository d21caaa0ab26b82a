"""Starting, resuming, aborting and resetting a session (the typed core of the commands).

`start_session` is idempotent per workspace: under the workspace's start lock it either finds
the live session and resumes it (restarting its recorder if needed), or creates exactly one new
session: workspace prepared, Ed25519 session key, shadow repository with its baseline snapshot,
`session_start` in the journal, session.json, and the recorder started in the background.
`start_from_key` is the whole `promptster start KEY` flow around it: redeem, start, remember.
"""

from __future__ import annotations

import dataclasses
import platform
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from promptster import __version__
from promptster.bundle.format import candidate_key_hash
from promptster.errors import EnvironmentProblem, StateError
from promptster.formats.crypto import SigningKey, sha256_digest
from promptster.formats.events import Kind, format_ts
from promptster.fsutil import atomic_write_bytes, atomic_write_text
from promptster.integrations import apiproxy, catalog
from promptster.paths import candidate_state_dir
from promptster.protocol import find_session
from promptster.record.control import RecorderCheck, end_session, ensure_recorder
from promptster.record.files.gitwatch import GitWatcher, candidate_git_dir
from promptster.record.files.snapshots import ShadowRepo
from promptster.record.journal import JournalWriter
from promptster.record.pipeline import system_event
from promptster.record.proxy import control as proxy_control
from promptster.record.session import (
    ABORTED,
    ACTIVE,
    ENDED,
    SUBMITTED,
    SessionPaths,
    SessionState,
    locked,
    read_state,
    socket_path_for,
    update_state,
    write_state,
)
from promptster.record.workspace import clone_starter, exclude_from_candidate_git, write_task_file

if TYPE_CHECKING:
    from promptster.issue.redeem import ConsentCallback


@dataclass
class StartOptions:
    """What a new session needs. The assessment fields come from key redemption."""

    workspace: Path
    brief: str | None = None
    title: str | None = None
    time_limit_minutes: float | None = None
    token_budget_usd: float | None = None
    allowed_tools: tuple[str, ...] | None = None
    assessment_id: str | None = None
    candidate_key: str | None = None
    key_id: str | None = None
    assessment_pack: bytes | None = None
    repo_url: str | None = None
    repo_rev: str | None = None
    # A key released by `reset` after an aborted attempt: the reviewer must see the restart.
    key_redeemed_at: str | None = None
    restarted_from: str | None = None
    tools: list[str] = field(default_factory=lambda: ["shell"])
    auto_submit: bool = True
    debounce_ms: int | None = None
    rescan_seconds: float | None = None
    max_file_bytes: int | None = None
    start_recorder: bool = True
    # `start --proxy`: the session's model-API recorder, the tools wired to it.
    proxy: proxy_control.ProxyRequest | None = None


@dataclass(frozen=True)
class StartedSession:
    paths: SessionPaths
    state: SessionState
    resumed: bool
    recorder: RecorderCheck
    cloned_commit: str | None = None
    wrote_task_file: bool = False


def existing_session(workspace: Path) -> SessionState | None:
    paths = SessionPaths.for_workspace(workspace)
    return read_state(paths) if paths.state.exists() else None


def start_session(options: StartOptions) -> StartedSession:
    """Create the workspace's session, or resume the live one. Safe to run twice at once."""
    workspace = options.workspace.expanduser().absolute()
    try:
        workspace.mkdir(parents=True, exist_ok=True)
        paths = SessionPaths.for_workspace(workspace)
        paths.root.mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot create the workspace {workspace}: {exc.strerror}",
            "choose a folder you can write to with --workspace",
        ) from exc
    with locked(paths.start_lock):
        if paths.state.exists():
            started = _resume(paths, options)
        else:
            started = _create(paths, workspace, options)
    # Outside the start lock, which ensure_recorder takes itself to start one recorder only.
    check = ensure_recorder(paths) if options.start_recorder else RecorderCheck(False, False)
    if options.start_recorder:
        proxy_control.ensure(paths.root)
    return dataclasses.replace(started, recorder=check)


def start_from_key(
    key: str,
    consent: ConsentCallback,
    *,
    workspace: Path | None = None,
    pack_path: Path | None = None,
    tools: list[str] | None = None,
    folder: Path | None = None,
    progress: Callable[[str], None] | None = None,
    proxy: proxy_control.ProxyRequest | None = None,
) -> StartedSession:
    """`promptster start KEY`: resume this key's live session, or redeem the key and start one.

    Redeeming checks the key against the assessment pack (`pack_path`, default the pack in
    `folder`, the current folder) and asks `consent`; the session then starts in `workspace`
    (default: `folder`, or a new folder in it named after the starter repository), with the
    pack's brief, limit and repository, and the redemption remembers the session. `progress`
    hears what is being done while the workspace is prepared.
    """
    here = (folder or Path.cwd()).absolute()
    tools = list(tools or ["shell"])
    # One `start` per key at a time: a second one started at the same moment waits, then
    # finds the session the first created and resumes it (instead of redeeming twice).
    with locked(_key_start_lock(key)):
        return _start_from_key(key, consent, here, workspace, pack_path, tools, progress, proxy)


def _key_start_lock(key: str) -> Path:
    from promptster.issue.keys import parse_key

    folder = candidate_state_dir()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = sha256_digest(parse_key(key).text.encode()).removeprefix("sha256:")[:32]
    return folder / f"start-{name}.lock"


def _start_from_key(
    key: str,
    consent: ConsentCallback,
    here: Path,
    workspace: Path | None,
    pack_path: Path | None,
    tools: list[str],
    progress: Callable[[str], None] | None,
    proxy: proxy_control.ProxyRequest | None,
) -> StartedSession:
    from promptster.issue import redeem

    live = _live_session(key, workspace, here)
    if live is not None:
        return start_session(StartOptions(workspace=live, tools=tools, proxy=proxy))
    redemption = redeem.redeem_key(key, pack_path, consent, folder=here, resume=True)
    pack = redemption.load_pack().pack
    repo = redemption.repo
    if proxy is not None and proxy.budget_usd is None:  # the assessment's tokenBudgetUsd
        proxy = dataclasses.replace(proxy, budget_usd=pack.token_budget_usd)
    if workspace is None:
        workspace = here / repo_folder(repo.url) if repo else here
    if progress is not None:
        progress(f"preparing {workspace} …")
    started = start_session(
        StartOptions(
            workspace=workspace,
            brief=pack.brief,
            title=f"{pack.role} — {pack.org}",
            time_limit_minutes=pack.time_limit_minutes,
            token_budget_usd=pack.token_budget_usd,
            allowed_tools=pack.allowed_tools,
            assessment_id=redemption.assessment_id,
            candidate_key=redemption.key,
            key_id=redemption.key_id,
            assessment_pack=redemption.pack_bytes(),
            repo_url=repo.url if repo else None,
            repo_rev=repo.rev if repo else None,
            key_redeemed_at=format_ts(redemption.redeemed_at),
            restarted_from=redemption.session_id if redemption.released_at else None,
            tools=tools,
            proxy=proxy,
        )
    )
    if not started.resumed:
        redeem.attach_session(redemption, started.state.session_id)
    return started


def repo_folder(url: str) -> str:
    """The folder a starter repository is cloned into: its name, as `git clone` picks it."""
    name = url.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    name = name.removesuffix(".git") or "workspace"
    return name if name not in (".", "..") else "workspace"


def _live_session(key: str, workspace: Path | None, here: Path) -> Path | None:
    """The workspace of this key's live session, if `start` already ran for it."""
    from promptster.issue import redeem
    from promptster.issue.keys import parse_key

    places = [workspace] if workspace is not None else [here]
    if workspace is None:
        earlier = redeem.find_redemption(key)
        if earlier is not None and earlier.repo is not None:
            places.append(here / repo_folder(earlier.repo.url))
    wanted = parse_key(key).text
    for place in places:
        handle = find_session(place) if place.exists() else None
        if handle is not None and (workspace is None or handle.workspace == place.absolute()):
            state = read_state(SessionPaths(handle.session_dir))
            if state.candidate_key and state.candidate_key != wanted:
                raise StateError(
                    f"{handle.workspace} is recording the session of another key "
                    f"({state.candidate_key})",
                    "start in another folder with --workspace",
                )
            if handle.active:
                return handle.workspace
            raise StateError(
                f"{handle.workspace} already has a session ({state.status})",
                "run `promptster submit` to finish it"
                if state.status == "ended"
                else "run `promptster reset` here to set it aside, then start again"
                if state.status != SUBMITTED
                else "this key was used by that session; ask the reviewer for a new key",
            )
    return None


def _adding_tool(name: str) -> Callable[[SessionState], None]:
    return lambda state: state.tools.append(name)


def _resume(paths: SessionPaths, options: StartOptions) -> StartedSession:
    state = read_state(paths)
    if state.status == ACTIVE:
        if options.proxy is not None and not (paths.root / apiproxy.CONFIG_FILE).exists():
            proxy_control.configure(paths.root, options.proxy)
            for tool in catalog.TOOLS:  # the tools already wired follow the new base URL
                if tool.adapter().is_active(state.workspace_path):
                    tool.adapter().setup(state.workspace_path)
        for tool in catalog.wanted(options.tools):
            if not tool.adapter().is_active(state.workspace_path):
                tool.adapter().setup(state.workspace_path)
            if tool.name not in state.tools:
                state = update_state(paths, _adding_tool(tool.name))
        return StartedSession(paths, state, resumed=True, recorder=RecorderCheck(False, False))
    if state.status == ENDED:
        raise StateError(
            "this workspace's session has ended but was not submitted",
            "run `promptster submit` to write the bundle",
        )
    if state.status == SUBMITTED:
        where = (state.bundle or {}).get("path", "")
        raise StateError(
            f"this workspace's session was already submitted ({where})",
            "start a new session in another folder, or `promptster reset` to set this one aside",
        )
    raise StateError(
        f"this workspace's session is {state.status}",
        "run `promptster reset` to set it aside, then start again",
    )


def _create(paths: SessionPaths, workspace: Path, options: StartOptions) -> StartedSession:
    _set_aside_leftovers(paths)
    cloned = None
    if options.repo_url:
        cloned = clone_starter(workspace, options.repo_url, options.repo_rev)
    wrote_task = False
    if options.brief:
        wrote_task = write_task_file(workspace, options.title, options.brief)
    exclude_from_candidate_git(workspace, ("/TASK.md",) if wrote_task else ())

    session_id = str(uuid.uuid4())
    key = SigningKey.generate()
    key.save(paths.key)
    defaults = SessionState(session_id, str(workspace), "", "")
    if options.proxy is not None:  # before the tools: their setup reads the proxy's URL
        proxy_control.configure(paths.root, options.proxy)
    for tool in catalog.wanted(options.tools):
        tool.adapter().setup(workspace)  # before the baseline: its files are never the candidate's
    shadow = ShadowRepo(
        paths.shadow_git,
        workspace,
        paths.shadow_index,
        max_file_bytes=options.max_file_bytes or defaults.max_file_bytes,
    )
    shadow.create()
    shadow.load()
    baseline = shadow.take("baseline")
    assert baseline is not None
    git_dir = candidate_git_dir(workspace)
    GitWatcher(session_id, git_dir, paths.gitwatch).start_here()

    started = datetime.now(UTC)
    started_at = format_ts(started)
    deadline = None
    if options.time_limit_minutes:
        deadline = format_ts(started + timedelta(minutes=options.time_limit_minutes))
    if options.brief:
        atomic_write_text(paths.brief, options.brief, mode=0o600)
    if options.assessment_pack is not None:
        atomic_write_bytes(paths.assessment, options.assessment_pack, mode=0o600)
    state = SessionState(
        session_id=session_id,
        workspace=str(workspace),
        socket=str(socket_path_for(session_id)),
        started_at=started_at,
        deadline=deadline,
        time_limit_minutes=options.time_limit_minutes,
        assessment_id=options.assessment_id,
        candidate_key=options.candidate_key,
        title=options.title,
        auto_submit=options.auto_submit,
        tools=list(options.tools),
        candidate_git_dir=str(git_dir) if git_dir else None,
    )
    if options.debounce_ms is not None:
        state.debounce_ms = options.debounce_ms
    if options.rescan_seconds is not None:
        state.rescan_seconds = options.rescan_seconds
    if options.max_file_bytes is not None:
        state.max_file_bytes = options.max_file_bytes
    start = system_event(
        Kind.SESSION_START,
        {
            "sessionId": session_id,
            "assessmentId": options.assessment_id,
            "keyId": options.key_id,
            # The bundle's signed manifest must repeat these two (a relabelled bundle cannot).
            "candidateKeyHash": candidate_key_hash(options.candidate_key),
            "packDigest": (
                sha256_digest(options.assessment_pack)
                if options.assessment_pack is not None
                else None
            ),
            "workspace": workspace.name,
            "timeLimitMinutes": options.time_limit_minutes,
            "tokenBudgetUsd": options.token_budget_usd,
            "allowedTools": (
                list(options.allowed_tools) if options.allowed_tools is not None else None
            ),
            "deadline": deadline,
            "tools": list(options.tools),
            "snapshot": baseline.commit,
            "promptsterVersion": __version__,
            "platform": f"{platform.system().lower()}-{platform.machine()}",
            "starterCommit": cloned,
            "keyRedeemedAt": options.key_redeemed_at,
            "restartedFrom": options.restarted_from,
        },
        emitter="promptster-cli",
    )
    start.data = {k: v for k, v in start.data.items() if v is not None}
    start.ts = started_at
    with JournalWriter(paths.journal, session_id) as journal:
        journal.append(start)
    write_state(paths, state)  # the session exists from here on
    return StartedSession(paths, state, False, RecorderCheck(False, False), cloned, wrote_task)


def _set_aside_leftovers(paths: SessionPaths) -> None:
    """A `start` that died before writing session.json leaves files; keep them, out of the way."""
    leftovers = [
        p
        for p in (paths.journal, paths.key, paths.shadow_git, paths.shadow_index, paths.gitwatch)
        if p.exists()
    ]
    if not leftovers:
        return
    aside = paths.root / f"incomplete-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
    aside.mkdir(mode=0o700)
    for path in leftovers:
        path.rename(aside / path.name)


def abort_session(paths: SessionPaths, reason: str | None = None) -> SessionState:
    """Stop recording without submitting. Nothing is deleted. `reason` (free text) goes
    into the session_end event as its `detail`."""
    state = read_state(paths)
    if state.status == ACTIVE:
        end_session(paths, "abort", reason)
        return read_state(paths)
    if state.status == ABORTED:
        return state
    raise StateError(f"the session is {state.status}; there is nothing to abort")


def reset_session(workspace: Path, *, purge: bool) -> Path | None:
    """Abort if needed, then set the session folder aside (or delete it with `purge`).

    Works when session.json is damaged. Returns where the folder was moved (None if purged).
    """
    paths = SessionPaths.for_workspace(workspace)
    if not paths.root.exists():
        raise StateError(f"there is no session folder in {workspace}")
    try:
        state = read_state(paths)
    except StateError:
        state = None
    if state is not None and state.status == ACTIVE:
        end_session(paths, "abort")
    with locked(paths.start_lock):
        if purge:
            shutil.rmtree(paths.root)
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        target = paths.root.with_name(f".promptster.reset-{stamp}")
        paths.root.rename(target)
        return target
