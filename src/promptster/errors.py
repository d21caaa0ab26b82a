"""One exception hierarchy for everything a user can cause or fix.

Each error carries a message (what is wrong), a hint (what to do) and an exit code. The CLI
turns them into output in exactly one place (`promptster.cli.main`); nothing else prints them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    CHECK_FAILED = 1  # the thing checked failed, e.g. a bundle did not verify
    USAGE = 2  # bad arguments or unreadable input
    ENVIRONMENT = 3  # something about this machine: git missing, disk full, recorder down


class PromptsterError(Exception):
    """Base class: a failure a user can understand and act on."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(PromptsterError):
    """A file, bundle, key or text given by the user cannot be used."""

    exit_code = ExitCode.USAGE


class FormatError(InputError):
    """Input is not in the expected format (broken JSON, not a bundle, bad member names)."""


class NewerFormatError(InputError):
    """Input was written by a newer Promptster than this one."""


class CheckFailed(PromptsterError):
    """A check ran and said no: a signature, a hash chain, a key."""

    exit_code = ExitCode.CHECK_FAILED


class EnvironmentProblem(PromptsterError):
    """The machine is not in a state where the command can work."""

    exit_code = ExitCode.ENVIRONMENT


class JournalLocked(EnvironmentProblem):
    """Another process is already writing this journal."""


class StateError(PromptsterError):
    """The command does not fit the current state (no session, session already running)."""

    exit_code = ExitCode.USAGE
