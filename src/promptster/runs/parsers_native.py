"""Summary parsers for compiled-language toolchains: cargo, nextest, go, Maven, Gradle, dotnet,
CTest. Most print one result line per test binary, module or assembly; these are summed over the
last invocation in the output. Conventions are those of `promptster.runs.parsers`."""

from __future__ import annotations

import json
import re

from promptster.runs.text import (
    NUM,
    Counts,
    duration_ms,
    last_match,
    lazy_re,
    line_end,
    make_counts,
    seconds_ms,
    start_after_last,
)

# --- cargo test -----------------------------------------------------------------------------

_CARGO_FINISHED = lazy_re(r"^[ \t]*Finished\b[^\n]*\btarget\(s\) in\b[^\n]*$", re.MULTILINE)
_CARGO_RESULT = lazy_re(
    r"^test result: (?:ok|FAILED)\. "
    + NUM
    + r" passed; "
    + NUM
    + r" failed; "
    + NUM
    + r" ignored; "
    + r"[^\n]*?(?:finished in (\d{1,9}(?:\.\d+)?)s)?[ \t]*$",
    re.MULTILINE,
)
_CARGO_COMPILE_ERROR = lazy_re(r"^error: could not compile ", re.MULTILINE)


def parse_cargo(text: str) -> Counts | None:
    start = start_after_last(_CARGO_FINISHED, text)
    results = list(_CARGO_RESULT.finditer(text, start))
    if not results:
        broken = list(_CARGO_COMPILE_ERROR.finditer(text, start))
        if not broken:
            return None
        return make_counts(0, 0, 0, len(broken), None, line_end(text, broken[-1].end()))
    passed = sum(int(r.group(1)) for r in results)
    failed = sum(int(r.group(2)) for r in results)
    ignored = sum(int(r.group(3)) for r in results)
    times = [float(r.group(4)) for r in results if r.group(4)]
    duration = round(sum(times) * 1000) if times else None
    return make_counts(passed, failed, ignored, 0, duration, results[-1].end())


# --- cargo nextest --------------------------------------------------------------------------

_NEXTEST = lazy_re(
    r"^[ \t]*Summary \[[ \t]*(\d{1,9}(?:\.\d+)?)s\] (?:\d{1,9}/)?"
    + NUM
    + r" tests? run: ([^\n]*)$",
    re.MULTILINE,
)
_NEXTEST_ITEM = lazy_re(NUM + r" (passed|failed|exec failed|timed out|skipped)")


def parse_nextest(text: str) -> Counts | None:
    match = last_match(_NEXTEST, text)
    if match is None:
        return None
    body = re.sub(r"\([^)]*\)", "", match.group(3))  # "(1 slow, 1 flaky)" qualifies "passed"
    items: dict[str, int] = {}
    for n, word in _NEXTEST_ITEM.findall(body):
        items[word] = items.get(word, 0) + int(n)
    return make_counts(
        items.get("passed", 0),
        items.get("failed", 0) + items.get("timed out", 0),
        items.get("skipped", 0),
        items.get("exec failed", 0),
        seconds_ms(match.group(1)),
        match.end(),
    )


# --- go test (-v and -json; plain output lists only failures, so it has no counts) ----------

_GO_RESULT = lazy_re(r"^--- (PASS|FAIL|SKIP): ", re.MULTILINE)  # top level: no indent
_GO_RUN = lazy_re(r"^=== RUN ", re.MULTILINE)
_GO_BROKEN = lazy_re(r"^FAIL[ \t]+\S+[ \t]+\[(?:build|setup) failed\]", re.MULTILINE)
_GO_PACKAGE = lazy_re(r"^(?:ok|FAIL)[ \t]+\S+[ \t]+(\d{1,9}(?:\.\d+)?)s", re.MULTILINE)
_GO_PACKAGE_ANY = lazy_re(r"^(?:ok|FAIL)[ \t]+\S+", re.MULTILINE)
_GO_JSON_LINE = lazy_re(r'^\{"(?:Time|Action)"[^\n]*\}[ \t]*$', re.MULTILINE)


def _parse_go_json(text: str) -> Counts | None:
    outcome = {"pass": 0, "fail": 0, "skip": 0}
    elapsed = 0.0
    end = 0
    seen = False
    for line in _GO_JSON_LINE.finditer(text):
        try:
            event = json.loads(line.group(0))
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        action, test = event.get("Action"), event.get("Test")
        if action not in outcome:
            continue
        seen = True
        end = line.end()
        if isinstance(test, str):
            if "/" not in test:  # subtests are counted through their parent
                outcome[str(action)] += 1
        elif isinstance(event.get("Elapsed"), int | float):
            elapsed += float(event["Elapsed"])
    if not seen:
        return None
    broken = list(_GO_BROKEN.finditer(text))
    if broken:
        end = max(end, broken[-1].end())
    return make_counts(
        outcome["pass"], outcome["fail"], outcome["skip"], len(broken), round(elapsed * 1000), end
    )


