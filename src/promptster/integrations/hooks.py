"""The module that handles `promptster hook <tool>` for each AI tool whose hook is not Claude
Code's (that one the console script knows by name).

Read by the console script before anything else is imported (`promptster.entry`), so it holds
one plain dict and imports nothing; the catalog takes its `hook` entries from here.
"""

from __future__ import annotations

HOOK_MODULES = {
    "gemini-cli": "promptster.integrations.gemini.hook",
    "cursor": "promptster.integrations.cursor.hook",
    "copilot-cli": "promptster.integrations.copilot.hook",
    "codex": "promptster.integrations.codex.hook",
}
