"""The `data` of each event kind, as TypedDicts (docs/event-kinds.md, checked by a test).

The writers build their payloads as these types and the readers look fields up through them,
so a key spelled differently on the two sides is a type error. TypedDicts are plain dicts at
run time: nothing is checked or copied, and a reader must still treat every value of a bundle
as untrusted (a field may be absent, null or of another type; `.get` and a type check).
Writers on the hook path import this module only under TYPE_CHECKING.

Keys a newer Promptster adds are kept by every reader (an event's `data` round-trips as it
was written); these types describe what this version writes and reads.
"""

# No `from __future__ import annotations`: TypedDict reads NotRequired from evaluated annotations.
from typing import Any, NotRequired, TypedDict

JsonValue = Any


class _Payload(TypedDict):
    """What any event's `data` may carry."""

    afterDeadline: NotRequired[bool]  # recorded after the time limit (the recorder sets it)


class SessionStartData(_Payload):
    sessionId: str
    assessmentId: NotRequired[str]
    keyId: NotRequired[str]
    candidateKeyHash: NotRequired[str]
    packDigest: NotRequired[str]
    candidateName: NotRequired[str]
    workspace: str
    timeLimitMinutes: NotRequired[int]
    tokenBudgetUsd: NotRequired[float]  # the pack's, when it sets one
    allowedTools: NotRequired[list[str]]  # the pack's, when it sets them
    deadline: NotRequired[str]
    tools: list[str]
    snapshot: str
    promptsterVersion: str
    platform: str
    starterCommit: NotRequired[str]
    keyRedeemedAt: NotRequired[str]
    restartedFrom: NotRequired[str]


class SessionEndData(_Payload):
    reason: str
    snapshot: NotRequired[str | None]
    detail: NotRequired[str]


class PromptData(_Payload):
    text: str
    length: int
    lane: str
    likelyPaste: NotRequired[bool]
    promptId: NotRequired[str]
    slashCommand: NotRequired[str]
    truncated: NotRequired[bool]
    enteredAt: NotRequired[str]  # Aider: the input history's local time
    # The model-API recorder (source.channel "proxy"): the request it was read from.
    client: NotRequired[str]
    exchangeId: NotRequired[str]
    api: NotRequired[str]
    model: NotRequired[str]


class AiResponseData(_Payload):
    text: str
    lane: str
    model: NotRequired[str]
    # Every prompt token, cached or not (integrations/claude/events.py `usage_fields`); Codex
    # sums all the model responses since the previous reply.
    inputTokens: NotRequired[int]
    outputTokens: NotRequired[int]
    cachedInputTokens: NotRequired[int]  # the part of inputTokens read from the cache
    cacheWriteTokens: NotRequired[int]  # the part of inputTokens written to the cache
    costUsd: NotRequired[float]  # precomputed by the recorder that saw the call (the proxy)
    reasoningTokens: NotRequired[int]
    truncated: NotRequired[bool]
    tokensApproximate: NotRequired[bool]  # Aider rounds its counts ("2.5k")
    # The model-API recorder (source.channel "proxy"): the exchange (api-recorder.md).
    client: NotRequired[str]
    exchangeId: NotRequired[str]
    api: NotRequired[str]
    path: NotRequired[str]
    stream: NotRequired[bool]
    requestBytes: NotRequired[int]
    httpStatus: NotRequired[int]
    stopReason: NotRequired[str]
    toolCalls: NotRequired[list[str]]
    endReason: NotRequired[str]
    partial: NotRequired[bool]
    error: NotRequired[str]
    requestUnread: NotRequired[bool]
    firstByteMs: NotRequired[int]
    durationMs: NotRequired[int]


class ToolUseData(_Payload):
    toolName: str
    toolUseId: str
    input: dict[str, JsonValue]
    lane: str
    inputTruncated: NotRequired[bool]
    nativeToolName: NotRequired[str]  # when toolName is the Claude Code tool with its effect
    edits: NotRequired[list["EditClaim"]]  # a patch's claims, one per file (Codex apply_patch)


