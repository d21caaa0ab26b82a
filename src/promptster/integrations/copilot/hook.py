"""`promptster hook copilot-cli <event>`: one Copilot CLI hook call becomes events for the
recorder (rules in `integrations/hookkit.py`; Copilot CLI payloads do not name their event, so
the command line does)."""

from __future__ import annotations

from promptster.integrations import hookkit
from promptster.integrations.copilot import events

TYPE_CHECKING = False  # no typing or pathlib at run time: the hook budget
if TYPE_CHECKING:
    from typing import BinaryIO

SPEC = hookkit.HookSpec(
    integration=events.INTEGRATION,
    label="Copilot CLI",
    normalize=events.normalize,
    event_names=events.HOOK_EVENTS,
)


def main(argv: list[str] | None = None, stdin: BinaryIO | None = None) -> int:
    return hookkit.main(SPEC, argv or [], stdin)
