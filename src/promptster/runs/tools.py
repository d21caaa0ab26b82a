"""What each verification tool's arguments mean: `go test` vs `go run`, `ruff format --check` vs
`ruff format`, `mvn install` (runs Surefire) vs `mvn clean`, `make check` vs `make clean`.

`TOOLS` maps an executable name to a classifier of its arguments. Tools that run *another*
command (`uv run`, `npx`, `bash -c`, `npm exec`) are handled in `run_commands`, which also
splits shell lines into simple commands before they get here.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from promptster.runs.text import Value

TYPE_CHECKING = False  # no typing or dataclasses at run time: the hook path imports this
if TYPE_CHECKING:
    from typing import Literal

    Kind = Literal["test", "build"]
    Category = Literal["test", "lint", "typecheck", "build"]
else:  # the aliases matter to mypy only; other modules import the names
    Kind = Category = str


class RunClass(Value):
    """A verification command: `kind` picks the event (`test_run` or `build_run`), `tool` names
    the runner ("pytest", "cargo-test", "ruff", "tsc", "npm-test"), `category` feeds the
    test/lint/typecheck/build breakdown of the signals."""

    __slots__ = ("category", "kind", "tool")
    kind: Kind
    tool: str
    category: Category

    def __init__(self, kind: Kind, tool: str, category: Category) -> None:
        self._set(kind=kind, tool=tool, category=category)


def run_class(tool: str, category: Category) -> RunClass:
    return RunClass("test" if category == "test" else "build", tool, category)


_RANK: dict[Category, int] = {"test": 3, "typecheck": 2, "lint": 1, "build": 0}


def most_telling(found: list[RunClass | None]) -> RunClass | None:
    """Of several runs in one command, the one to report: test > typecheck > lint > build."""
    ranked = [r for r in found if r is not None]
    return max(ranked, key=lambda r: _RANK[r.category]) if ranked else None


ToolClassifier = Callable[[list[str]], RunClass | None]

# --- argument helpers -------------------------------------------------------------------------

ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
INFO_FLAGS = frozenset({"--version", "--help", "-h", "--collect-only", "--co", "--list"})


def options(spelled: str) -> frozenset[str]:
    """A set of option names written as one space-separated string, for readable tables."""
    return frozenset(spelled.split())


def skip_options(args: list[str], with_value: frozenset[str] = frozenset()) -> list[str]:
    """The arguments from the first positional one on, skipping options (and their values)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[i + 1 :]
        if not arg.startswith("-") or arg == "-":
            return args[i:]
        i += 2 if (arg in with_value and "=" not in arg) else 1
    return []


def positionals(args: list[str], with_value: frozenset[str] = frozenset()) -> list[str]:
    found: list[str] = []
    rest = args
    while rest:
        rest = skip_options(rest, with_value)
        if rest:
            found.append(rest[0])
            rest = rest[1:]
    return found


# --- scripts, targets and envs named by the project -----------------------------------------

_TEST_WORDS = {"test", "tests", "spec", "specs", "e2e", "unit", "integration", "coverage"}
_TEST_WORDS |= {"jest", "vitest", "mocha", "pytest", "check"}
_TYPE_WORDS = {"type", "types", "typing", "typecheck", "typechecks", "tsc", "mypy", "pyright"}
_LINT_WORDS = {"lint", "linter", "eslint", "stylelint", "ruff", "flake", "style", "vet"}
_BUILD_WORDS = {"build", "compile", "bundle", "all", "dist", "release"}


def named_step(owner: str, name: str, *, check_is_test: bool) -> RunClass | None:
    """Classify a script/target/env name such as `test:unit`, `type-check`, `lint`, `build`.

    `check` is the GNU test-suite target for make; for npm scripts and tox envs it usually
    means lint (`format:check`) or, next to `type`, a type check."""
    lowered = name.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    if not check_is_test and "check" in words:
        words = (words - {"check"}) | ({"typecheck"} if "type" in words else {"lint"})
    if words & _TEST_WORDS:
        return run_class(f"{owner}-test", "test")
    if words & _TYPE_WORDS or re.sub(r"[^a-z]", "", lowered) == "checktypes":
        return run_class(f"{owner}-typecheck", "typecheck")
    if words & _LINT_WORDS:
        return run_class(f"{owner}-lint", "lint")
    if words & _BUILD_WORDS:
        return run_class(f"{owner}-build", "build")
    return None