class EditPart(TypedDict):
    """One replacement of a MultiEdit claim."""

    oldString: str
    newString: str
    replaceAll: bool


class EditClaim(TypedDict):
    """What an AI edit tool says it changed (`tool_result.edit`)."""

    tool: str
    userModified: bool
    outsideWorkspace: NotRequired[bool]
    path: NotRequired[str]
    content: NotRequired[str]
    created: NotRequired[bool]
    oldString: NotRequired[str]
    newString: NotRequired[str]
    replaceAll: NotRequired[bool]
    edits: NotRequired[list[EditPart]]
    deleted: NotRequired[bool]  # apply_patch deleted the file
    cellId: NotRequired[str]
    editMode: NotRequired[str]
    truncated: NotRequired[bool]


class ToolResultData(_Payload):
    toolName: str
    toolUseId: str
    ok: bool
    lane: str
    output: NotRequired[str]
    outputTruncated: NotRequired[bool]
    edit: NotRequired[EditClaim]
    edits: NotRequired[list[EditClaim]]  # one claim per file when a call changed several
    changedFiles: NotRequired[list[str]]
    nativeToolName: NotRequired[str]


class CommandCounts(TypedDict):
    written: int  # wchar since the command began
    dirtied: NotRequired[int]  # write_bytes since then (file systems that count it)
    idleWhenModified: NotRequired[bool]  # nothing written around the file's modification time


class CommandWrites(TypedDict):
    bytesNeeded: int
    modifiedAt: NotRequired[str]  # the file's modification time, when before the snapshot
    commands: dict[str, CommandCounts]  # by toolUseId


class FileChangeData(_Payload):
    """`file_create`, `file_diff` and `file_delete`."""

    path: str
    commit: str
    linesAdded: int
    linesRemoved: int
    diff: NotRequired[str]
    diffTruncated: NotRequired[bool]
    binary: NotRequired[bool]
    sizeBytes: NotRequired[int]
    sha256: NotRequired[str]
    renamedFrom: NotRequired[str]
    aiLines: NotRequired[int]
    humanLines: NotRequired[int]
    trigger: NotRequired[str]
    # Found by the first snapshot after a recorder crash: when the file was last modified (its
    # mtime, not before the recorder went down); the time limit is judged by it.
    writtenDuringGapAt: NotRequired[str]
    # Linux: what the AI shell commands measured at that snapshot had written, and the fewest
    # bytes the change needed (docs/attribution.md, "Hand saves during an AI command").
    commandWrites: NotRequired[CommandWrites]


class CommandData(_Payload):
    command: str | None
    exitCode: int | None
    durationMs: int | None
    cwd: str
    shellLevel: NotRequired[int]
    outputHead: NotRequired[str]
    outputTail: NotRequired[str]
    outputTruncated: NotRequired[bool]
    outsideWorkspace: NotRequired[bool]
    interrupted: NotRequired[bool]
    fullscreen: NotRequired[bool]
    executed: NotRequired[bool]
    commandSource: NotRequired[str]
    background: NotRequired[bool]


class TestRunData(_Payload):
    tool: str
    suite: NotRequired[str]
    passed: int | None
    failed: int | None
    skipped: int | None
    errors: int | None
    durationMs: NotRequired[int | None]
    command: str
    exitCode: int | None
    outcome: NotRequired[str]  # absent in events written before outcomes were recorded
    commandEventId: NotRequired[str]


class BuildRunData(_Payload):
    tool: str
    category: str
    command: str
    exitCode: int | None
    durationMs: NotRequired[int | None]
    errorCount: NotRequired[int | None]
    commandEventId: NotRequired[str]


class GitActionData(_Payload):
    action: str
    ref: NotRequired[str]
    message: NotRequired[str]
    commit: NotRequired[str]


