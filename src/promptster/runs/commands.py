"""Which shell command lines run a test runner, a linter, a type checker or a build.

The input is what a person typed or an AI tool ran: one line or a small script, with env
assignments, wrappers (`uv run`, `npx`, `bundle exec`), pipes, `&&` chains, redirections,
`bash -lc "..."` and heredocs. Each simple command is classified on its own and the most telling
one wins (test over type-check over lint over build), so `cd x && pytest | tee log` is a pytest
run while `cat pytest.ini`, `echo pytest` or `git commit -m "fix tests"` is nothing.
"""

from __future__ import annotations

import functools
import re
import shlex
from collections.abc import Callable, Iterator

from promptster.runs.tools import (
    ASSIGNMENT,
    INFO_FLAGS,
    TOOLS,
    RunClass,
    most_telling,
    named_step,
    options,
    run_class,
    skip_options,
)

_MAX_DEPTH = 3  # nested `bash -c "sh -c '...'"` beyond this is not worth following


def classify_command(command_line: str) -> RunClass | None:
    """The verification run that `command_line` performs, or None for any other command."""
    if not _may_run_a_tool(command_line):
        return None  # most lines typed in a shell: no need to split them
    return _classify_line(command_line)


@functools.lru_cache(maxsize=256)
def _classify_line(command_line: str) -> RunClass | None:
    """`classify_command`'s answers, kept: the same test and build commands come back often."""
    return _classify_script(command_line, 0)


# Without quotes or backslashes, the words `_tokens` finds are pieces of the line between
# whitespace and separators, as this finds them, and a line none of whose pieces names a tool
# or a wrapper (`_exe_name`) cannot be a run: `ls`, `cd src`, `git status` skip shlex.
_QUOTING = re.compile(r"['\"\\]")
_PIECE = re.compile(r"[^ \t\r\n();<>|&]+")


def _may_run_a_tool(command_line: str) -> bool:
    if _QUOTING.search(command_line):
        return True
    return any(_is_known(piece) for piece in _PIECE.findall(command_line))


def _is_known(word: str) -> bool:
    name = _exe_name(word)
    return name in _WRAPPERS or name in TOOLS


def _classify_script(script: str, depth: int) -> RunClass | None:
    if depth > _MAX_DEPTH:
        return None
    return most_telling([_classify_words(words, depth) for words in _simple_commands(script)])


# --- splitting a script into simple commands ----------------------------------------------

_SEPARATOR_CHARS = set(";&|()")
_REDIRECT_CHARS = set("<>")


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # '#' inside words (URLs, "issue #5") is not a comment
    return list(lexer)


def _logical_lines(script: str) -> Iterator[list[str]]:
    """Token lists of the script's lines, joining continued and open-quoted lines and skipping
    heredoc bodies (their text is data, not commands)."""
    pending = ""
    heredoc_end: str | None = None
    for line in script.replace("\\\n", " ").split("\n"):
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        text = f"{pending}\n{line}" if pending else line
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        try:
            tokens = _tokens(text)
        except ValueError:  # an open quote: the command goes on on the next line
            pending = text
            continue
        pending = ""
        for index, token in enumerate(tokens[:-1]):
            if token in ("<<", "<<-"):
                heredoc_end = tokens[index + 1].lstrip("-")
        yield tokens
    # A quote that never closed (`echo it's done`): read those lines one by one instead.
    for line in pending.split("\n") if pending else []:
        try:
            yield _tokens(line)
        except ValueError:
            yield line.split()


def _simple_commands(script: str) -> Iterator[list[str]]:
    for tokens in _logical_lines(script):
        words: list[str] = []
        skip_next = False
        for token in tokens:
            if skip_next:
                skip_next = False
            elif token and set(token) <= _SEPARATOR_CHARS:
                if words:
                    yield words
                words = []
            elif token and set(token) <= _SEPARATOR_CHARS | _REDIRECT_CHARS:
                if words and words[-1].isdigit():  # the "2" of "2>&1"
                    words.pop()
                skip_next = True  # the target: a file, a fd ("1" of ">&1") or a heredoc tag
            else:
                words.append(token)
        if words:
            yield words