def _targets(owner: str, values: frozenset[str]) -> ToolClassifier:
    """make/ninja: the most telling target; a bare `make` builds the default target."""

    def classify(args: list[str]) -> RunClass | None:
        names = [
            p for p in positionals(args, values) if not p.isdigit() and not ASSIGNMENT.match(p)
        ]
        if not names:
            return run_class(owner, "build")
        return most_telling([named_step(owner, name, check_is_test=True) for name in names])

    return classify


def _envs(owner: str, env_flags: frozenset[str], list_flags: frozenset[str]) -> ToolClassifier:
    """tox/nox: a test run unless every selected env is a lint, type-check or build env."""

    def classify(args: list[str]) -> RunClass | None:
        if set(args) & list_flags:
            return None
        names: list[str] = []
        for i, arg in enumerate(args):
            if arg in env_flags:
                for value in args[i + 1 :]:
                    if value.startswith("-"):
                        break
                    names.extend(n for n in value.split(",") if n)
            elif "=" in arg and arg.split("=", 1)[0] in env_flags:
                names.extend(arg.split("=", 1)[1].split(","))
        steps = [named_step(owner, name, check_is_test=False) for name in names]
        found = most_telling(steps)
        if found is None or any(s is None or s.category == "test" for s in steps):
            return run_class(owner, "test")
        return run_class(owner, found.category)

    return classify


def _monorepo(owner: str) -> ToolClassifier:
    """turbo / nx: `turbo run test`, `turbo test`, `nx test app`, `nx run app:lint`."""

    def classify(args: list[str]) -> RunClass | None:
        names = positionals(args, frozenset({"--filter", "-F", "--project", "-p"}))
        if names[:1] == ["run"]:
            names = names[1:]
        return (
            named_step(owner, names[0].rsplit(":", 1)[-1], check_is_test=False) if names else None
        )

    return classify


# --- tools with subcommands or modes ----------------------------------------------------------


def _sub(table: dict[str, RunClass], values: frozenset[str] = frozenset()) -> ToolClassifier:
    """`go test`, `dotnet build`, `deno lint`: the first positional picks the class."""

    def classify(args: list[str]) -> RunClass | None:
        rest = skip_options(args, values)
        return table.get(rest[0]) if rest else None

    return classify


def _when(flags: set[str], found: RunClass) -> ToolClassifier:
    """`black --check`, `prettier --check`: only the checking mode verifies anything."""
    return lambda args: found if flags & set(args) else None


def _always(found: RunClass) -> ToolClassifier:
    return lambda args: found


def _cargo(args: list[str]) -> RunClass | None:
    rest = skip_options([a for a in args if not a.startswith("+")], _CARGO_VALUES)
    if not rest:
        return None
    sub, tail = rest[0], rest[1:]
    if sub in ("test", "t"):
        return run_class("cargo-build", "build") if "--no-run" in tail else _test("cargo-test")
    if sub == "nextest":
        return _test("cargo-nextest") if skip_options(tail)[:1] in (["run"], ["r"]) else None
    if sub == "fmt":
        return run_class("cargo-fmt", "lint") if "--check" in tail else None
    return _CARGO_SUBCOMMANDS.get(sub)


_CARGO_VALUES = frozenset({"-Z", "--config", "-C", "--color"})
_CARGO_SUBCOMMANDS = {
    "build": run_class("cargo-build", "build"),
    "b": run_class("cargo-build", "build"),
    "check": run_class("cargo-check", "typecheck"),
    "c": run_class("cargo-check", "typecheck"),
    "clippy": run_class("cargo-clippy", "lint"),
}


