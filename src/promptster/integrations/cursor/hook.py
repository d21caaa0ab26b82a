"""`promptster hook cursor`: one Cursor agent hook call becomes events for the recorder (rules
in `integrations/hookkit.py`; Cursor reads a JSON answer on stdout, so it gets `{}`, which
allows whatever the hook could have blocked)."""

from __future__ import annotations

from promptster.integrations import hookkit
from promptster.integrations.cursor import events

TYPE_CHECKING = False  # no typing or pathlib at run time: the hook budget
if TYPE_CHECKING:
    from typing import BinaryIO

SPEC = hookkit.HookSpec(
    integration=events.INTEGRATION,
    label="Cursor",
    normalize=events.normalize,
    event_names=events.HOOK_EVENTS,
    reply=b"{}\n",
    env_dirs=("CURSOR_PROJECT_DIR",),
)


def main(argv: list[str] | None = None, stdin: BinaryIO | None = None) -> int:
    return hookkit.main(SPEC, argv or [], stdin)
