"""Attribution accuracy on the labelled suite (tests/attribution/): real Claude Code and Codex
sessions against stand-in model APIs, the ground truth kept by the driver, every final line
scored.

Prints, per scenario and overall, line accuracy and precision / recall for `ai`, for
`promptster blame` (line-level authorship, when this checkout has it) and, for comparison, for
the per-event engine (each file event's verdict mapped to the final lines through the
snapshots). Targets (docs/attribution.md): ≥ 98 % of lines overall, ≥ 95 % in every scenario.

    python benchmarks/bench_attribution.py [--jobs 2] [--group a --group b] [--keep] [--markdown]

Exit status 0 when the figures were measured, whatever they are (a missing AI client skips its
group, saying so, as the other benchmarks skip a missing peer), 1 when a scenario could not be
driven (its ground truth would be wrong).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests" / p) for p in ("attribution", "integrations", "")]

from engines import blame_available  # noqa: E402  (the suite is shared with the tests)
from scenarios import SCENARIOS  # noqa: E402
from scoring import Score  # noqa: E402
from suite import GROUPS, GroupResult, executable_for, run_group  # noqa: E402

OVERALL_TARGET, SCENARIO_TARGET = 0.98, 0.95


def _one(group: str, root: str, executable: str) -> GroupResult:
    return run_group(group, Path(root) / group, executable)


def _cells(score: Score | None) -> str:
    if score is None:
        return f"{'-':>7} {'-':>6} {'-':>6}"
    return f"{score.accuracy:7.1%} {score.precision:6.1%} {score.recall:6.1%}"


def _print(results: list[GroupResult], with_blame: bool) -> None:
    order = [s.name for s in SCENARIOS]
    events = {n: s for r in results for n, s in r.events.items()}
    blame = {n: s for r in results if r.blame for n, s in r.blame.items()}
    head = f"{'scenario':34} {'lines':>5}   {'blame: acc':>7} {'P(ai)':>6} {'R(ai)':>6}"
    print(f"{head}   {'per-event: acc':>7} {'P(ai)':>6} {'R(ai)':>6}")
    totals = {"events": Score(), "blame": Score()}
    for name in order:
        if name not in events:
            continue
        line = f"{name:34} {events[name].lines:5}   {_cells(blame.get(name))}"
        print(f"{line}   {_cells(events[name])}")
        totals["events"].add(events[name])
        if name in blame:
            totals["blame"].add(blame[name])
    print("-" * 100)
    shown_blame = totals["blame"] if blame else None
    line = f"{'overall (every line)':34} {totals['events'].lines:5}   {_cells(shown_blame)}"
    print(f"{line}   {_cells(totals['events'])}")
    for label, scores in (("blame", blame), ("per-event", events)):
        if not scores:
            continue
        mean = sum(s.accuracy for s in scores.values()) / len(scores)
        worst = min(scores, key=lambda n: scores[n].accuracy)
        below = sorted(n for n, s in scores.items() if s.accuracy < SCENARIO_TARGET)
        print(
            f"{label}: mean over scenarios {mean:.1%}, worst {worst} "
            f"{scores[worst].accuracy:.1%}; below {SCENARIO_TARGET:.0%}: {', '.join(below) or '-'}"
        )
    if not with_blame:
        print("blame: `promptster blame` is not in this checkout; only the per-event engine ran")
    for name in order:
        for label, scores in (("blame", blame), ("per-event", events)):
            if name in scores and scores[name].wrong:
                print(f"  {label} {name}: {'; '.join(scores[name].wrong[:3])}")


def _pct(score: Score | None) -> str:
    if score is None:
        return "– | – | –"
    return f"{score.accuracy:.1%} | {score.precision:.1%} | {score.recall:.1%}"


def _markdown(results: list[GroupResult]) -> None:
    """The figures as the rows of docs/attribution.md's table."""
    events = {n: s for r in results for n, s in r.events.items()}
    blame = {n: s for r in results if r.blame for n, s in r.blame.items()}
    print("\n| scenario | what happens | lines | blame: accuracy | P(ai) | R(ai) "
          "| per-event: accuracy | P(ai) | R(ai) |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    totals = {"events": Score(), "blame": Score()}
    for scenario in SCENARIOS:
        if scenario.name not in events:
            continue
        totals["events"].add(events[scenario.name])
        if scenario.name in blame:
            totals["blame"].add(blame[scenario.name])
        print(
            f"| `{scenario.name}` | {scenario.what} | {events[scenario.name].lines} "
            f"| {_pct(blame.get(scenario.name))} | {_pct(events[scenario.name])} |"
        )
    shown = totals["blame"] if blame else None
    print(
        f"| **overall** | every line of every scenario | {totals['events'].lines} "
        f"| {_pct(shown)} | {_pct(totals['events'])} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="sessions at once (default 2)")
    parser.add_argument("--group", action="append", choices=sorted(GROUPS), help="only these")
    parser.add_argument("--keep", action="store_true", help="keep the sessions' folders")
    parser.add_argument("--markdown", action="store_true", help="also the docs table's rows")
    args = parser.parse_args()
    groups, clients = [], {}
    for group in args.group or sorted(GROUPS):
        found = shutil.which(executable_for(group))
        if found is None:
            print(f"bench_attribution: {executable_for(group)} is not installed: group {group} "
                  "not run", file=sys.stderr)  # fmt: skip
        else:
            groups.append(group)
            clients[group] = found
    if not groups:
        print("bench_attribution: skipped, no AI client installed")
        return 0
    root = tempfile.mkdtemp(prefix="pst-accuracy-")
    began = time.monotonic()
    try:
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(_one, g, root, clients[g]) for g in groups]
            results = [f.result() for f in futures]
    except AssertionError as error:
        print(f"bench_attribution: a scenario could not be driven: {error}", file=sys.stderr)
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(
        f"attribution accuracy: {len(results)} sessions, "
        f"{sum(len(GROUPS[g]) for g in groups)} scenarios, real AI clients, "
        f"{time.monotonic() - began:.0f} s" + (f" (kept in {root})" if args.keep else "")
    )
    _print(results, blame_available())
    if args.markdown:
        _markdown(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