def _maven(args: list[str]) -> RunClass | None:
    goals = positionals(args, _MAVEN_VALUES)
    skips_tests = any(a.startswith(("-DskipTests", "-Dmaven.test.skip")) for a in args)
    # Every lifecycle phase from `test` on runs Surefire, so `mvn install` is a test run too.
    if not skips_tests and any(g in _MAVEN_TEST_PHASES or g.endswith(":test") for g in goals):
        return _test("mvn-test")
    if any(g.endswith(":check") for g in goals):
        return run_class("mvn-lint", "lint")
    if set(goals) & (_MAVEN_TEST_PHASES | {"compile", "test-compile"}):
        return run_class("mvn-build", "build")
    return None


_MAVEN_VALUES = options(
    "-pl --projects -f --file -P --activate-profiles -s --settings -T --threads -rf "
    "--resume-from -D -gs -t -l --log-file -b"
)
_MAVEN_TEST_PHASES = {"test", "integration-test", "verify", "package", "install", "deploy"}


def _gradle(args: list[str]) -> RunClass | None:
    tasks = [t.rsplit(":", 1)[-1].lower() for t in positionals(args, _GRADLE_VALUES)]
    excluded = {args[i + 1].rsplit(":", 1)[-1] for i, a in enumerate(args[:-1]) if a == "-x"}
    found: list[RunClass | None] = []
    for task in tasks:
        runs_tests = task in ("build", "check") and "test" not in excluded  # build → check → test
        if runs_tests or task.startswith("test") or task.endswith(("test", "tests")):
            found.append(_test("gradle-test"))
        elif task.startswith("lint") or task.endswith("check") or task == "detekt":
            found.append(run_class("gradle-lint", "lint"))
        elif task.startswith(("assemble", "compile", "build")) or task in ("jar", "classes"):
            found.append(run_class("gradle-build", "build"))
    return most_telling(found)


_GRADLE_VALUES = options(
    "-p --project-dir -b --build-file -x --exclude-task --tests -c --settings-file -g "
    "--gradle-user-home -I --init-script --console --warning-mode"
)


def _ruff(args: list[str]) -> RunClass | None:
    rest = skip_options(args)
    if not rest:
        return None
    if rest[0] == "check":
        return run_class("ruff", "lint")
    if rest[0] == "format":
        return run_class("ruff-format", "lint") if {"--check", "--diff"} & set(args) else None
    if rest[0] in ("rule", "config", "linter", "clean", "version", "server", "analyze"):
        return None
    return run_class("ruff", "lint")  # `ruff .`: the pre-subcommand spelling of `ruff check`


def _rake(args: list[str]) -> RunClass | None:
    return most_telling([named_step("rake", t, check_is_test=True) for t in positionals(args)])


def _pytest(args: list[str]) -> RunClass | None:
    return None if {"--fixtures", "--markers"} & set(args) else _test("pytest")


def _test(tool: str) -> RunClass:
    return run_class(tool, "test")


def _lint(tool: str) -> ToolClassifier:
    return _always(run_class(tool, "lint"))


def _typecheck(tool: str) -> ToolClassifier:
    return _always(run_class(tool, "typecheck"))


def _build(tool: str) -> ToolClassifier:
    return _always(run_class(tool, "build"))


_TOX_ENVS = frozenset({"-e", "--env", "-f", "--factor", "-m", "--labels"})
_NOX_SESSIONS = frozenset({"-s", "--session", "--sessions", "-e", "-k", "-t", "--tags"})
_MAKE_VALUES = frozenset({"-C", "-f", "--file", "--directory", "-o", "-W", "-I"})