# --- prefixes and wrappers --------------------------------------------------------------------

_PREFIX_WITH_VALUE = {"timeout": 1, "nice": 0, "stdbuf": 0, "chrt": 1, "taskset": 1}
_PREFIX_OPTION_VALUES = {"-s", "--signal", "-k", "--kill-after", "-n", "--adjustment"}
_PLAIN_PREFIXES = {
    "time",
    "command",
    "exec",
    "nohup",
    "builtin",
    "noglob",
    "xvfb-run",
    "caffeinate",
    "unbuffer",
    "sudo",
    "doas",
}


def _strip_prefixes(words: list[str]) -> list[str]:
    """Drop what only sets up the environment: `FOO=1`, `env -u X`, `time`, `timeout 60`."""
    i = 0
    while i < len(words):
        word = words[i]
        name = _exe_name(word)
        if ASSIGNMENT.match(word) or word == "!":
            i += 1
        elif name == "env":
            i += 1
            while i < len(words) and (words[i].startswith("-") or ASSIGNMENT.match(words[i])):
                i += 2 if words[i] in ("-u", "-C", "--unset", "--chdir") else 1
        elif name in _PREFIX_WITH_VALUE:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in _PREFIX_OPTION_VALUES else 1
            i += _PREFIX_WITH_VALUE[name]
        elif name in _PLAIN_PREFIXES:
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if (name == "sudo" and words[i] in ("-u", "-g")) else 1
        else:
            break
    return words[i:]


_PYTHON = re.compile(r"python[\d.]*|py")
_ALIASES = {"py.test": "pytest", "gradlew": "gradle", "mvnw": "mvn", "gmake": "make"}


def _exe_name(word: str) -> str:
    name = word.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
    for suffix in (".exe", ".cmd", ".bat", ".sh"):
        name = name.removesuffix(suffix)
    if _PYTHON.fullmatch(name):
        return "python"
    return _ALIASES.get(name, name)


# --- dispatch: wrappers that run another command, then the tools themselves -----------------

Handler = Callable[[list[str], int], RunClass | None]
Unwrap = Callable[[list[str]], list[str] | None]

_WRAPPER_VALUES = options(
    "--with --with-editable --with-requirements --python -p --package --extra --group "
    "--only-group --env-file --directory --project --index --index-url --extra-index-url "
    "--from -w --spec -n --name --prefix -e --environment"
)


def _classify_words(words: list[str], depth: int) -> RunClass | None:
    words = _strip_prefixes(words)
    if not words:
        return None
    exe, args = _exe_name(words[0]), words[1:]
    wrapper = _WRAPPERS.get(exe)
    if wrapper is not None:
        return wrapper(args, depth)
    tool = TOOLS.get(exe)
    if tool is None or any(arg in INFO_FLAGS for arg in args):
        return None  # `pytest --version`, `jest --help` run no tests
    return tool(args)


def _unwrapping(unwrap: Unwrap) -> Handler:
    def handle(args: list[str], depth: int) -> RunClass | None:
        inner = unwrap(args)
        return _classify_words(inner, depth) if inner else None

    return handle


def _shell(args: list[str], depth: int) -> RunClass | None:
    # `bash -lc "cd repo && pytest"` is how AI tools run commands: follow the script.
    for i, arg in enumerate(args[:-1]):
        if re.fullmatch(r"-[a-z]*c[a-z]*", arg):
            return _classify_script(args[i + 1], depth + 1)
    return None


def _after_subcommand(names: set[str]) -> Unwrap:
    """`uv run CMD`, `poetry run CMD`, `bundle exec CMD`: the command after the subcommand."""

    def unwrap(args: list[str]) -> list[str] | None:
        rest = skip_options(args, _WRAPPER_VALUES)
        if not rest or rest[0] not in names:
            return None
        inner = skip_options(rest[1:], _WRAPPER_VALUES)
        if inner and ":" in inner[0] and not inner[0].startswith(("/", ".")):
            inner = [inner[0].split(":", 1)[1], *inner[1:]]  # `hatch run env:cmd`
        return inner

    return unwrap


def _first_positional(args: list[str]) -> list[str] | None:
    """`npx jest`, `uvx ruff check`: the wrapper runs its first positional argument."""
    return skip_options(args, _WRAPPER_VALUES) or None


