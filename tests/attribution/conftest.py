"""The suite reuses the stand-in model APIs of the AI-tool end-to-end tests."""

from __future__ import annotations

import sys
from pathlib import Path

INTEGRATIONS = str(Path(__file__).resolve().parents[1] / "integrations")
if INTEGRATIONS not in sys.path:
    sys.path.insert(0, INTEGRATIONS)
