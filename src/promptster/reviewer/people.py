"""Names, not ids: who a session's candidate is and what the assessment is called.

A bundle carries its assessment id and the candidate key it was started with; the reviewer
who issued that key knows the candidate's name and e-mail (`keys create --name --email`) and
the assessment's title. `Directory` holds that, read once from the workspace; `person` joins a
session to it. A key this workspace did not issue (or a key of another assessment) gives no
name from here: then the name the bundle carries (the pack and key's `candidateName` in its
first event) is shown, and the ids stay as the secondary column everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from promptster.errors import PromptsterError
from promptster.formats.jsonio import JsonValue
from promptster.reviewer.store import Workspace

if TYPE_CHECKING:
    from promptster.analysis.queries import SessionRow
    from promptster.reviewer.ratings import SessionRatings


@dataclass(frozen=True)
class Person:
    """A session's candidate and assessment as a reviewer reads them."""

    name: str | None
    email: str | None
    assessment_title: str | None
    from_workspace: bool = False  # the name comes from a key this workspace issued

    def label(self, session_id: str) -> str:
        """The name, else the e-mail, else the short session id."""
        return self.name or self.email or session_id[:8]

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            "candidateName": self.name,
            "candidateEmail": self.email,
            "assessmentTitle": self.assessment_title,
        }


@dataclass(frozen=True)
class Directory:
    """Candidate keys (by key text) and assessment titles (by id) of one workspace."""

    keys: dict[str, tuple[str, str | None, str | None]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    session_keys: dict[str, str] = field(default_factory=dict)  # imported session -> key

    def of_session(
        self, session_id: str, assessment_id: str | None, carried: str | None = None
    ) -> Person:
        """The candidate of an imported session (its key recorded at import)."""
        return self.person(assessment_id, self.session_keys.get(session_id), carried)

    def person(
        self, assessment_id: str | None, candidate_key: str | None, carried: str | None = None
    ) -> Person:
        """The candidate of a session of `assessment_id` started with `candidate_key`;
        `carried` is the name the bundle itself carries (used when the workspace has none)."""
        title = self.titles.get(assessment_id) if assessment_id else None
        issued = self.keys.get(candidate_key) if candidate_key else None
        if issued is not None and issued[0] == assessment_id and (issued[1] or issued[2]):
            return Person(issued[1] or carried, issued[2], title, from_workspace=True)
        return Person(carried or None, None, title)


def directory_of(workspace: Workspace) -> Directory:
    return directory_from(workspace.connection)


def directory_from(con: duckdb.DuckDBPyConnection) -> Directory:
    """The directory from a workspace connection (its `main` tables)."""
    keys = {
        str(text): (str(assessment), name, email)
        for text, assessment, name, email in con.execute(
            "SELECT key_text, assessment_id, candidate_name, candidate_email "
            "FROM main.candidate_keys"
        ).fetchall()
    }
    titles = {
        str(i): str(t) for i, t in con.execute("SELECT id, title FROM main.assessments").fetchall()
    }
    session_keys = {
        str(session): str(key)
        for session, key in con.execute(
            "SELECT session_id, manifest->>'candidateKey' FROM main.sessions"
        ).fetchall()
        if key
    }
    return Directory(keys, titles, session_keys)


def load_directory(path: Path | None = None) -> Directory:
    """The directory of the reviewer's workspace; empty when there is none or it cannot be
    read now (a name is a courtesy: its absence never stops a command)."""
    from promptster import paths

    database = Path(path) if path is not None else paths.workspace_db_path()
    if not database.exists():
        return Directory()
    try:
        with Workspace.open(database, read_only=True) as workspace:
            return directory_of(workspace)
    except PromptsterError:
        return Directory()


@dataclass(frozen=True)
class ListedSession:
    """An imported session as `sessions list` shows it: names first, ids second."""

    row: SessionRow
    person: Person
    ratings: SessionRatings | None

    def to_json_obj(self) -> dict[str, JsonValue]:
        return {
            **self.row.to_json_obj(),
            **self.person.to_json_obj(),
            "ratings": self.ratings.to_json_obj() if self.ratings is not None else None,
        }


def described(con: duckdb.DuckDBPyConnection, row: SessionRow) -> dict[str, JsonValue]:
    """What `sessions show` adds to a session: its candidate, assessment title, scorecards."""
    from promptster.reviewer.ratings import load_ratings

    person = directory_from(con).of_session(row.session_id, row.assessment_id, row.candidate_name)
    found = load_ratings(con, [row.session_id]).get(row.session_id)
    return {**person.to_json_obj(), "ratings": found.to_json_obj() if found is not None else None}


def listed_sessions(
    con: duckdb.DuckDBPyConnection, assessment_id: str | None = None
) -> list[ListedSession]:
    """The imported sessions (most recent first) with their candidates and scorecards."""
    from promptster.analysis.queries import list_sessions
    from promptster.reviewer.ratings import load_ratings

    rows = list_sessions(con, assessment_id)
    directory = directory_from(con)
    ratings = load_ratings(con, [r.session_id for r in rows])
    return [
        ListedSession(
            r,
            directory.of_session(r.session_id, r.assessment_id, r.candidate_name),
            ratings.get(r.session_id),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class WorkspaceView:
    """The names and scorecards of the reviewer's workspace, read once before scoring (the
    workspace is not held open while bundles are scored)."""

    directory: Directory
    ratings: dict[str, SessionRatings]

    @classmethod
    def load(cls, path: Path | None = None) -> WorkspaceView:
        from promptster import paths as where
        from promptster.reviewer.ratings import load_ratings

        database = Path(path) if path is not None else where.workspace_db_path()
        if not database.exists():
            return cls(Directory(), {})
        try:
            with Workspace.open(database, read_only=True) as workspace:
                return cls(directory_of(workspace), load_ratings(workspace.connection))
        except PromptsterError:  # busy or older: names are a courtesy, scoring goes on
            return cls(Directory(), {})

    def fill(self, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """`score` rows with the names and scorecard columns filled in."""
        from promptster.reviewer.ratings import rating_columns

        for row in rows:
            key = row.pop("_candidateKey", None)
            session = row.get("sessionId")
            if session is not None:
                person = self.directory.person(row.get("assessmentId"), key, row["candidateName"])
                row.update(
                    candidateName=person.name,
                    candidateEmail=person.email,
                    assessmentTitle=person.assessment_title,
                )
                row.update(rating_columns(self.ratings.get(session)))
            yield row