def _npx(args: list[str]) -> list[str] | None:
    for i, arg in enumerate(args[:-1]):
        if arg in ("-c", "--call"):
            return ["bash", "-c", args[i + 1]]
    return _first_positional(args)


def _hatch(args: list[str]) -> list[str] | None:
    return ["pytest", *args[1:]] if args[:1] == ["test"] else _after_subcommand({"run"})(args)


def _python(args: list[str], depth: int) -> RunClass | None:
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-m" and i + 1 < len(args):
            module, rest = args[i + 1], args[i + 2 :]
            if module in _PYTHON_BUILD_MODULES:
                return run_class("python-build", "build")
            if module == "django":
                module = "django-admin"
            return _classify_words([module, *rest], depth)
        if arg == "-c":
            return None
        if arg.startswith("-"):
            i += 2 if arg in ("-X", "-W", "-Q") else 1
            continue
        if _exe_name(arg) == "manage.py" and args[i + 1 : i + 2] == ["test"]:
            return run_class("django-test", "test")
        return None
    return None


_PYTHON_BUILD_MODULES = {"build", "compileall", "py_compile"}


def _php(args: list[str], depth: int) -> RunClass | None:
    rest = skip_options(args)
    if rest[:2] == ["artisan", "test"]:
        return run_class("artisan-test", "test")
    return _classify_words(rest, depth) if rest and _exe_name(rest[0]) in TOOLS else None


def _script_runner(owner: str, values: frozenset[str] = frozenset()) -> Handler:
    """npm, pnpm, yarn, bun, composer: `X test`, `X run NAME`, `X exec CMD`, or `X NAME`, which
    runs the project's script NAME or, failing that, its binary NAME."""
    values = values | {"-w", "--workspace", "--filter", "-F", "-C", "--dir"}

    def handle(args: list[str], depth: int) -> RunClass | None:
        rest = skip_options(args, values)
        if rest[:1] == ["workspace"]:  # `yarn workspace PKG test`
            rest = rest[2:]
        if not rest or any(arg in INFO_FLAGS for arg in rest):
            return None
        verb, tail = rest[0], rest[1:]
        if verb in ("test", "t", "tst"):
            return run_class(f"{owner}-test", "test")
        if verb in ("run", "run-script", "rum", "urn"):
            names = skip_options(tail)
            return named_step(owner, names[0], check_is_test=False) if names else None
        if verb in ("exec", "x", "dlx"):
            inner = skip_options(tail, _WRAPPER_VALUES)
            return _classify_words(inner, depth) if inner else None
        if verb in _PACKAGE_MANAGER_VERBS:
            return None
        return _classify_words(rest, depth) or named_step(owner, verb, check_is_test=False)

    return handle


_PACKAGE_MANAGER_VERBS = {"install", "i", "ci", "add", "remove", "rm", "uninstall", "update"}
_PACKAGE_MANAGER_VERBS |= {"init", "create", "publish", "pack", "link", "list", "ls", "outdated"}

_WRAPPERS: dict[str, Handler] = {
    **dict.fromkeys(["bash", "sh", "zsh", "dash", "ksh"], _shell),
    **dict.fromkeys(
        ["uv", "poetry", "pipenv", "pdm", "rye", "conda", "mamba", "micromamba", "pipx"],
        _unwrapping(_after_subcommand({"run"})),
    ),
    "hatch": _unwrapping(_hatch),
    "bundle": _unwrapping(_after_subcommand({"exec"})),
    "direnv": _unwrapping(lambda args: args[2:] if args[:1] == ["exec"] else None),
    **dict.fromkeys(["uvx", "bunx", "pnpx", "dotenv"], _unwrapping(_first_positional)),
    "npx": _unwrapping(_npx),
    "python": _python,
    "php": _php,
    "npm": _script_runner("npm", frozenset({"--prefix"})),
    "pnpm": _script_runner("pnpm"),
    "yarn": _script_runner("yarn", frozenset({"--cwd"})),
    "bun": _script_runner("bun"),
    "composer": _script_runner("composer", frozenset({"-d", "--working-dir"})),
}
