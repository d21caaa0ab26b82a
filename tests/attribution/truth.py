"""Ground truth for the attribution accuracy suite, kept by the scenario driver.

The driver knows which lines it had the stand-in model write and which it typed itself, so it
keeps, per file, the list of lines with their author and applies every step to that list as it
applies the step to the workspace. Nothing here looks at the recorder, the timeline or the
attribution engine: the expected author of a line follows from what the driver did.

Rules (the line-level contract of `promptster blame`):
- a line present when the session started is `starter`;
- a line the AI wrote (Write, Edit, a shell command) is `ai`, whoever held it before;
- a line the candidate changed after the AI wrote it (a revision of that line) is
  `ai_then_human`; a line the candidate typed from scratch, or retyped while rewriting a whole
  file, is `human`;
- a line moved (file renamed) or re-indented keeps its author;
- a large block pasted by hand, with no AI event explaining it, is `unknown` (the contract marks
  likely pastes so);
- lines an edit leaves unchanged at the start or end of the replaced range keep their author
  (an `Edit` whose old and new text share a context line does not re-author that line).
"""

from __future__ import annotations

from dataclasses import dataclass, field

AI = "ai"
HUMAN = "human"
REVISED = "ai_then_human"
STARTER = "starter"
UNKNOWN = "unknown"
AUTHORS = (AI, HUMAN, REVISED, STARTER, UNKNOWN)


@dataclass
class Line:
    text: str
    author: str


@dataclass
class TrueFile:
    lines: list[Line] = field(default_factory=list)
    newline: str = "\n"
    final_newline: bool = True

    def content(self) -> str:
        body = self.newline.join(line.text for line in self.lines)
        return body + self.newline if self.lines and self.final_newline else body

    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def _shared_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    """How many lines old and new share at the start and (after that) at the end."""
    head = 0
    while head < min(len(old), len(new)) and old[head] == new[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]
    ):  # fmt: skip
        tail += 1
    return head, tail


@dataclass
class Truth:
    """Per path, the lines of the file and who wrote each one."""

    files: dict[str, TrueFile] = field(default_factory=dict)

    def starter(self, path: str, text: str, newline: str = "\n") -> None:
        self.files[path] = _parsed(text, STARTER, newline)

    def write(self, path: str, text: str, author: str, newline: str = "\n") -> None:
        """The whole file (re)written by one party: every line is theirs."""
        self.files[path] = _parsed(text, author, newline)

    def replace(
        self, path: str, start: int, end: int, new: list[str], author: str, retyped: bool = False
    ) -> None:
        """Lines [start, end) replaced by `new` (0-based). For `author == human`, a replaced
        line the AI wrote becomes `ai_then_human` when the candidate revised it in place (same
        position in the range), otherwise the new line is plainly the candidate's."""
        file = self.files[path]
        old = file.lines[start:end]
        head, tail = (0, 0) if retyped else _shared_ends([line.text for line in old], new)
        middle_old = old[head : len(old) - tail]
        placed: list[Line] = []
        for index, text in enumerate(new[head : len(new) - tail]):
            who = author
            if author == REVISED:
                was = middle_old[index].author if index < len(middle_old) else HUMAN
                who = REVISED if was in (AI, REVISED) else HUMAN
            placed.append(Line(text, who))
        file.lines[start:end] = [*old[:head], *placed, *old[len(old) - tail :]]

    def reindent(self, path: str, start: int, end: int, prefix: str) -> None:
        """Re-indentation by hand: the text moves, the author stays."""
        for line in self.files[path].lines[start:end]:
            line.text = prefix + line.text if line.text else line.text

    def rename(self, old: str, new: str) -> None:
        self.files[new] = self.files.pop(old)

    def delete(self, path: str) -> None:
        del self.files[path]


def _parsed(text: str, author: str, newline: str) -> TrueFile:
    final_newline = text.endswith("\n")
    lines = text.replace("\r\n", "\n").split("\n")
    if final_newline:
        lines.pop()
    return TrueFile([Line(t, author) for t in lines], newline, final_newline)
