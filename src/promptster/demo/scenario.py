"""The demo's story: a small task, the starter code, and what the candidate and the AI do.

The task: a shopping-cart total where a discount over 100% gives a negative price. The
candidate looks around and runs the tests (one fails), asks the AI, which reads the file,
edits it and runs the tests; then the candidate adds a check and a test of their own by hand,
runs the tests again (all pass) and writes down a decision.
"""

from __future__ import annotations

import json
from typing import Any

TITLE = "Cart discount bug"
ROLE = "Backend engineer"
ORG = "Demo Co"
TIME_LIMIT_MINUTES = 30
CANDIDATE = "Demo Candidate"
BRIEF = """# Cart discount bug

`cart.total(prices, discount)` returns the total of a cart after a percentage discount.
Customers report negative totals with large discounts.

- Make the failing test pass without changing what the existing tests expect.
- Keep `total()`'s signature.
- Use any tools you like, AI included. Write down the decisions you make
  (`promptster explain`).
"""

STARTER = {
    "README.md": "# cart\n\nRun the tests with `python -m pytest -q`.\n",
    "cart.py": '''"""Shopping cart arithmetic."""


def total(prices, discount=0):
    """The sum of `prices` after a `discount` in percent."""
    subtotal = sum(prices)
    return round(subtotal * (1 - discount / 100), 2)
''',
    "test_cart.py": """import unittest

from cart import total


class TotalTest(unittest.TestCase):
    def test_no_discount(self):
        self.assertEqual(total([10, 5.5]), 15.5)

    def test_discount(self):
        self.assertEqual(total([100], 25), 75)

    def test_discount_is_capped(self):
        self.assertEqual(total([40, 60], 150), 0)


if __name__ == "__main__":
    unittest.main()
""",
}

AI_OLD = "    return round(subtotal * (1 - discount / 100), 2)\n"
AI_NEW = "    discount = min(discount, 100)\n    return round(subtotal * (1 - discount / 100), 2)\n"

HUMAN_CART_OLD = "    discount = min(discount, 100)\n"
HUMAN_CART_NEW = (
    "    if discount < 0:\n"
    '        raise ValueError("a discount cannot be negative")\n'
    "    discount = min(discount, 100)\n"
)
HUMAN_TEST_OLD = '\n\nif __name__ == "__main__":'
HUMAN_TEST_NEW = (
    "\n\n    def test_negative_discount_is_rejected(self):\n"
    "        with self.assertRaises(ValueError):\n"
    "            total([10], -5)\n"
    '\n\nif __name__ == "__main__":'
)

PROMPT = (
    "test_discount_is_capped fails: total([40, 60], 150) returns -50.0. Fix total() in "
    "cart.py so a discount is capped at 100%. Keep the signature and don't change the tests."
)
AI_REPLY = (
    "total() now caps the discount at 100%, so a 150% discount gives 0 instead of a negative "
    "total. I ran the tests: all 3 pass. You may also want to reject negative discounts."
)
DECISION = {
    "text": "Cap discounts at 100% instead of rejecting them: a 150% coupon is a data-entry "
    "error we should absorb at checkout, not a crash. Negative discounts are rejected.",
    "title": "Cap large discounts, reject negative ones",
    "chosen": "min(discount, 100), ValueError below 0",
    "tradeoffs": "a mistyped coupon silently gives the order away for free",
    "impact": "2",
}
LANE = "5b0a7f3e-7d4c-4a43-9a55-3f2f4c1d9e01"


def hook_payload(event: str, workspace: str, **fields: Any) -> bytes:
    """A Claude Code hook payload, shaped like Claude Code 2.1's (reference payloads)."""
    body: dict[str, Any] = {
        "session_id": LANE,
        "transcript_path": "",
        "cwd": workspace,
        "permission_mode": "acceptEdits",
        "hook_event_name": event,
    }
    if event not in ("SessionStart",):
        body["prompt_id"] = "9c1d2e3f-0000-4000-8000-000000000001"
    body.update(fields)
    return json.dumps(body).encode()
