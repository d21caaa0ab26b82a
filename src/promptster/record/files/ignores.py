"""What the snapshots leave out (ignored folders, default excludes, secret files) and how
secrets inside files are redacted before git stores them."""

from __future__ import annotations

import fnmatch
import re

from promptster.record.redact.redactor import DEFAULT_SECRET_PATH_PATTERNS, redact_text

# Directory names never snapshotted nor watched: dependencies, virtualenvs, caches, build output.
IGNORED_DIR_NAMES = frozenset(
    {
        ".git", ".promptster", "node_modules", "bower_components", "jspm_packages", ".venv",
        "venv", ".virtualenv", "virtualenv", "__pycache__", ".mypy_cache", ".pytest_cache",
        ".ruff_cache", ".hypothesis", ".tox", ".nox", ".cache", ".parcel-cache", ".next", ".nuxt",
        ".svelte-kit", ".turbo", ".gradle", ".terraform", ".eggs", "build", "dist", "target",
        "coverage", "htmlcov", ".coverage_html", ".yarn", ".pnpm-store", ".bundle",
        ".ssh", ".gnupg",
    }
)  # fmt: skip
# Exactly these workspace-relative files, so the candidate's other `.claude/` files are kept.
CLAUDE_MANAGED_PATTERNS = (
    "/.claude/settings.local.json",
    "/.mcp.json",
    "/.claude/commands/explain.md",
)
# What `setup gemini-cli|cursor|copilot-cli` writes, and Aider's own history and cache files:
# the tools' bookkeeping, captured as events, not the candidate's work.
TOOL_MANAGED_PATTERNS = (
    "/.gemini/settings.json",
    "/.cursor/hooks.json",
    "/.cursor/mcp.json",
    "/.github/hooks/promptster.json",
    "/.aider.chat.history.md",
    "/.aider.input.history",
    "/.aider.llm.history",
    "/.aider.tags.cache.v*/",
)
DEFAULT_EXCLUDES = (
    *(f"{name}/" for name in sorted(IGNORED_DIR_NAMES)),
    ".promptster.*/",
    "*.egg-info/",
    "*.pyc",
    "*.pyo",
    "*.class",
    "*.o",
    "*.so",
    ".coverage",
    ".coverage.*",
    ".DS_Store",
    "Thumbs.db",
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    "4913",  # vim probes whether it may write in a folder with this file
    "*.pst",
    "/TASK.md.promptster-tmp",
    # Claude Code writes `<file>.tmp.<pid>.<hex>` and renames it over the file: a snapshot
    # taken in between must not record it as a file the candidate created and deleted.
    "*.tmp.[0-9]*.[0-9a-f]*",
    # What `setup claude-code` writes (claude_setup.MANAGED_PATHS): configuration, not work.
    *CLAUDE_MANAGED_PATTERNS,
    *TOOL_MANAGED_PATTERNS,
    *DEFAULT_SECRET_PATH_PATTERNS,
)


def redact_content(data: bytes) -> tuple[bytes, dict[str, int]]:
    """The content to store and the kinds of secrets removed.

    Text is redacted as UTF-8. Binary data (a NUL byte, or not UTF-8) is scanned as Latin-1,
    one character per byte, so an ASCII secret inside it (a token in a SQLite file, a key in
    a compiled artefact) is replaced too; the bytes around it stay as they were. Secrets in
    other encodings (UTF-16) are not found."""
    binary = b"\0" in data
    if not binary:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            binary = True
    if binary:
        text = data.decode("latin-1")
    result = redact_text(text)
    if not result.findings:
        return data, {}
    kinds: dict[str, int] = {}
    for finding in result.findings:
        kinds[finding.kind] = kinds.get(finding.kind, 0) + 1
    # placeholders are ASCII, so the Latin-1 round trip gives back every other byte unchanged
    return result.text.encode("latin-1" if binary else "utf-8"), kinds


def _prefilter() -> re.Pattern[str]:
    """One regex that matches a path part whenever some secret pattern could match the path.

    Every positive answer of `is_secret_path` needs a non-negated pattern to match, which
    means its last segment (or, for `dir/`, the folder) matches one part of the path; checking
    that first, in one case-insensitive regex, skips the exact check for almost every file.
    """
    parts = []
    for pattern in DEFAULT_SECRET_PATH_PATTERNS:
        if pattern.startswith("!"):
            continue
        segment = pattern.rstrip("/").rsplit("/", 1)[-1]
        parts.append(fnmatch.translate(segment))
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


_SECRET_PART = _prefilter()


def maybe_secret(path: str) -> bool:
    return any(_SECRET_PART.match(part) for part in path.split("/"))


def literal_pattern(path: str) -> str:
    """A gitignore pattern that matches exactly this workspace-relative path."""
    escaped = "".join("\\" + c if c in "\\*?[]!#" else c for c in path)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped
