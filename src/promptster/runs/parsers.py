"""Parsers for the closing summary that each test runner prints.

Each parser reads cleaned text (no ANSI codes, ``\\n`` line ends) and returns the counts of the
*last* run in it plus the offset where that summary ends, so that a wrapper such as ``tox`` or
``npm test`` can be parsed by trying every parser and keeping the latest summary. Runners that
print one line per test binary or module (cargo, go, Maven, Gradle, dotnet) are summed over the
last invocation. Parsers never raise on arbitrary text: a missing or malformed summary is None.

Counting conventions, so numbers compare across runners:
- expected failures (pytest ``xfailed``, unittest ``expected failures``) count as skipped, as
  pytest's JUnit XML does; unexpected passes count the way the runner judges them (pytest
  ``xpassed`` passed, unittest ``unexpected successes`` failed).
- ``todo``/``pending``/``incomplete``/``disabled`` count as skipped.
- ``errors`` are things that broke outside a test body: collection/import errors, fixtures and
  hooks, suites or packages that failed to load or build, tests that could not be started.
"""

from __future__ import annotations

import re

from promptster.runs.text import (
    NUM,
    Counts,
    duration_ms,
    last_match,
    lazy_re,
    make_counts,
    seconds_ms,
)

# --- pytest -------------------------------------------------------------------------------

_PYTEST = lazy_re(
    r"^=*[ \t]*(?P<body>(?:\d{1,9} [a-z]+(?:, )?)+|no tests ran)"
    r"[ \t]+in[ \t]+(?P<secs>\d{1,9}(?:\.\d+)?)s"
    r"(?:[ \t]*\([\d:]+\))?[ \t]*=*[ \t]*$",
    re.MULTILINE,
)
_PYTEST_ITEM = lazy_re(NUM + r" ([a-z]+)")
_PYTEST_WORDS = {
    "passed": "passed",
    "xpassed": "passed",
    "failed": "failed",
    "skipped": "skipped",
    "xfailed": "skipped",
    "error": "errors",
    "errors": "errors",
}
_PYTEST_IGNORED = {"deselected", "warning", "warnings", "rerun", "subtests"}


def parse_pytest(text: str) -> Counts | None:
    match = last_match(_PYTEST, text)
    if match is None:
        return None
    totals = {"passed": 0, "failed": 0, "skipped": 0, "errors": 0}
    known = match.group("body") == "no tests ran"
    for item in _PYTEST_ITEM.finditer(match.group("body")):
        word = item.group(2)
        if word in _PYTEST_WORDS:
            totals[_PYTEST_WORDS[word]] += int(item.group(1))
            known = True
        elif word in _PYTEST_IGNORED:
            known = True
    if not known:
        return None
    return make_counts(**totals, duration=seconds_ms(match.group("secs")), end=match.end())


# --- unittest (also Django's test runner) -------------------------------------------------

_UNITTEST_RAN = lazy_re(r"^Ran " + NUM + r" tests? in (\d{1,9}(?:\.\d+)?)s[ \t]*$", re.MULTILINE)
_UNITTEST_STATUS = lazy_re(r"^(OK|FAILED|NO TESTS RAN)(?: \(([^)\n]*)\))?[ \t]*$", re.MULTILINE)
_UNITTEST_ITEM = lazy_re(r"([a-z ]+)=" + NUM)


def parse_unittest(text: str) -> Counts | None:
    ran = last_match(_UNITTEST_RAN, text)
    if ran is None:
        return None
    status = _UNITTEST_STATUS.search(text, ran.end(), min(len(text), ran.end() + 400))
    if status is None:
        return None
    details = {k.strip(): int(v) for k, v in _UNITTEST_ITEM.findall(status.group(2) or "")}
    total = int(ran.group(1))
    failed = details.get("failures", 0) + details.get("unexpected successes", 0)
    errors = details.get("errors", 0)
    skipped = details.get("skipped", 0) + details.get("expected failures", 0)
    passed = total - failed - errors - skipped
    return make_counts(passed, failed, skipped, errors, seconds_ms(ran.group(2)), status.end())


# --- node --test (spec reporter: "ℹ tests 8", TAP reporter: "# tests 8") ------------------

_NODE_TESTS = lazy_re(r"^[ℹ#] tests " + NUM + r"[ \t]*$", re.MULTILINE)
_NODE_FIELD = lazy_re(r"[ℹ#] (suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)")


