"""The labelled scenarios of the attribution accuracy suite (docs/attribution.md, "Measured
accuracy"), grouped into sessions: the scenarios of one group share one recorded session, each
in its own folder, so the suite starts few sessions and few Claude Code runs.

Hand-typed chunks stay small (a few lines per snapshot), as typing is; only the paste scenario
drops a large block at once.
"""

from __future__ import annotations

from steps import (
    AIDenied,
    AIEdit,
    AIShell,
    AIWrite,
    HandDelete,
    HandReindent,
    HandRename,
    HandReplace,
    HandWrite,
    Scenario,
    ai,
    hand,
)
from truth import HUMAN, REVISED, UNKNOWN

APP = (
    '"""Order totals."""\n'
    "\n"
    "from decimal import Decimal\n"
    "\n"
    "\n"
    "def subtotal(items):\n"
    "    return sum(Decimal(i['price']) * i['qty'] for i in items)\n"
    "\n"
    "\n"
    "def with_tax(amount, rate=Decimal('0.2')):\n"
    "    return (amount * (1 + rate)).quantize(Decimal('0.01'))\n"
)
UTIL_HAND = (
    "import re\n"
    "\n"
    "SLUG = re.compile(r'[^a-z0-9]+')\n"
    "\n"
    "\n"
    "def slugify(title):\n"
    "    return SLUG.sub('-', title.lower()).strip('-')\n"
)
CONFIG_BLOCK = (
    "def load(path):\n"
    "    with open(path) as handle:\n"
    "        data = json.load(handle)\n"
    "    if not isinstance(data, dict):\n"
    "        raise ValueError(f'{path}: not a mapping')\n"
    "    return {\n"
    "        'name': data.get('name', 'app'),\n"
    "        'debug': bool(data.get('debug')),\n"
    "        'workers': int(data.get('workers', 2)),\n"
    "    }\n"
)


