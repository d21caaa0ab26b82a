"""Run an assessment's hidden tests against a bundle's snapshot.

The snapshot is checked out of the bundle's `snapshots.bundle` into a temporary tree, the hidden
tests are written over it (the hidden copy wins where the candidate has a file of the same
name; the result lists those), and the command runs in the sandbox. Everything happens inside
one temporary folder that is always removed.
"""

from __future__ import annotations

import secrets
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader
from promptster.errors import EnvironmentProblem, PromptsterError
from promptster.gitutil import run_git
from promptster.reviewer.hidden_tests.results import (
    HiddenResult,
    TestCase,
    count,
    overall,
    parse_junit,
    parse_output,
)
from promptster.reviewer.hidden_tests.sandbox import Limits, SandboxRun, run_sandboxed
from promptster.reviewer.hidden_tests.suite import HiddenSuite, unpack_over

_PYTEST = {"pytest", "py.test"}


@dataclass(frozen=True)
class Prepared:
    argv: list[str]
    junit: Path | None  # where the runner writes its JUnit XML, inside the tree


def resolve_runner(command: str) -> list[str]:
    """The command's words with the runner resolved on this machine's PATH; EnvironmentProblem
    naming the runner when it is not installed."""
    words = shlex.split(command)
    found = shutil.which(words[0])
    if found is None:
        raise EnvironmentProblem(
            f"the hidden tests' runner {words[0]!r} is not installed on this machine",
            f"install {words[0]}, or change the command with `promptster assessment update "
            "ASSESSMENT --hidden-test-command CMD`",
        )
    return [found, *words[1:]]


def prepare(words: list[str], tree: Path, hidden_paths: list[str]) -> Prepared:
    """Ask pytest for JUnit XML (and no cache), and to collect only the hidden tests when the
    command names no path: the candidate's own tests are theirs, not the reviewer's (and a
    test module of the same name would clash). Other runners are read from their output."""
    name = Path(words[0]).name
    is_pytest = name in _PYTEST or (name.startswith("python") and words[1:3] == ["-m", "pytest"])
    if not is_pytest:
        return Prepared(words, None)
    # A name the submission cannot guess, so it cannot leave a forged report in its place.
    junit = tree / f".hidden-junit-{secrets.token_hex(8)}.xml"
    arguments = words[3:] if name.startswith("python") else words[1:]
    targets: list[str] = []
    if all(a.startswith("-") for a in arguments):
        targets = sorted({p.split("/")[0] for p in hidden_paths if p.endswith(".py")})
    return Prepared([*words, f"--junitxml={junit}", "-p", "no:cacheprovider", *targets], junit)


def checkout(bundle: Path, work: Path, commit: str | None = None) -> tuple[Path, str] | None:
    """Check the final snapshot (or `commit`) out into work/tree; None when the bundle has none."""
    try:
        with BundleReader(bundle) as reader:
            raw = reader.read(fmt.SNAPSHOTS)
    except PromptsterError:
        return None
    repo, file, tree = work / "repo.git", work / "snapshots.bundle", work / "tree"
    file.write_bytes(raw)
    run_git(["init", "--quiet", "--bare", str(repo)])
    fetched = run_git(
        ["fetch", "--quiet", "--no-tags", str(file), f"{fmt.SNAPSHOT_REF}:{fmt.SNAPSHOT_REF}"],
        git_dir=repo,
        check=False,
    )
    if fetched.returncode != 0:
        return None
    target = commit or fmt.SNAPSHOT_REF
    resolved = run_git(
        ["rev-parse", "--verify", "--quiet", f"{target}^{{commit}}"], git_dir=repo, check=False
    )
    if resolved.returncode != 0:
        return None
    sha = resolved.text.strip()
    tree.mkdir()
    run_git(["checkout", "--quiet", "-f", sha, "--", "."], git_dir=repo, work_tree=tree)
    (repo / "index").unlink(missing_ok=True)
    return tree, sha


def _result(
    suite: HiddenSuite,
    run: SandboxRun,
    junit: Path | None,
    overlapped: list[str],
    commit: str,
) -> HiddenResult:
    cases: list[TestCase] | None = None
    parsed_from = "junit"
    if junit is not None and junit.is_file() and not junit.is_symlink():
        cases = parse_junit(junit.read_bytes())
    if cases is None:
        from_output = parse_output(run.output)
        cases, parsed_from = from_output if from_output else ([], "exit code")
    if run.timed_out:
        outcome = "timeout"
        detail = f"the tests were stopped at the time limit ({suite.timeout_seconds} s)"
    else:
        outcome = overall(cases, run.returncode)
        detail = None
        if outcome == "error" and not cases:
            detail = f"the test runner exited with {run.returncode} and reported no test"
    return HiddenResult(
        outcome=outcome,  # type: ignore[arg-type]
        cases=tuple(cases),
        counts=count(cases),
        duration_ms=round(run.seconds * 1000),
        command=suite.command,
        exit_code=run.returncode,
        output=run.output,
        output_cut=run.output_cut,
        overlapped=tuple(overlapped),
        sandboxed=run.sandboxed,
        snapshot_commit=commit,
        suite_digest=suite.digest,
        detail=detail,
        parsed_from=parsed_from,
        process_limit=run.process_limit,
    )


def no_snapshot(suite: HiddenSuite) -> HiddenResult:
    return HiddenResult(
        outcome="no_snapshot",
        cases=(),
        counts=count([]),
        duration_ms=0,
        command=suite.command,
        exit_code=None,
        output="",
        output_cut=False,
        overlapped=(),
        sandboxed=False,
        snapshot_commit=None,
        suite_digest=suite.digest,
        detail="the bundle holds no snapshot of the submitted code to run the tests against",
        parsed_from="none",
    )


def run_hidden_tests(
    suite: HiddenSuite,
    bundle: Path,
    *,
    bwrap: str | None,
    commit: str | None = None,
    limits: Limits | None = None,
) -> HiddenResult:
    """Run `suite` against the bundle's final snapshot (or `commit`). `bwrap` None runs
    without a sandbox (the caller checked that this was asked for)."""
    argv = resolve_runner(suite.command)
    with tempfile.TemporaryDirectory(prefix="promptster-hidden-") as tmp:
        work = Path(tmp)
        checked = checkout(bundle, work, commit)
        if checked is None:
            return no_snapshot(suite)
        tree, sha = checked
        overlapped = unpack_over(suite, tree)
        prepared = prepare(argv, tree, suite.paths())
        run = run_sandboxed(
            prepared.argv,
            tree,
            limits or Limits(wall_seconds=float(suite.timeout_seconds)),
            bwrap=bwrap,
            # The submission's root is importable, as when its author ran the tests there.
            env={
                "PATH": f"{Path(argv[0]).parent}:/usr/local/bin:/usr/bin:/bin",
                "PYTHONPATH": str(tree),
            },
        )
        return _result(suite, run, prepared.junit, overlapped, sha)
