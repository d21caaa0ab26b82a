"""Line accuracy, and precision and recall for `ai`, of an attribution against the truth."""

from __future__ import annotations

from dataclasses import dataclass, field

from steps import Scenario
from truth import AI, Truth


@dataclass
class Score:
    lines: int = 0
    right: int = 0
    true_ai: int = 0  # lines whose true author is ai
    called_ai: int = 0  # lines the attribution calls ai
    both_ai: int = 0
    wrong: list[str] = field(default_factory=list)  # "path:line expected→got", first few

    @property
    def accuracy(self) -> float:
        return self.right / self.lines if self.lines else 1.0

    @property
    def precision(self) -> float:
        return self.both_ai / self.called_ai if self.called_ai else 1.0

    @property
    def recall(self) -> float:
        return self.both_ai / self.true_ai if self.true_ai else 1.0

    def add(self, other: Score) -> None:
        self.lines += other.lines
        self.right += other.right
        self.true_ai += other.true_ai
        self.called_ai += other.called_ai
        self.both_ai += other.both_ai


def score(scenario: Scenario, truth: Truth, authors: dict[str, list[str]]) -> Score:
    """`authors` is keyed by workspace path (`<scenario>/<file>`)."""
    result = Score()
    for rel, file in sorted(truth.files.items()):
        path = f"{scenario.name}/{rel}"
        got = authors.get(path)
        if got is not None and len(got) != len(file.lines):
            result.wrong.append(f"{path}: {len(got)} lines attributed, {len(file.lines)} in file")
            got = None
        for number, line in enumerate(file.lines, 1):
            actual = got[number - 1] if got is not None else "missing"
            ok = actual == line.author or actual in scenario.also.get(line.author, ())
            result.lines += 1
            result.right += ok
            result.true_ai += line.author == AI
            result.called_ai += actual == AI
            result.both_ai += line.author == AI and actual == AI
            if not ok and len(result.wrong) < 8:
                result.wrong.append(f"{path}:{number} {line.author}→{actual} {line.text[:40]!r}")
    return result
