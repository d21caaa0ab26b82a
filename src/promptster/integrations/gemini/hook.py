"""`promptster hook gemini-cli`: one Gemini CLI hook call becomes events for the recorder
(rules in `integrations/hookkit.py`; Gemini CLI parses stdout as JSON, so it gets `{}`)."""

from __future__ import annotations

from promptster.integrations import hookkit
from promptster.integrations.gemini import events

TYPE_CHECKING = False  # no typing or pathlib at run time: the hook budget
if TYPE_CHECKING:
    from typing import BinaryIO

SPEC = hookkit.HookSpec(
    integration=events.INTEGRATION,
    label="Gemini CLI",
    normalize=events.normalize,
    event_names=events.HOOK_EVENTS,
    reply=b"{}\n",
    env_dirs=("GEMINI_PROJECT_DIR",),
)


def main(argv: list[str] | None = None, stdin: BinaryIO | None = None) -> int:
    return hookkit.main(SPEC, argv or [], stdin)