def parse_node_test(text: str) -> Counts | None:
    match = last_match(_NODE_TESTS, text)
    if match is None:
        return None
    fields: dict[str, float] = {}
    end = match.end()
    for line in text[match.end() :].split("\n")[1:9]:
        field = _NODE_FIELD.fullmatch(line.strip())
        if field is None:
            break
        try:
            fields[field.group(1)] = float(field.group(2))
        except ValueError:
            return None
        end = text.find(line, end) + len(line)
    if "pass" not in fields or "fail" not in fields:
        return None
    duration = fields.get("duration_ms")
    return make_counts(
        int(fields["pass"]),
        int(fields["fail"]),
        int(fields.get("skipped", 0) + fields.get("todo", 0)),
        int(fields.get("cancelled", 0)),
        round(duration) if duration is not None else None,
        end,
    )


# --- Jest -----------------------------------------------------------------------------------

_JEST_TESTS = lazy_re(r"^Tests:(?P<body>[^\n]*?)" + NUM + r" total[ \t]*$", re.MULTILINE)
_JEST_ITEM = lazy_re(NUM + r" (failed|skipped|todo|passed)")
_JEST_TIME = lazy_re(r"^Time:[ \t]+([^\n]+)$", re.MULTILINE)
_JEST_SUITE_ERROR = lazy_re(r"Test suite failed to run")


def parse_jest(text: str) -> Counts | None:
    matches = list(_JEST_TESTS.finditer(text))
    if not matches:
        return None
    match = matches[-1]
    start = matches[-2].end() if len(matches) > 1 else 0
    items = {word: int(n) for n, word in _JEST_ITEM.findall(match.group("body"))}
    errors = len(_JEST_SUITE_ERROR.findall(text, start, match.start()))
    time = _JEST_TIME.search(text, match.end(), min(len(text), match.end() + 300))
    return make_counts(
        items.get("passed", 0),
        items.get("failed", 0),
        items.get("skipped", 0) + items.get("todo", 0),
        errors,
        duration_ms(time.group(1)) if time else None,
        match.end(),
    )


# --- Vitest ---------------------------------------------------------------------------------

_VITEST_TESTS = lazy_re(
    # the body starts at a non-blank so that it cannot compete with ` {2,}` for the spaces
    r"^[ \t]*Tests {2,}(?P<body>[^ (\n][^(\n]*)\(" + NUM + r"\)[ \t]*$",
    re.MULTILINE,
)
_VITEST_ITEM = lazy_re(NUM + r" (failed|passed|skipped|todo)")
_VITEST_ERRORS = lazy_re(r"^[ \t]*Errors {2,}" + NUM + r" errors?", re.MULTILINE)
_VITEST_FAILED_SUITES = lazy_re(r"Failed Suites " + NUM)
_VITEST_DURATION = lazy_re(r"^[ \t]*Duration {2,}([^\n(]+)", re.MULTILINE)


def parse_vitest(text: str) -> Counts | None:
    matches = list(_VITEST_TESTS.finditer(text))
    if not matches:
        return None
    match = matches[-1]
    start = matches[-2].end() if len(matches) > 1 else 0
    items = {word: int(n) for n, word in _VITEST_ITEM.findall(match.group("body"))}
    if not items:
        return None
    errors = sum(int(n) for n in _VITEST_FAILED_SUITES.findall(text, start, match.start()))
    tail = text[match.end() : match.end() + 400]
    unhandled = _VITEST_ERRORS.search(tail)
    if unhandled:
        errors += int(unhandled.group(1))
    duration = _VITEST_DURATION.search(tail)
    return make_counts(
        items.get("passed", 0),
        items.get("failed", 0),
        items.get("skipped", 0) + items.get("todo", 0),
        errors,
        duration_ms(duration.group(1)) if duration else None,
        match.end(),
    )


# --- Mocha ----------------------------------------------------------------------------------

_MOCHA_PASSING = lazy_re(r"^[ \t]*" + NUM + r" passing \(([^)\n]*)\)[ \t]*$", re.MULTILINE)
_MOCHA_MORE = lazy_re(r"[ \t]*" + NUM + r" (pending|failing)[ \t]*")
_MOCHA_HOOK = lazy_re(r'^[ \t]*(?:\d+\) .*)?"(?:before|after) (?:all|each)" hook', re.MULTILINE)


