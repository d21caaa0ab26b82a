"""The checkpoint's digest of the attribution code covers every module the replay runs, so a
checkpoint written by other code (a module split off, a constant changed) is never resumed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from promptster.record.attribution import checkpoint

# Loaded by the replay but deciding nothing it computes: the error classes, the git runner,
# and the recorder's wire format, all of the protocol package (timestamps' text; the events'
# kinds are digested).
NOT_REPLAY_LOGIC = frozenset({"promptster.errors", "promptster.gitutil", "promptster.protocol"})


def _replay_logic(name: str) -> bool:
    return name not in NOT_REPLAY_LOGIC and not name.startswith("promptster.protocol.")


def test_every_module_the_replay_loads_is_in_the_digest() -> None:
    script = (
        "import json, sys\n"
        "import promptster.record.attribution.authorship\n"
        "print(json.dumps({n: getattr(m, '__file__', None) for n, m in sys.modules.items()"
        " if n.startswith('promptster')}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    loaded: dict[str, str | None] = json.loads(out.stdout)
    digested = {module.__name__ for module in checkpoint.REPLAY_MODULES}
    logic = {
        name
        for name, path in loaded.items()
        if path is not None and Path(path).name != "__init__.py" and _replay_logic(name)
    }
    assert "promptster.record.attribution.engine" in logic  # the probe saw the replay
    assert logic - digested == set()


def test_the_digest_changes_with_any_of_its_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    before = checkpoint.code_digest()
    real = Path.read_bytes
    for module in checkpoint.REPLAY_MODULES:
        edited = Path(str(module.__file__))

        def read(self: Path, edited: Path = edited) -> bytes:
            data = real(self)
            return data + b"# edited\n" if self == edited else data

        monkeypatch.setattr(Path, "read_bytes", read)
        assert checkpoint.code_digest() != before, module.__name__
        monkeypatch.undo()
    assert checkpoint.code_digest() == before