class DecisionData(_Payload):
    title: str
    chosenOption: str
    rationale: str
    context: NotRequired[str]
    tradeoffs: NotRequired[str]
    impactScore: NotRequired[int]
    files: NotRequired[list[str]]
    filesOutsideWorkspace: NotRequired[int]
    capturedVia: str
    missedDecision: NotRequired[bool]


class CheckpointData(_Payload):
    label: str
    trigger: str
    snapshot: NotRequired[str | None]


class PlanItem(TypedDict):
    """One item of a `planning` event's `items`."""

    text: str
    status: str


class PlanningData(_Payload):
    toolName: str
    items: NotRequired[list[PlanItem]]
    lane: str


class McpCallData(_Payload):
    server: str
    tool: str
    arguments: JsonValue
    ok: NotRequired[bool]
    lane: NotRequired[str]


class NoteData(_Payload):
    text: str
    lane: NotRequired[str]
    interrupted: NotRequired[bool]
    notificationType: NotRequired[str]


class WarningData(_Payload):
    """`code` and `message`, plus the fields of the codes that have any."""

    code: str
    message: str
    integration: NotRequired[str]
    lane: NotRequired[str]
    path: NotRequired[str]
    count: NotRequired[int]
    kinds: NotRequired[dict[str, int]]
    where: NotRequired[str]
    eventId: NotRequired[str]
    eventKind: NotRequired[str]
    sizeBytes: NotRequired[int]
    minutesLeft: NotRequired[int]
    deadline: NotRequired[str]
    gapMs: NotRequired[int]
    gapBytes: NotRequired[int]
    source: NotRequired[str]
    previousPid: NotRequired[int | None]
    tornBytes: NotRequired[int]
    rejected: NotRequired[int]
    shell: NotRequired[str]
    bytes: NotRequired[int]
    recordTypes: NotRequired[dict[str, int]]
    malformedLines: NotRequired[int]
    partialLastLine: NotRequired[bool]
    lines: NotRequired[int]
    jumpMs: NotRequired[int]
    sessionClock: NotRequired[str]
    claimed: NotRequired[str]
    allowedTools: NotRequired[list[str]]  # tool_not_allowed
    # The model-API recorder's codes.
    since: NotRequired[str]
    port: NotRequired[int]
    rewired: NotRequired[list[str]]
    client: NotRequired[str]
    budgetUsd: NotRequired[float | None]
    spentUsd: NotRequired[float]


Payload = (
    SessionStartData
    | SessionEndData
    | PromptData
    | AiResponseData
    | ToolUseData
    | ToolResultData
    | FileChangeData
    | CommandData
    | TestRunData
    | BuildRunData
    | GitActionData
    | DecisionData
    | CheckpointData
    | PlanningData
    | McpCallData
    | NoteData
    | WarningData
)

# The payload type of each kind this version knows (formats.events.Kind).
PAYLOADS: dict[str, type[Any]] = {
    "session_start": SessionStartData,
    "session_end": SessionEndData,
    "prompt": PromptData,
    "ai_response": AiResponseData,
    "tool_use": ToolUseData,
    "tool_result": ToolResultData,
    "file_create": FileChangeData,
    "file_diff": FileChangeData,
    "file_delete": FileChangeData,
    "command": CommandData,
    "test_run": TestRunData,
    "build_run": BuildRunData,
    "git_action": GitActionData,
    "decision_event": DecisionData,
    "checkpoint": CheckpointData,
    "planning": PlanningData,
    "mcp_call": McpCallData,
    "note": NoteData,
    "warning": WarningData,
}
# Objects nested in a payload, documented in their own table: (kind, field) → type.
NESTED: dict[tuple[str, str], type[Any]] = {
    ("tool_result", "edit"): EditClaim,
    ("tool_result", "edit.edits"): EditPart,
    ("planning", "items"): PlanItem,
    ("file_diff", "commandWrites"): CommandWrites,
    ("file_diff", "commandWrites.commands"): CommandCounts,
}
COMMON: type[Any] = _Payload