def parse_go(text: str) -> Counts | None:
    if _GO_JSON_LINE.search(text):
        return _parse_go_json(text)
    broken = list(_GO_BROKEN.finditer(text))
    packages = list(_GO_PACKAGE_ANY.finditer(text))
    if not _GO_RUN.search(text):
        # Without -v only failures are named; counts are known only when nothing built.
        if broken and len(packages) == len(broken):
            return make_counts(0, 0, 0, len(broken), None, broken[-1].end())
        return None
    verdicts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    last = 0
    for result in _GO_RESULT.finditer(text):
        verdicts[result.group(1)] += 1
        last = result.end()
    times = [float(m.group(1)) for m in _GO_PACKAGE.finditer(text)]
    end = max([last] + [m.end() for m in packages] + [m.end() for m in broken])
    return make_counts(
        verdicts["PASS"],
        verdicts["FAIL"],
        verdicts["SKIP"],
        len(broken),
        round(sum(times) * 1000) if times else None,
        end,
    )


_GOTESTSUM = lazy_re(
    r"^DONE "
    + NUM
    + r" tests?(?:, "
    + NUM
    + r" skipped)?(?:, "
    + NUM
    + r" failures?)?(?:, "
    + NUM
    + r" errors?)? in ([^\n]+)$",
    re.MULTILINE,
)


def parse_gotestsum(text: str) -> Counts | None:
    match = last_match(_GOTESTSUM, text)
    if match is None:
        return None
    total, skipped, failed, errors = (int(g or 0) for g in match.group(1, 2, 3, 4))
    return make_counts(
        total - skipped - failed, failed, skipped, errors, duration_ms(match.group(5)), match.end()
    )


# --- Maven Surefire -------------------------------------------------------------------------

_MAVEN_START = lazy_re(r"Scanning for projects\.\.\.")
# The per-module total has no "Time elapsed" after it, unlike the per-class lines.
_MAVEN_TOTAL = lazy_re(
    r"^(?:\[[A-Z]+\][ \t]+)?Tests run: "
    + NUM
    + r", Failures: "
    + NUM
    + r", Errors: "
    + NUM
    + r", Skipped: "
    + NUM
    + r"[ \t]*$",
    re.MULTILINE,
)
_MAVEN_TIME = lazy_re(r"Total time:[ \t]+([^\n]+)")


def parse_maven(text: str) -> Counts | None:
    start = start_after_last(_MAVEN_START, text)
    totals = list(_MAVEN_TOTAL.finditer(text, start))
    if not totals:
        return None
    run, failures, errors, skipped = (sum(int(t.group(i)) for t in totals) for i in (1, 2, 3, 4))
    time = _MAVEN_TIME.search(text, totals[-1].end())
    return make_counts(
        run - failures - errors - skipped,
        failures,
        skipped,
        errors,
        duration_ms(time.group(1)) if time else None,
        totals[-1].end(),
    )


# --- Gradle (prints counts only when a test failed; a green run has no summary) -------------

_GRADLE = lazy_re(
    r"^" + NUM + r" tests? completed, " + NUM + r" failed(?:, " + NUM + r" skipped)?[ \t]*$",
    re.MULTILINE,
)
_GRADLE_BUILD = lazy_re(r"^BUILD (?:SUCCESSFUL|FAILED) in ([^\n]+)$", re.MULTILINE)


def parse_gradle(text: str) -> Counts | None:
    lines = list(_GRADLE.finditer(text))
    if not lines:
        return None
    total, failed, skipped = (sum(int(m.group(i) or 0) for m in lines) for i in (1, 2, 3))
    build = _GRADLE_BUILD.search(text, lines[-1].end())
    return make_counts(
        total - failed - skipped,
        failed,
        skipped,
        0,
        duration_ms(build.group(1)) if build else None,
        lines[-1].end(),
    )


# --- dotnet test: VSTest one line per assembly, legacy block, Microsoft.Testing.Platform ----

