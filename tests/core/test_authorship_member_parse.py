"""Parsing authorship.json in `verify` (bundle/authorship.py): the nesting walk is skipped when
the member's shape accounts for every bracket of the text, with the same outcome as the walk
for every document (too deep is refused, brackets inside strings change nothing)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from promptster.bundle.authorship import FORMAT, _containers, decode, decode_outline
from promptster.errors import FormatError
from promptster.formats.jsonio import MAX_DEPTH, json_depth, loads_limited


def member(files: list[dict[str, Any]]) -> bytes:
    body = {"files": files, "format": FORMAT, "snapshot": "c" * 40, "version": 1}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def entry(path: str, lines: int, **extra: Any) -> dict[str, Any]:
    ranges = [{"author": "ai", "end": n, "start": n, **extra} for n in range(1, lines + 1)]
    return {"binary": False, "lines": lines, "path": path, "ranges": ranges}


def deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = [value]
    return value


def test_the_shape_counts_every_container_of_a_plain_member() -> None:
    data = member([entry(f"f{n}.py", 30) for n in range(5)])
    text = data.decode()
    assert _containers(json.loads(data)) == text.count("{") + text.count("[")
    assert len(decode_outline(data).files) == 5


@pytest.mark.parametrize(
    "files",
    [
        [entry("a.py", 3, tool=deep(MAX_DEPTH))],  # within a range
        [{**entry("a.py", 2), "extra": deep(MAX_DEPTH)}],  # beside the ranges
        [entry("a.py", 2), deep(MAX_DEPTH)],  # a file entry that is not an object
    ],
)
def test_a_member_nested_too_deeply_is_refused_as_before(files: list[Any]) -> None:
    data = member(files)
    assert json_depth(json.loads(data)) > MAX_DEPTH
    for parse in (decode, decode_outline):
        with pytest.raises(FormatError, match="nested deeper than 64 levels"):
            parse(data)
    with pytest.raises(FormatError, match="nested deeper than 64 levels"):
        loads_limited(data, what="authorship.json")  # without the shape: the same


def test_brackets_in_strings_only_mean_the_walk_runs() -> None:
    data = member([entry("{[{[" * 40 + ".py", 4, tool="[[[[{{{{" * 20)])
    text = data.decode()
    assert _containers(json.loads(data)) < text.count("{") + text.count("[")
    assert decode_outline(data).files[0].lines == 4


def test_duplicate_keys_are_still_refused() -> None:
    data = member([entry("a.py", 1)]).replace(b'"lines":1', b'"lines":1,"lines":1')
    with pytest.raises(FormatError, match="duplicate key 'lines'"):
        decode_outline(data)
