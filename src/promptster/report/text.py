"""Candidate-controlled text made safe to show: control characters visible, sizes bounded.

Everything in a bundle was written on the candidate's machine, so every string (prompts, file
contents, command output, file names, terminal bytes) is hostile input to the reviewer's
browser. HTML escaping is the template's job (jinja2 autoescape) and the script's (text nodes,
never markup). This module handles what escaping does not: terminal escape sequences, other
control characters and bidirectional overrides are turned into visible symbols, so an ANSI or
OSC sequence, or a "Trojan Source" reordering, reads as what it is.
"""

from __future__ import annotations

import re

# C0 controls except tab and newline, DEL, and the C1 block.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional embeddings, overrides and isolates, plus the invisible marks that steer them.
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode "control pictures": ␛ for ESC
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"\u27e8{code:02X}\u27e9"  # a C1 control: ⟨9B⟩


def visible(text: str) -> str:
    """`text` with control characters and bidi controls shown as visible symbols."""
    if not text.isprintable():
        text = _CONTROLS.sub(_picture, text.replace("\r\n", "\n"))
        text = _BIDI.sub(lambda m: f"\u27e8U+{ord(m.group()):04X}\u27e9", text)
    return text


def bounded(text: str, limit: int) -> tuple[str, bool]:
    """At most `limit` characters of visible text, and whether some were cut."""
    if len(text) <= limit and text.isprintable():
        return text, False
    if len(text) > limit:
        return visible(text[:limit]), True
    return visible(text), False


def clip(text: str, limit: int) -> str:
    """Visible text of at most `limit` characters, ending in an ellipsis when cut."""
    shown, cut = bounded(text, limit)
    return shown + "…" if cut else shown


def as_text(value: object, limit: int) -> str:
    """A JSON value from a bundle as bounded visible text ("" when absent)."""
    if value is None:
        return ""
    if type(value) is str:
        if len(value) <= limit and value.isprintable():
            return value
        return clip(value, limit)
    return clip(str(value), limit)


def one_line(value: object, limit: int = 200) -> str:
    """The first line of a value, bounded: for titles, summaries and table cells."""
    if type(value) is str and len(value) <= limit and value.isprintable():
        return value.strip()
    text = as_text(value, limit * 4)
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= limit else first[:limit] + "…"