_DOTNET_VSTEST = lazy_re(
    r"^[ \t]*(?:Passed|Failed|Skipped)![ \t]+-[ \t]+Failed:[ \t]*"
    + NUM
    + r",[ \t]*Passed:[ \t]*"
    + NUM
    + r",[ \t]*Skipped:[ \t]*"
    + NUM
    + r",[ \t]*Total:[ \t]*"
    + NUM
    + r"(?:,[ \t]*Duration:[ \t]*([^\n]*?))?[ \t]*(?:-[^\n]*)?$",
    re.MULTILINE,
)
_DOTNET_BLOCK = lazy_re(r"^[ \t]*(?:Total tests|Test run summary):?[^\n]*$", re.MULTILINE)
_DOTNET_FIELD = lazy_re(
    r"\b(Total tests|Passed|Failed|Skipped|Total time|total|failed|succeeded|skipped|duration)"
    r":[ \t]*([^\n.]+(?:\.\d+)?[^\n.]*)"
)


def _parse_dotnet_block(text: str) -> Counts | None:
    header = last_match(_DOTNET_BLOCK, text)
    if header is None:
        return None
    fields: dict[str, str] = {}
    end = header.end()
    for line in text[header.start() :].split("\n")[:7]:
        found = _DOTNET_FIELD.findall(line)
        if not found and fields:
            break
        for key, value in found:
            fields.setdefault(key.lower(), value.strip())
        if found:
            end = text.find(line, header.start()) + len(line)

    def number(*keys: str) -> int:
        for key in keys:
            digits = re.match(r"[ \t]*(\d{1,9})\b", fields.get(key, ""))
            if digits:
                return int(digits.group(1))
        return 0

    if "total" not in fields and "total tests" not in fields:
        return None
    total = number("total tests", "total")
    failed, skipped = number("failed"), number("skipped")
    passed = (
        number("passed", "succeeded")
        if ("passed" in fields or "succeeded" in fields)
        else (total - failed - skipped)
    )
    time = fields.get("duration") or fields.get("total time")
    return make_counts(passed, failed, skipped, 0, duration_ms(time) if time else None, end)


def parse_dotnet(text: str) -> Counts | None:
    lines = list(_DOTNET_VSTEST.finditer(text))
    if not lines:
        return _parse_dotnet_block(text)
    failed, passed, skipped = (sum(int(m.group(i)) for m in lines) for i in (1, 2, 3))
    durations = [duration_ms(m.group(5)) for m in lines if m.group(5)]
    known = [d for d in durations if d is not None]
    return make_counts(passed, failed, skipped, 0, sum(known) if known else None, lines[-1].end())


# --- CTest ----------------------------------------------------------------------------------

_CTEST = lazy_re(
    r"^\d{1,3}% tests passed, " + NUM + r" tests? failed out of " + NUM + r"[ \t]*$", re.MULTILINE
)
_CTEST_NONE = lazy_re(r"^No tests were found!!![ \t]*$", re.MULTILINE)
_CTEST_TIME = lazy_re(r"^Total Test time \(real\) =[ \t]*([\d.]+ ?sec)", re.MULTILINE)
_CTEST_SECTION = lazy_re(r"^The following tests (did not run|FAILED):[ \t]*$", re.MULTILINE)
_CTEST_ENTRY = lazy_re(r"^[ \t]+\d+ - .*\(([^()\n]+)\)[ \t]*$")


def parse_ctest(text: str) -> Counts | None:
    match = last_match(_CTEST, text)
    if match is None:
        empty = last_match(_CTEST_NONE, text)
        return make_counts(0, 0, 0, 0, None, empty.end()) if empty else None
    failed, total = int(match.group(1)), int(match.group(2))
    # Skipped tests are inside the total (and the "passed" percentage); disabled ones are not.
    skipped_in_total = disabled = not_run = 0
    end = match.end()
    section = ""
    for line in text[match.end() :].split("\n"):
        header = _CTEST_SECTION.match(line)
        if header:
            section = header.group(1)
            continue
        entry = _CTEST_ENTRY.match(line)
        if entry is None:
            if section and line.strip():
                section = ""
            continue
        status = entry.group(1)
        if section == "did not run":
            if status == "Disabled":
                disabled += 1
            else:
                skipped_in_total += 1
        elif section == "FAILED" and status == "Not Run":
            not_run += 1  # the executable was missing: the test could not even start
        end = text.find(line, end) + len(line)
    time = _CTEST_TIME.search(text, match.end())
    return make_counts(
        total - failed - skipped_in_total,
        failed - not_run,
        skipped_in_total + disabled,
        not_run,
        duration_ms(time.group(1)) if time else None,
        end,
    )