def _module(prefix: str, count: int) -> str:
    """`count` distinct, realistic lines of a module (functions of three lines each)."""
    out: list[str] = []
    for n in range(count // 3):
        out += [f"def {prefix}_{n}(value):", f"    scaled = value * {n + 3}", "    return scaled"]
    return "".join(line + "\n" for line in out)


def _big_module() -> str:
    lines = ['"""Lookup tables, generated."""', ""]
    n = 0
    while sum(len(x) + 1 for x in lines) < 70 * 1024:
        lines.append(
            f"ENTRY_{n:04d} = {{'code': {n * 7919 % 100003}, 'label': 'item number {n}', "
            f"'group': 'group {n % 13}', 'weight': {n * 31 % 997}, 'unit': 'kg', "
            f"'note': 'generated from the {n % 7}th source table'}}"
        )
        n += 1
    return "".join(line + "\n" for line in lines)


# A 12 KiB file an AI shell command writes (big beside the bytes of a hand save).
ROWS = "".join(
    f"row {i:04d}: sku=item-{i * 7 % 1000:03d} qty={i % 13} price={i % 97}.50\n" for i in range(300)
)
PASTE = "".join(
    f"    ('{name}', {n}, {n * 3 % 17}),\n"
    for n, name in enumerate(f"country_{i:02d}" for i in range(40))
)
PASTE_FILE = "COUNTRIES = [\n" + PASTE + "]\n"
REWRITE_AI = (
    "def parse(text):\n"
    "    parts = text.split(',')\n"
    "    return [\n"
    "        part.strip()\n"
    "        for part in parts\n"
    "    ]\n"
    "\n"
    "\n"
    "def join(parts):\n"
    "    return ', '.join(parts)\n"
)
REWRITE_HAND_1 = [
    "def parse(raw):",
    "    fields = raw.split(';')",
    "    return [",
    "        field.strip().lower()",
    "        for field in fields if field",
    "    ]",
]
REWRITE_HAND_2 = ["", "", "def join(fields):", "    return '; '.join(fields)"]
MATHX_HAND = (
    "def mul(a, b):\n"
    "    return a + b\n"
    "\n"
    "\n"
    "def neg(a):\n"
    "    return -a\n"
    "\n"
    "\n"
    "def half(a):\n"
    "    return a / 2\n"
)
CRLF_STARTER = "[server]\r\nhost = 127.0.0.1\r\nport = 8080\r\n\r\n[log]\r\nlevel = info\r\n"


# A line typed over an AI line may read as a revision of it or as new text: either is right.
REWRITE_ALSO: dict[str, tuple[str, ...]] = {HUMAN: (REVISED,)}

SCENARIOS: list[Scenario] = [
    Scenario(
        "ai_writes_human_edits",
        "the AI writes a module; the candidate revises two of its lines and adds a function",
        rounds=(
            ai(AIWrite("app.py", APP)),
            hand(
                HandReplace(
                    "app.py",
                    9,
                    11,
                    (
                        "def with_tax(amount, rate=Decimal('0.25')):",
                        "    return (amount * (1 + rate)).quantize(Decimal('0.001'))",
                    ),
                    revise=True,
                ),
                HandReplace(
                    "app.py",
                    11,
                    11,
                    ("", "", "def total(items):", "    return with_tax(subtotal(items))"),
                ),
            ),
        ),
    ),
    Scenario(
        "human_writes_ai_edits",
        "the candidate writes a module by hand; the AI rewrites one line and appends a function",
        rounds=(
            hand(HandWrite("util.py", UTIL_HAND)),
            ai(
                AIEdit(
                    "util.py",
                    6,
                    7,
                    ("    return SLUG.sub('-', title.strip().lower()).strip('-')",),
                ),
                AIEdit(
                    "util.py",
                    6,
                    7,
                    (
                        "    return SLUG.sub('-', title.strip().lower()).strip('-')",
                        "",
                        "",
                        "def words(title):",
                        "    return [w for w in slugify(title).split('-') if w]",
                    ),
                ),
            ),
        ),
    ),
    Scenario(
        "interleaved",
        "AI, hand, AI, hand on the same file, each touching the other's lines",
        rounds=(
            ai(AIWrite("queue.py", _module("enqueue", 9))),
            hand(HandReplace("queue.py", 9, 9, ("MAX_ITEMS = 64", "TIMEOUT_S = 3.5"))),
            ai(AIEdit("queue.py", 9, 10, ("MAX_ITEMS = 128  # raised for batch jobs",))),
            hand(HandReplace("queue.py", 4, 5, ("    scaled = value * 4 + 1",), revise=True)),
        ),
    ),
    Scenario(
        "ai_file_rewritten_by_hand",
        "the AI writes a file; the candidate later rewrites every line of it",
        also=REWRITE_ALSO,
        rounds=(
            ai(AIWrite("rates.py", _module("rate", 6))),
            hand(
                HandReplace(
                    "rates.py",
                    0,
                    3,
                    (
                        "def rate_for(region):",
                        "    table = {'eu': 0.2}",
                        "    return table[region]",
                    ),
                )
            ),
            hand(
                HandReplace(
                    "rates.py",
                    3,
                    6,
                    ("def default_rate():", "    fallback = 0.1", "    return fallback"),
                )
            ),
        ),
    ),
    Scenario(
        "hand_rewrite_keeps_blank_lines",
        "the candidate rewrites an AI file by hand, keeping its blank and bracket-only lines",
        also=REWRITE_ALSO,
        rounds=(
            ai(AIWrite("fields.py", REWRITE_AI)),
            hand(HandReplace("fields.py", 0, 10, (*REWRITE_HAND_1, *REWRITE_HAND_2), retyped=True)),
        ),
    ),
    Scenario(
        "pasted_block",
        "the candidate pastes a 42-line table into a new file (no AI event explains it)",
        # `unknown` when the engine can tell a paste (docs/attribution.md: no AI event for two
        # minutes before it); seconds after the AI ran, as here, a hand change like any other.
        also={UNKNOWN: (HUMAN,)},
        rounds=(
            ai(AIWrite("notes.txt", "countries table below\n")),
            hand(),
            hand(HandWrite("countries.py", PASTE_FILE, author=UNKNOWN)),
        ),
    ),
    Scenario(
        "ai_shell_writes_files",
        "an AI Bash command writes two files with a heredoc; the candidate revises one line",
        rounds=(
            ai(
                AIShell(
                    writes=(
                        ("gen.py", _module("generated", 6)),
                        ("data.csv", "id,name\n1,alpha\n2,beta\n3,gamma\n"),
                    )
                )
            ),
            hand(HandReplace("gen.py", 1, 2, ("    scaled = value * 30",), revise=True)),
        ),
    ),
    Scenario(
        "big_ai_file",
        "the AI writes a 70 KiB module (over the 64 KiB event bound); the candidate edits a line",
        rounds=(
            ai(AIWrite("tables.py", _big_module())),
            hand(
                HandReplace(
                    "tables.py", 0, 1, ('"""Lookup tables (checked by hand)."""',), revise=True
                )
            ),
        ),
    ),
    Scenario(
        "denied_edit_then_hand",
        "the AI proposes adding logging, a deny rule stops the edit; the candidate types the "
        "same common lines by hand right after",
        starter={"svc.py": "def serve(port):\n    print('serving on', port)\n"},
        rounds=(
            ai(
                AIDenied(
                    "svc.py",
                    0,
                    1,
                    (
                        "import logging",
                        "",
                        "log = logging.getLogger(__name__)",
                        "",
                        "",
                        "def serve(port):",
                    ),
                )
            ),
            hand(
                HandReplace(
                    "svc.py",
                    0,
                    0,
                    ("import logging", "", "log = logging.getLogger(__name__)", "", ""),
                )
            ),
        ),
    ),
    Scenario(
        "renamed_by_hand",
        "the AI writes a module; the candidate moves it into a package and edits a line",
        rounds=(
            ai(AIWrite("helpers.py", _module("helper", 6))),
            hand(HandRename("helpers.py", "pkg/helpers.py")),
            hand(HandReplace("pkg/helpers.py", 6, 6, ("HELPER_VERSION = 2",))),
        ),
    ),
    Scenario(
        "moved_by_ai_shell",
        "the AI writes a module and moves it with `mv`; the candidate adds a line",
        rounds=(
            ai(AIWrite("mover.py", _module("mover", 6))),
            ai(AIShell(moves=(("mover.py", "moved.py"),))),
            hand(HandReplace("moved.py", 0, 0, ("# moved into place by the assistant",))),
        ),
    ),
    Scenario(
        "deleted_and_recreated_by_hand",
        "the AI writes a file, the candidate deletes it and writes a different one there",
        rounds=(
            ai(AIWrite("scratch.py", _module("scratch", 6))),
            hand(HandDelete("scratch.py")),
            hand(
                HandWrite(
                    "scratch.py",
                    "def scratch_total(values):\n    acc = sum(values)\n    return acc / 2\n",
                )
            ),
        ),
    ),
    Scenario(
        "deleted_and_recreated_by_ai",
        "the candidate writes a file, the AI deletes it (rm) and writes a new one there",
        rounds=(
            hand(HandWrite("draft.py", "def draft(x):\n    first = x + 1\n    return first\n")),
            ai(AIShell(removes=("draft.py",))),
            ai(AIWrite("draft.py", _module("draft", 6))),
        ),
    ),
    Scenario(
        "starter_untouched",
        "starter files: one left alone, one where the AI changes a line and the candidate another",
        starter={
            "README.md": "# Shop\n\nA tiny shop backend.\n\n## Running\n\nmake run\n",
            "shop.py": "def price(item):\n    return item.cost\n\n\ndef name(item):\n"
            "    return item.title\n",
        },
        rounds=(
            ai(AIEdit("shop.py", 1, 2, ("    return round(item.cost * 1.2, 2)",))),
            hand(HandReplace("shop.py", 5, 6, ("    return item.title.strip()",))),
        ),
    ),
    Scenario(
        "ai_then_human_revisions",
        "the AI writes twelve lines; the candidate tweaks three of them in place",
        rounds=(
            ai(AIWrite("retry.py", _module("retry", 12))),
            hand(
                HandReplace("retry.py", 1, 2, ("    scaled = value * 3 + 0",), revise=True),
                HandReplace(
                    "retry.py",
                    7,
                    9,
                    ("    scaled = value * 55", "    return scaled  # x"),
                    revise=True,
                ),
            ),
        ),
    ),
    Scenario(
        "half_of_small_file_revised",
        "the AI writes six lines; the candidate tweaks three of them, leaving the others",
        rounds=(
            ai(AIWrite("backoff.py", _module("backoff", 6))),
            hand(
                HandReplace("backoff.py", 1, 2, ("    scaled = value * 3 + 0",), revise=True),
                HandReplace(
                    "backoff.py",
                    4,
                    6,
                    ("    scaled = value * 44", "    return scaled  # x"),
                    revise=True,
                ),
            ),
        ),
    ),
    Scenario(
        "reindented_by_hand",
        "the AI writes functions; the candidate wraps them in a class (re-indents them)",
        rounds=(
            ai(AIWrite("shapes.py", _module("area", 6))),
            hand(
                HandReindent("shapes.py", 0, 6, "    "),
                HandReplace("shapes.py", 0, 0, ("class Areas:",)),
            ),
        ),
    ),
    Scenario(
        "crlf_file",
        "a CRLF starter file: the AI changes a value, the candidate adds a section",
        starter={"server.ini": CRLF_STARTER},
        rounds=(
            ai(AIEdit("server.ini", 2, 3, ("port = 9090",))),
            hand(HandReplace("server.ini", 6, 6, ("", "[cache]", "ttl = 300"))),
        ),
    ),
    Scenario(
        "hand_save_during_ai_command",
        "the candidate saves a file while an AI shell command is still running",
        rounds=(
            ai(
                AIShell(
                    writes=(("report.txt", "rows: 3\nstatus: ok\n"),),
                    sleep=4,
                    during=(HandWrite("todo.md", "- check the report\n- ask about rounding\n"),),
                )
            ),
        ),
    ),
    Scenario(
        "ai_command_big_write_in_window",
        "an AI shell command writes a big file, sleeps (a snapshot shows the file while it "
        "runs), then writes a small one",
        rounds=(
            ai(
                AIShell(
                    before=(("rows.txt", ROWS),),
                    sleep=3,
                    writes=(("rows_done.txt", "rows: 300\nstatus: written\n"),),
                )
            ),
        ),
    ),
    Scenario(
        "ai_edit_with_context",
        "the AI's Edit repeats an unchanged hand-written line as context around its change",
        rounds=(
            hand(HandWrite("mathx.py", MATHX_HAND)),
            ai(
                AIEdit(
                    "mathx.py",
                    0,
                    2,
                    ("def mul(a, b):", "    # product, not sum", "    return a * b"),
                )
            ),
        ),
    ),
    Scenario(
        "human_only_file",
        "the candidate writes a file in two sittings while the AI works elsewhere",
        rounds=(
            ai(AIWrite("other.py", _module("other", 3))),
            hand(HandWrite("mine.py", "def mine(x):\n    doubled = x * 2\n    return doubled\n")),
            ai(AIEdit("other.py", 1, 2, ("    scaled = value * 33",))),
            hand(HandReplace("mine.py", 3, 3, ("", "", "MINE_LIMIT = 10"))),
        ),
    ),
    Scenario(
        "human_deletes_ai_lines",
        "the AI writes nine lines; the candidate deletes a function",
        rounds=(
            ai(AIWrite("trim.py", _module("trim", 9))),
            hand(HandReplace("trim.py", 3, 6, ())),
        ),
    ),
    Scenario(
        "no_final_newline",
        "the AI writes a file with no final newline; the candidate appends a line",
        rounds=(
            ai(AIWrite("version.py", "NAME = 'shop'\nVERSION = '1.0'")),
            hand(HandReplace("version.py", 2, 2, ("BUILD = 7",))),
        ),
    ),
    Scenario(
        "config_block_by_ai_then_hand",
        "the AI writes a loader; the candidate edits a value inside its dict literal",
        starter={"config.py": "import json\n\n\n# the loader goes here\n"},
        rounds=(
            ai(AIEdit("config.py", 3, 4, tuple(CONFIG_BLOCK.splitlines()))),
            hand(
                HandReplace(
                    "config.py",
                    11,
                    12,
                    ("        'workers': int(data.get('workers', 4)),",),
                    revise=True,
                )
            ),
        ),
    ),
    Scenario(
        "codex_patch_then_hand",
        "Codex adds a module with apply_patch; the candidate revises a line and adds two",
        tool="codex",
        rounds=(
            ai(AIWrite("billing.py", APP)),
            hand(
                HandReplace(
                    "billing.py",
                    6,
                    7,
                    ("    return sum(Decimal(i['price']) * i['qty'] for i in items if i)",),
                    revise=True,
                ),
                HandReplace("billing.py", 11, 11, ("", "CURRENCY = 'EUR'")),
            ),
        ),
    ),
    Scenario(
        "codex_edits_hand_file",
        "the candidate writes a module; Codex replaces one of its lines with a patch",
        tool="codex",
        rounds=(
            hand(HandWrite("slug.py", UTIL_HAND)),
            ai(AIEdit("slug.py", 6, 7, ("    return SLUG.sub('_', title.lower()).strip('_')",))),
        ),
    ),
    Scenario(
        "codex_shell_writes",
        "a Codex shell command writes a file with a heredoc; the candidate adds a line",
        tool="codex",
        rounds=(
            ai(AIShell(writes=(("seed.py", _module("seed", 6)),))),
            hand(HandReplace("seed.py", 6, 6, ("SEED_COUNT = 2",))),
        ),
    ),
    Scenario(
        "codex_interleaved",
        "Codex, hand, Codex, hand on one file, each touching the other's lines",
        tool="codex",
        rounds=(
            ai(AIWrite("cache.py", _module("cache", 6))),
            hand(HandReplace("cache.py", 6, 6, ("CACHE_SIZE = 32",))),
            ai(AIEdit("cache.py", 6, 7, ("CACHE_SIZE = 256  # measured",))),
            hand(HandReplace("cache.py", 1, 2, ("    scaled = value * 3 - 1",), revise=True)),
        ),
    ),
    Scenario(
        "gemini_writes_human_edits",
        "Gemini CLI writes a module; the candidate revises a line and adds two",
        tool="gemini",
        rounds=(
            ai(AIWrite("orders.py", APP)),
            hand(
                HandReplace(
                    "orders.py",
                    6,
                    7,
                    ("    return sum(Decimal(i['price']) * i['qty'] for i in items or [])",),
                    revise=True,
                ),
                HandReplace("orders.py", 11, 11, ("", "ROUNDING = 'half-up'")),
            ),
        ),
    ),
    Scenario(
        "gemini_replaces_in_hand_file",
        "the candidate writes a module; Gemini CLI's replace changes one of its lines",
        tool="gemini",
        rounds=(
            hand(HandWrite("titles.py", UTIL_HAND)),
            ai(AIEdit("titles.py", 6, 7, ("    return SLUG.sub('+', title.lower()).strip('+')",))),
        ),
    ),
    Scenario(
        "gemini_shell_writes",
        "a Gemini CLI shell command writes a file with a heredoc; the candidate adds a line",
        tool="gemini",
        rounds=(
            ai(AIShell(writes=(("fixtures.py", _module("fixture", 6)),))),
            hand(HandReplace("fixtures.py", 6, 6, ("FIXTURE_COUNT = 2",))),
        ),
    ),
    Scenario(
        "copilot_creates_human_edits",
        "Copilot CLI creates a module; the candidate revises a line and adds two",
        tool="copilot",
        rounds=(
            ai(AIWrite("invoice.py", APP)),
            hand(
                HandReplace(
                    "invoice.py",
                    10,
                    11,
                    ("    return (amount * (1 + rate)).quantize(Decimal('0.01'), 'ROUND_UP')",),
                    revise=True,
                ),
                HandReplace("invoice.py", 11, 11, ("", "DUE_DAYS = 30")),
            ),
        ),
    ),
    Scenario(
        "copilot_edits_hand_file",
        "the candidate writes a module; Copilot CLI's edit changes one of its lines",
        tool="copilot",
        rounds=(
            hand(HandWrite("names.py", UTIL_HAND)),
            ai(AIEdit("names.py", 2, 3, ("SLUG = re.compile(r'[^a-z0-9_]+')",))),
        ),
    ),
    Scenario(
        "copilot_shell_writes",
        "a Copilot CLI bash command writes a file with a heredoc; the candidate adds a line",
        tool="copilot",
        rounds=(
            ai(AIShell(writes=(("samples.py", _module("sample", 6)),))),
            hand(HandReplace("samples.py", 6, 6, ("SAMPLE_COUNT = 2",))),
        ),
    ),
]
