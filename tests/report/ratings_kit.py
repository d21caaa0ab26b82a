"""Three real recorded sessions of one assessment, issued by one reviewer with names.

The demo's machinery (promptster.demo.runner): the reviewer creates an identity, an
assessment and three named keys (and a second assessment with keys nobody redeemed); each
candidate runs `promptster start` with their key, works in the recorded shell (pexpect over a
real bash) and with scripted Claude Code hook calls, and submits. The sessions differ: Ada
does everything, Ben lets the AI fix it without a hand edit, Cy only runs the tests by hand.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from promptster.demo import scenario as sc
from promptster.demo.runner import CLI, Demo, prepare_folder
from promptster.demo.shell_driver import RecordedShell

CANDIDATES = (
    ("ada", "Ada Lovelace", "ada@example.com"),
    ("ben", "Ben Bitdiddle", "ben@example.com"),
    ("cy", "Cy D. Fect", "cy@example.com"),
)
TITLE = sc.TITLE
OTHER_TITLE = "Ledger rounding"


@dataclass(frozen=True)
class RecordedCohort:
    reviewer_home: Path  # PROMPTSTER_HOME of the reviewer (identity, workspace)
    bundles: dict[str, Path]
    assessment_id: str
    other_assessment_id: str


def _keys(
    demo: Demo, title: str, people: tuple[tuple[str, str, str], ...]
) -> tuple[str, list[str]]:
    brief = demo.reviewer / "brief.md"
    brief.write_text(sc.BRIEF)
    created = json.loads(
        demo.cli(
            demo.reviewer, "assessment", "create", "--title", title, "--role", sc.ROLE,
            "--brief", str(brief), "--time-limit", str(sc.TIME_LIMIT_MINUTES), "--json",
        )
    )  # fmt: skip
    assessment = str(created["assessment"]["id"])
    args = [a for _, name, email in people for a in ("--email", email, "--name", name)]
    made = json.loads(
        demo.cli(
            demo.reviewer, "keys", "create", assessment, *args,
            "--outbox", str(demo.reviewer / "outbox"), "--json",
        )
    )  # fmt: skip
    return assessment, [str(k["key"]) for k in made["keys"]]


def record_cohort(folder: Path) -> RecordedCohort:
    folder = prepare_folder(folder)
    demo = Demo(folder, lambda _step: None)
    bundles: dict[str, Path] = {}
    try:
        demo.tools()
        demo.reviewer.mkdir(parents=True, exist_ok=True)
        demo.cli(demo.reviewer, "identity", "init", "--org", sc.ORG)
        assessment, keys = _keys(demo, TITLE, CANDIDATES)
        other, _ = _keys(
            demo,
            OTHER_TITLE,
            (("dee", "Dee Bugger", "dee@example.com"), ("eve", "Eve Hacker", "eve@example.com")),
        )
        pack = folder / "pack.json"
        demo.cli(demo.reviewer, "assessment", "export", assessment, "-o", str(pack))
        for (who, _name, _email), key in zip(CANDIDATES, keys, strict=True):
            demo.candidate = folder / who
            demo.workspace = demo.candidate / "cart"
            demo.candidate.mkdir(parents=True)
            shutil.copy(pack, demo.pack)
            demo.start(key)
            with RecordedShell(demo.workspace, demo.env(demo.candidate), CLI) as shell:
                shell.run("ls", demo.tests)
                if who != "cy":
                    demo.scripted_ai()
                if who == "ada":
                    demo.hand_edits()
                    shell.run(demo.tests, shell.explain())
                elif who == "cy":
                    shell.run("cat cart.py", demo.tests)
            bundle = folder / f"{who}.pst"
            demo.cli(demo.candidate, "submit", "--yes", "-o", str(bundle), cwd=demo.workspace)
            bundles[who] = bundle
    finally:
        demo.close()
    return RecordedCohort(demo.reviewer / "promptster-home", bundles, assessment, other)
