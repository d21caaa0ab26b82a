"""Hidden-test results kept in the reviewer workspace, keyed by bundle digest.

`HiddenTests` is what `review`, `score` and `cohort` use: it reads the suites and the stored
results once (the workspace is then closed, so worker processes can open it read-only), runs
what is missing, and saves the new results in one transaction at the end. A second review of
the same bundle reuses the stored result unless `rerun` is set; a changed suite (new digest)
runs again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from promptster import paths
from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader
from promptster.errors import EnvironmentProblem, PromptsterError
from promptster.reviewer.hidden_tests.over_time import (
    MAX_RUNS,
    HiddenSeries,
    OverTimePoint,
    SnapshotPoint,
    bounded,
    snapshot_points,
)
from promptster.reviewer.hidden_tests.results import HiddenResult
from promptster.reviewer.hidden_tests.run import resolve_runner, run_hidden_tests
from promptster.reviewer.hidden_tests.sandbox import require_sandbox
from promptster.reviewer.hidden_tests.suite import HiddenSuite, load_suite
from promptster.reviewer.store import Workspace

FINAL = "final"  # the snapshot_commit key of a run against the final snapshot
_ALL_SUITES = "SELECT assessment_id FROM main.hidden_test_suites"


@dataclass
class HiddenTests:
    """The hidden tests of the assessments of a batch of bundles, and their results."""

    suites: dict[str, HiddenSuite]
    stored: dict[tuple[str, str, str], HiddenResult]
    rerun: bool = False
    unsafe: bool = False
    workspace_path: Path | None = None
    new: dict[tuple[str, str, str], tuple[str | None, HiddenResult]] = field(default_factory=dict)
    _bwrap: str | None = None
    _checked: bool = False

    @classmethod
    def load(
        cls,
        assessment_ids: Sequence[str | None] | None = None,
        *,
        rerun: bool = False,
        unsafe: bool = False,
        workspace_path: Path | None = None,
    ) -> HiddenTests:
        """The suites of `assessment_ids` (all when None) and their stored results; empty
        when there is no reviewer workspace."""
        path = workspace_path or paths.workspace_db_path()
        empty = cls({}, {}, rerun, unsafe, path)
        if not path.exists():
            return empty
        try:
            workspace = Workspace.open(path, read_only=True)
        except EnvironmentProblem:
            return empty  # an older workspace has no hidden tests; a newer one is not ours
        with workspace:
            con = workspace.connection
            ids = (
                [
                    r[0]
                    for r in con.execute(
                        "SELECT assessment_id FROM main.hidden_test_suites"
                    ).fetchall()
                ]
                if assessment_ids is None
                else sorted({a for a in assessment_ids if a})
            )
            suites = {a: s for a in ids if (s := load_suite(workspace, a)) is not None}
            stored: dict[tuple[str, str, str], HiddenResult] = {}
            if suites and not rerun:
                digests = [s.digest for s in suites.values()]
                for sha, digest, commit, body in con.execute(
                    "SELECT bundle_sha256, suite_digest, snapshot_commit, result "
                    "FROM main.hidden_test_runs WHERE list_contains(?, suite_digest)",
                    [digests],
                ).fetchall():
                    try:
                        stored[(sha, digest, commit)] = HiddenResult.from_json_obj(json.loads(body))
                    except (ValueError, KeyError, TypeError):
                        continue  # a result this version cannot read runs again
        return cls(suites, stored, rerun, unsafe, path)

    def has_suite(self, assessment_id: str | None) -> bool:
        return assessment_id is not None and assessment_id in self.suites

    def check_ready(self, suite: HiddenSuite) -> None:
        """Raise EnvironmentProblem (exit 3) when `suite` cannot run here: no sandbox (unless
        unsafe) or its runner is not installed."""
        if not self._checked:
            self._bwrap = require_sandbox(self.unsafe)
            self._checked = True
        resolve_runner(suite.command)

    def result_for(
        self,
        bundle: Path,
        bundle_sha256: str,
        assessment_id: str | None,
        session_id: str | None = None,
        commit: str | None = None,
    ) -> HiddenResult | None:
        """The stored or a fresh result of the assessment's hidden tests on this bundle; None
        when the assessment has none."""
        if not self.has_suite(assessment_id):
            return None
        assert assessment_id is not None
        suite = self.suites[assessment_id]
        key = (bundle_sha256, suite.digest, commit or FINAL)
        if key in self.stored:
            return self.stored[key]
        if key in self.new:
            return self.new[key][1]
        self.check_ready(suite)
        result = run_hidden_tests(suite, bundle, bwrap=self._bwrap, commit=commit)
        self.new[key] = (session_id, result)
        return result

    def series_for(
        self,
        bundle: Path,
        bundle_sha256: str,
        assessment_id: str | None,
        session_id: str | None = None,
        final: HiddenResult | None = None,
    ) -> HiddenSeries | None:
        """The hidden tests' results at the session's checkpoints and where its own tests went
        green (at most MAX_RUNS runs, the latest kept), then the final snapshot's; each run is
        stored and reused like the final one. None when the assessment has no hidden tests."""
        if final is None:
            final = self.result_for(bundle, bundle_sha256, assessment_id, session_id)
        if final is None:
            return None
        try:
            with BundleReader(bundle) as reader:
                timeline = reader.read(fmt.TIMELINE)
        except PromptsterError:
            timeline = b""
        found = snapshot_points(timeline)
        points, left_out = bounded(found.points, MAX_RUNS - 1)
        series: list[OverTimePoint] = []
        for point in points:
            result = (
                final
                if point.commit == final.snapshot_commit
                else self.result_for(bundle, bundle_sha256, assessment_id, session_id, point.commit)
            )
            if result is not None:
                series.append(OverTimePoint(point, result))
        if final.snapshot_commit is not None:
            end = SnapshotPoint(
                found.last_seq, found.last_ts, "final", "final snapshot", final.snapshot_commit
            )
            series.append(OverTimePoint(end, final))
        return HiddenSeries(tuple(series), left_out)

    def save(self) -> int:
        """Write the new results into the workspace; how many were written. A workspace in use
        by another command is not waited for: the results are simply computed again."""
        if not self.new or self.workspace_path is None:
            return 0
        try:
            with Workspace.open(self.workspace_path) as workspace, workspace.transaction():
                for (sha, digest, commit), (session_id, result) in self.new.items():
                    workspace.connection.execute(
                        "INSERT OR REPLACE INTO main.hidden_test_runs (bundle_sha256, "
                        "suite_digest, snapshot_commit, session_id, ran_at, outcome, passed, "
                        "total, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            sha, digest, commit, session_id,
                            datetime.now(UTC).replace(tzinfo=None), result.outcome,
                            result.passed, result.total, json.dumps(result.to_json_obj()),
                        ],
                    )  # fmt: skip
        except PromptsterError:
            return 0
        saved = len(self.new)
        self.stored.update({k: v[1] for k, v in self.new.items()})
        self.new.clear()
        return saved
