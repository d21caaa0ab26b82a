"""Developer tasks: `nox -s tests`, `nox -s lint`, `nox -s typecheck`, `nox -s bench`,
`nox -s accuracy`."""

from __future__ import annotations

import os
import shutil

import nox

nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

PYTHON = ["3.11"]


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the test suite (real git, shells, DuckDB, SMTP, Chromium, Claude Code where present)."""
    session.install("-e", ".[test,judge]")
    args = session.posargs or ["-n", "auto", "--maxfail=50"]
    session.run("pytest", *args)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy in strict mode over the package."""
    session.install("-e", ".[test]", "mypy>=1.10")
    session.run("mypy")


@nox.session(python=PYTHON)
def accuracy(session: nox.Session) -> None:
    """Attribution accuracy on the labelled suite: real AI clients' sessions against stand-in
    model APIs (figures: docs/attribution.md, "Measured accuracy")."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/bench_attribution.py", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks against their floors, printed side by side (budgets: docs/performance.md)."""
    session.install("-e", ".[test]")
    # the peer of the recorded shell (bench_shell.py skips its case, saying so, without it)
    if shutil.which("asciinema") is None and shutil.which("apt-get") and os.geteuid() == 0:
        session.run("apt-get", "update", "-qq", external=True, success_codes=[0, 100])
        session.run("apt-get", "install", "-y", "-qq", "--no-install-recommends", "asciinema",
                    external=True, success_codes=[0, 100])  # fmt: skip
    scripts = sorted(str(p) for p in __import__("pathlib").Path("benchmarks").glob("bench_*.py"))
    for script in scripts:
        session.run("python", script, *session.posargs)


@nox.session(python=PYTHON)
def bench_proxy(session: nox.Session) -> None:
    """The model-API recorder alone: added first- and last-byte latency over 200 streamed
    replies against a direct connection (`nox -s bench` runs it with the others)."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/bench_proxy.py", *session.posargs)


@nox.session(python=PYTHON)
def bench_blame(session: nox.Session) -> None:
    """Line authorship at submit and `promptster blame` against their budgets."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/bench_blame.py", *session.posargs)
