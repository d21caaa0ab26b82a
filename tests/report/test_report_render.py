"""The rendered file: self-contained, CSP by hash, escaped, data blocks that decode, budgets."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from report_kit import PAYLOADS, decode_block

from promptster.report import timeline_data
from promptster.report.render import SCRIPTS, static_text


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: dict[str, str] = {}
        self.inline: dict[str, list[str]] = {"script": [], "style": []}
        self._open: str | None = None
        self._attrs: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open, self._attrs = tag, dict(attrs)

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open == "script" and self._attrs.get("type") == "application/json":
            self.data[str(self._attrs["id"])] = data
        elif self._open in ("script", "style"):
            self.inline[self._open].append(data)


def _parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text("utf-8"))
    return collector


def _csp(collector: _Collector) -> str:
    return next(
        str(a["content"])
        for t, a in collector.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )


def _sha(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def test_one_script_and_one_style_allowed_by_hash(reports: dict[str, Path]) -> None:
    page = _parse(reports["ordinary"])
    csp = _csp(page)
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    [script], [style] = page.inline["script"], page.inline["style"]
    assert f"script-src {_sha(script)}" in csp
    assert f"style-src {_sha(style)}" in csp
    assert script == "\n".join(static_text(name) for name in SCRIPTS["report"])


def test_no_external_reference_and_no_inline_handler(reports: dict[str, Path]) -> None:
    for name in ("ordinary", "hostile", "synth"):
        page = _parse(reports[name])
        for tag, attrs in page.tags:
            assert not any(key.startswith("on") for key in attrs), (tag, attrs)
            assert "style" not in attrs, (tag, attrs)
            for key in ("src", "href", "action", "srcset", "data"):
                value = attrs.get(key)
                assert value is None or value.startswith("#"), (tag, key, value)


def test_hostile_strings_are_escaped_in_the_markup(reports: dict[str, Path]) -> None:
    html = reports["hostile"].read_text("utf-8")
    for payload in PAYLOADS[:5]:
        assert payload not in html
    assert "&lt;script&gt;window.__pwned=&#39;script&#39;&lt;/script&gt;" in html
    assert "\x1b" not in html and "\u202e" not in html
    page = _parse(reports["hostile"])
    assert [t for t, _ in page.tags].count("script") == 1 + len(page.data)
    assert all(t != "img" and t != "iframe" for t, _ in page.tags)


def test_data_blocks_decode_to_what_the_page_needs(
    reports: dict[str, Path], bundles: dict[str, Path]
) -> None:
    page = _parse(reports["ordinary"])
    assert set(page.data) == {"ps-events", "ps-diffs", "ps-files", "ps-cast-0"}
    events = decode_block(page.data["ps-events"])
    assert len(events["rows"]) == 14
    seq, t, kind, _actor, _source, _attribution, body = events["rows"][2]
    assert (seq, t, events["kinds"][kind]) == (2, 20_000, "prompt")
    assert body["text"] == "Fix add() in app.py; keep the signature."
    assert events["evidence"]["commandFailRate"] == [6]
    diffs = decode_block(page.data["ps-diffs"])
    assert diffs["3"] == [
        "@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b",
        0,
    ]
    files = decode_block(page.data["ps-files"])
    assert [(f["path"], f["status"], f["history"]) for f in files] == [
        ("app.py", "modified", [3]),
        ("test_app.py", "added", [5, 8]),
    ]
    # authorship.json colours the lines: [first, last, author, event seq, tool]
    assert files[0]["authors"][0][:2] == [1, 1] and files[0]["authors"][0][2] == "starter"
    assert {tuple(r[2:4]) for r in files[0]["authors"]} >= {("starter", None)}
    cast = decode_block(page.data["ps-cast-0"])
    assert cast["width"] == 80 and cast["frames"][-1][2].endswith("$ ")


def test_long_fields_shrink_to_the_text_budget(monkeypatch: Any) -> None:
    monkeypatch.setattr(timeline_data, "TEXT_BUDGET", 40_000)
    line = {"seq": 0, "ts": "2026-01-01T00:00:00.000Z", "kind": "ai_response"}
    text = "word " * 2000
    timeline = b"".join(
        json.dumps({**line, "seq": i, "data": {"text": text}}).encode() + b"\n" for i in range(20)
    )
    rows: list[list[Any]] = []
    digest = timeline_data.digest_timeline(timeline, None, rows=rows)
    assert digest.field_cap == 40_000 // (20 * 2)
    assert all(len(row[6]["text"]) <= digest.field_cap + 1 for row in rows)
    assert digest.cut_fields == 20
    prompt = {**line, "kind": "prompt", "data": {"text": text}}
    rows.clear()
    timeline_data.digest_timeline(json.dumps(prompt).encode() + b"\n", None, rows=rows)
    assert rows[0][6]["text"] == text  # prompts are shown in full


def test_report_size_is_reported_per_block(reports: dict[str, Path]) -> None:
    html = reports["large"].read_text("utf-8")
    sizes = {m[0]: int(m[1]) for m in re.findall(r'id="(ps-[a-z0-9-]+)" data-bytes="(\d+)"', html)}
    assert set(sizes) >= {"ps-events", "ps-diffs", "ps-files"}
    assert len(html.encode()) < sum(sizes.values())  # compressed below the raw JSON


def test_a_restart_after_abort_and_reset_is_shown_in_the_summary(tmp_path: Path) -> None:
    from report_kit import ordinary

    from promptster.report.review import review_bundle

    plain = review_bundle(
        ordinary().build(tmp_path / "plain.pst"), tmp_path / "plain.html", extra_checks=[]
    )
    assert "second attempt" not in plain.output.read_text("utf-8")
    script = ordinary("restarted")
    script.start_extra = {
        "restartedFrom": "0193-aborted-<b>session",
        "keyRedeemedAt": "2026-02-02T09:00:00.000Z",
    }
    result = review_bundle(
        script.build(tmp_path / "restarted.pst"), tmp_path / "restarted.html", extra_checks=[]
    )
    html = result.output.read_text("utf-8")
    assert "second attempt" in html
    assert "replaces session 0193-aborted-&lt;b&gt;session" in html
    assert "first redeemed 2026-02-02 09:00:00 UTC" in html