TOOLS: dict[str, ToolClassifier] = {
    # Python
    "pytest": _pytest,
    "unittest": _always(_test("unittest")),  # reached through `python -m unittest`
    "django-admin": _sub({"test": _test("django-test")}),
    "tox": _envs("tox", _TOX_ENVS, frozenset({"-l", "--listenvs", "-a", "list", "config"})),
    "nox": _envs("nox", _NOX_SESSIONS, frozenset({"-l", "--list", "--list-sessions"})),
    "mypy": _typecheck("mypy"),
    "dmypy": _typecheck("mypy"),
    "pyright": _typecheck("pyright"),
    "basedpyright": _typecheck("pyright"),
    "ruff": _ruff,
    **{tool: _lint(tool) for tool in ("flake8", "pylint", "pyflakes", "pycodestyle", "bandit")},
    "black": _when({"--check", "--diff"}, run_class("black", "lint")),
    "isort": _when({"--check", "--check-only", "--diff", "-c"}, run_class("isort", "lint")),
    # JavaScript / TypeScript
    "node": lambda args: _test("node-test") if "--test" in args else None,
    "jest": _always(_test("jest")),
    "vitest": lambda a: None if skip_options(a)[:1] in (["bench"], ["list"]) else _test("vitest"),
    "mocha": _always(_test("mocha")),
    "playwright": _sub({"test": _test("playwright")}),
    "tsc": lambda args: None if "--init" in args else run_class("tsc", "typecheck"),
    "vue-tsc": _typecheck("vue-tsc"),
    "svelte-check": _typecheck("svelte-check"),
    **{tool: _lint(tool) for tool in ("eslint", "stylelint", "oxlint", "tslint")},
    "biome": _sub({name: run_class("biome", "lint") for name in ("check", "lint", "ci")}),
    "prettier": _when({"--check", "-c", "--list-different", "-l"}, run_class("prettier", "lint")),
    "next": _sub(
        {"lint": run_class("next-lint", "lint"), "build": run_class("next-build", "build")}
    ),
    "vite": _sub({"build": run_class("vite-build", "build")}),
    **{tool: _build(tool) for tool in ("webpack", "rollup", "tsup", "esbuild")},
    "turbo": _monorepo("turbo"),
    "nx": _monorepo("nx"),
    "deno": _sub(
        {
            "test": _test("deno-test"),
            "lint": run_class("deno-lint", "lint"),
            "check": run_class("deno-check", "typecheck"),
        }
    ),
    # Go, Rust, JVM, .NET, C/C++, Swift
    "go": _sub(
        {
            "test": _test("go-test"),
            "vet": run_class("go-vet", "lint"),
            "build": run_class("go-build", "build"),
        }
    ),
    "gotestsum": _always(_test("gotestsum")),
    "golangci-lint": _lint("golangci-lint"),
    "staticcheck": _lint("staticcheck"),
    "gofmt": _when({"-l", "-d"}, run_class("gofmt", "lint")),
    "cargo": _cargo,
    "cargo-nextest": lambda args: _test("cargo-nextest") if "run" in args else None,
    "mvn": _maven,
    "gradle": _gradle,
    "dotnet": _sub({"test": _test("dotnet-test"), "build": run_class("dotnet-build", "build")}),
    "ctest": _always(_test("ctest")),
    "cmake": lambda args: run_class("cmake-build", "build") if "--build" in args else None,
    "make": _targets("make", _MAKE_VALUES),
    "ninja": _targets("ninja", frozenset({"-C", "-f", "-j", "-k", "-l", "-t"})),
    "meson": _sub({"test": _test("meson-test"), "compile": run_class("meson-build", "build")}),
    "bazel": _sub({"test": _test("bazel-test"), "build": run_class("bazel-build", "build")}),
    "swift": _sub({"test": _test("swift-test"), "build": run_class("swift-build", "build")}),
    **{tool: _build(tool) for tool in ("javac", "gcc", "g++", "clang", "clang++", "cc", "c++")},
    # Ruby, PHP, Elixir
    "rspec": _always(_test("rspec")),
    "rake": _rake,
    "rails": _sub({"test": _test("rails-test")}),
    "rubocop": _lint("rubocop"),
    "standardrb": _lint("standardrb"),
    "phpunit": _always(_test("phpunit")),
    "pest": _always(_test("pest")),
    "phpstan": _typecheck("phpstan"),
    "psalm": _typecheck("psalm"),
    "phpcs": _lint("phpcs"),
    "mix": _sub(
        {
            "test": _test("mix-test"),
            "compile": run_class("mix-build", "build"),
            "credo": run_class("credo", "lint"),
        }
    ),
    # any language
    "pre-commit": lambda a: (
        run_class("pre-commit", "lint") if skip_options(a)[:1] in ([], ["run"]) else None
    ),
    **{tool: _lint(tool) for tool in ("shellcheck", "hadolint", "yamllint", "actionlint")},
}
"""Classifier of the arguments of each verification tool, by executable name."""