def parse_mocha(text: str) -> Counts | None:
    match = last_match(_MOCHA_PASSING, text)
    if match is None:
        return None
    more: dict[str, int] = {}
    end = match.end()
    for line in text[match.end() :].split("\n")[1:3]:
        item = _MOCHA_MORE.fullmatch(line)
        if item is None:
            break
        more[item.group(2)] = int(item.group(1))
        end = text.find(line, end) + len(line)
    failing = more.get("failing", 0)
    # The failure list follows the summary; failed hooks are listed there by name.
    hooks = min(len(_MOCHA_HOOK.findall(text, end)), failing)
    return make_counts(
        int(match.group(1)),
        failing - hooks,
        more.get("pending", 0),
        hooks,
        duration_ms(match.group(2)),
        end,
    )


# --- RSpec and Minitest ---------------------------------------------------------------------

_RSPEC = lazy_re(
    r"^"
    + NUM
    + r" examples?, "
    + NUM
    + r" failures?(?:, "
    + NUM
    + r" pending)?(?:, "
    + NUM
    + r" errors? occurred outside of examples)?[ \t]*$",
    re.MULTILINE,
)
_RSPEC_FINISHED = lazy_re(r"^Finished in ([^\n(]+)", re.MULTILINE)


def parse_rspec(text: str) -> Counts | None:
    match = last_match(_RSPEC, text)
    if match is None:
        return None
    examples, failures, pending, outside = (int(g or 0) for g in match.group(1, 2, 3, 4))
    finished = last_match(_RSPEC_FINISHED, text[: match.start()])
    return make_counts(
        examples - failures - pending,
        failures,
        pending,
        outside,
        duration_ms(finished.group(1)) if finished else None,
        match.end(),
    )


_MINITEST = lazy_re(
    r"^"
    + NUM
    + r" (?:runs|tests), "
    + NUM
    + r" assertions, "
    + NUM
    + r" failures, "
    + NUM
    + r" errors, "
    + NUM
    + r" skips[ \t]*$",
    re.MULTILINE,
)
_MINITEST_FINISHED = lazy_re(r"^Finished in ([\d.]+s)", re.MULTILINE)


def parse_minitest(text: str) -> Counts | None:
    match = last_match(_MINITEST, text)
    if match is None:
        return None
    runs, failures, errors, skips = (int(match.group(i)) for i in (1, 3, 4, 5))
    finished = last_match(_MINITEST_FINISHED, text[: match.start()])
    return make_counts(
        runs - failures - errors - skips,
        failures,
        skips,
        errors,
        duration_ms(finished.group(1)) if finished else None,
        match.end(),
    )


# --- PHPUnit --------------------------------------------------------------------------------

_PHPUNIT_OK = lazy_re(r"^OK \(" + NUM + r" tests?, " + NUM + r" assertions?\)[ \t]*$", re.MULTILINE)
_PHPUNIT_COUNTS = lazy_re(r"^Tests: " + NUM + r", Assertions: [^\n]*$", re.MULTILINE)
_PHPUNIT_ITEM = lazy_re(r"([A-Za-z ]+): " + NUM)
_PHPUNIT_TIME = lazy_re(r"^Time: ([^,\n]+)", re.MULTILINE)


def parse_phpunit(text: str) -> Counts | None:
    ok, counts = last_match(_PHPUNIT_OK, text), last_match(_PHPUNIT_COUNTS, text)
    match: re.Match[str]
    if counts is not None and (ok is None or counts.end() > ok.end()):
        items = {k.strip().lower(): int(v) for k, v in _PHPUNIT_ITEM.findall(counts.group(0))}
        failed, errors = items.get("failures", 0), items.get("errors", 0)
        skipped = items.get("skipped", 0) + items.get("incomplete", 0)
        passed = int(counts.group(1)) - failed - errors - skipped
        match = counts
    elif ok is not None:
        passed, failed, errors, skipped = int(ok.group(1)), 0, 0, 0
        match = ok
    else:
        return None
    time = last_match(_PHPUNIT_TIME, text[: match.start()])
    return make_counts(
        passed, failed, skipped, errors, duration_ms(time.group(1)) if time else None, match.end()
    )


# --- the plain closing line any runner may print: "[word:] N passed, N failed[, N skipped]" -

_PLAIN = lazy_re(
    r"^(?:\w+: )?" + NUM + r" passed, " + NUM + r" failed(?:, " + NUM + r" skipped)?[ \t]*$",
    re.MULTILINE,
)


def parse_plain(text: str) -> Counts | None:
    match = last_match(_PLAIN, text)
    if match is None:
        return None
    passed, failed, skipped = (int(g or 0) for g in match.group(1, 2, 3))
    return make_counts(passed, failed, skipped, 0, None, match.end())
