"""The definitions written at the top of each signal family's SQL file.

Each `sql/signals_<family>.sql` opens with a comment: `Family: <family>.` and an intro, then
one `@signal NAME` section per signal it computes, saying exactly what the query does. The
text stays next to the query so that whoever changes one sees the other; docs/signals.md is
generated from it and the catalog (`catalog.SignalSpec.definition`) reads it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from promptster.analysis.database import sql_text


@dataclass(frozen=True)
class FamilyText:
    """A family's intro and its signals' definitions, in the order the SQL header gives them."""

    family: str
    intro: str
    signals: tuple[tuple[str, str], ...]  # (signal name, definition)


def _header(sql: str) -> list[str]:
    lines = []
    for line in sql.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line[2:].removeprefix(" ").rstrip())
    return lines


def _paragraphs(lines: list[str]) -> str:
    text, current = [], []
    for line in lines:
        if line:
            current.append(line)
        elif current:
            text.append(" ".join(current))
            current = []
    if current:
        text.append(" ".join(current))
    return "\n\n".join(text)


def parse_family(family: str, sql: str) -> FamilyText:
    """The family intro and each `@signal NAME` section of a SQL file's header comment."""
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in _header(sql):
        if line.startswith("@signal "):
            sections.append((line.split()[1], []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    intro_text = _paragraphs(intro).removeprefix(f"Family: {family}.").strip()
    return FamilyText(family, intro_text, tuple((n, _paragraphs(b)) for n, b in sections))


def sql_families() -> tuple[str, ...]:
    """The families that have a `sql/signals_<family>.sql` file, sorted."""
    folder = resources.files("promptster.analysis").joinpath("sql")
    names = (entry.name for entry in folder.iterdir())
    return tuple(
        sorted(
            n.removeprefix("signals_").removesuffix(".sql")
            for n in names
            if n.startswith("signals_") and n.endswith(".sql")
        )
    )


@cache
def family_text(family: str) -> FamilyText:
    """The parsed header of `sql/signals_<family>.sql` (read once per process)."""
    return parse_family(family, sql_text(f"signals_{family}.sql"))
