"""The bundle writer (deterministic, atomic, signed) and the hostile-input-safe reader."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from corekit import SESSION_ID, event, record_session
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptster import __version__
from promptster.bundle import format as fmt
from promptster.bundle.reader import BundleReader, _name_problem
from promptster.bundle.verify import verify_bundle
from promptster.bundle.writer import write_bundle
from promptster.errors import FormatError, InputError, NewerFormatError
from promptster.formats.crypto import Envelope, SigningKey, dsse_verify, sha256_digest
from promptster.formats.events import Kind
from promptster.formats.timeline import chain_head, split_lines
from promptster.gitutil import run_git
from support import require_executable

KEY = SigningKey.from_seed(b"\x42" * 32)


@pytest.fixture(autouse=True)
def _git() -> None:
    require_executable("git")


def full_material(root: Path) -> Any:
    session = record_session(root)
    blob = b"complete output of a long command\n" * 10
    return session.material(
        assessment_pack=b'{"title":"Rate limiter"}',
        casts=[b'{"version": 2}\n', b'{"version": 2}\n[0.1, "o", "x"]\n'],
        blobs={sha256_digest(blob).removeprefix("sha256:"): blob},
    )


class TestWriter:
    def test_same_session_gives_byte_identical_bundles(self, tmp_path: Path) -> None:
        material = full_material(tmp_path)
        first = write_bundle(material, KEY, tmp_path / "one.pst")
        second = write_bundle(material, KEY, tmp_path / "sub" / "two.pst")
        assert first.path.read_bytes() == second.path.read_bytes()
        assert first.sha256 == second.sha256 == sha256_digest(first.path.read_bytes())
        assert first.size == first.path.stat().st_size

    def test_layout_order_and_zip_metadata(self, tmp_path: Path) -> None:
        written = write_bundle(full_material(tmp_path), KEY, tmp_path / "b.pst")
        with zipfile.ZipFile(written.path) as archive:
            infos = archive.infolist()
        names = [info.filename for info in infos]
        assert names[:5] == [
            "manifest.json",
            "manifest.dsse.json",
            "timeline.jsonl",
            "snapshots.bundle",
            "assessment.json",
        ]
        assert names[5:7] == ["blobs/" + names[5].split("/")[1], "terminal/0.cast"]
        assert names[7:] == ["terminal/1.cast"]
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.create_system == 3
            assert info.external_attr >> 16 == 0o100644
            expected = zipfile.ZIP_STORED if info.filename == "snapshots.bundle" else 8
            assert info.compress_type == expected

    def test_manifest_describes_every_member_and_is_signed(self, tmp_path: Path) -> None:
        material = full_material(tmp_path)
        written = write_bundle(material, KEY, tmp_path / "b.pst")
        with zipfile.ZipFile(written.path) as archive:
            members = {name: archive.read(name) for name in archive.namelist()}
        manifest = json.loads(members["manifest.json"])
        assert manifest["format"] == "promptster-bundle"
        assert manifest["formatVersion"] == 3
        assert manifest["toolVersion"] == __version__
        assert manifest["sessionId"] == SESSION_ID
        assert manifest["assessmentId"] == "assessment-1"
        assert manifest["candidateKey"] is None
        assert manifest["candidateKeyHash"] is None  # format 2: the key and pack binding
        assert manifest["packDigest"] == sha256_digest(material.assessment_pack or b"")
        assert manifest["publicKey"] == KEY.public.text
        lines = split_lines(material.timeline).lines
        assert manifest["eventCount"] == len(lines)
        assert manifest["chainHead"] == chain_head(lines, SESSION_ID)
        head = run_git(["rev-parse", fmt.SNAPSHOT_REF], git_dir=material.shadow_git_dir)
        assert manifest["snapshotHead"] == head.text.strip()
        listed = manifest["members"]
        assert set(listed) == set(members) - {"manifest.json", "manifest.dsse.json"}
        for name, entry in listed.items():
            assert entry == {"sha256": sha256_digest(members[name]), "size": len(members[name])}
        envelope = Envelope.from_json_obj(json.loads(members["manifest.dsse.json"]))
        payload = dsse_verify(envelope, fmt.MANIFEST_PAYLOAD_TYPE, KEY.public)
        assert payload == members["manifest.json"]
        assert written.manifest == fmt.Manifest.from_json_obj(manifest)

    def test_a_failed_write_leaves_nothing_behind(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        material = full_material(tmp_path)
        out = tmp_path / "out" / "b.pst"
        out.parent.mkdir()
        out.write_bytes(b"previous bundle")
        calls = 0
        real = zipfile.ZipFile.writestr

        def failing(self: zipfile.ZipFile, *args: Any, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            if calls == 3:
                raise OSError(28, "No space left on device")
            real(self, *args, **kwargs)

        monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
        with pytest.raises(OSError, match="No space left"):
            write_bundle(material, KEY, out)
        assert out.read_bytes() == b"previous bundle"
        assert sorted(p.name for p in out.parent.iterdir()) == ["b.pst"]

    def test_refuses_a_torn_timeline(self, tmp_path: Path) -> None:
        material = record_session(tmp_path).material()
        material.timeline += b'{"partial'
        with pytest.raises(InputError, match="ends with a partial line"):
            write_bundle(material, KEY, tmp_path / "b.pst")
        assert not (tmp_path / "b.pst").exists()

    def test_refuses_a_blob_under_the_wrong_name(self, tmp_path: Path) -> None:
        material = record_session(tmp_path).material(blobs={"0" * 64: b"content"})
        with pytest.raises(InputError, match="does not match its name"):
            write_bundle(material, KEY, tmp_path / "b.pst")

    def test_refuses_a_repository_without_the_snapshot_branch(self, tmp_path: Path) -> None:
        material = record_session(tmp_path).material()
        empty = tmp_path / "empty.git"
        run_git(["init", "--quiet", "--bare", str(empty)])
        material.shadow_git_dir = empty
        with pytest.raises(InputError, match="has no refs/heads/snapshots branch"):
            write_bundle(material, KEY, tmp_path / "b.pst")


class TestManifestModel:
    def base(self) -> dict[str, Any]:
        return {
            "format": "promptster-bundle",
            "formatVersion": 1,
            "toolVersion": "0.1.0",
            "sessionId": "s",
            "assessmentId": None,
            "candidateKey": None,
            "startedAt": "2026-03-02T10:00:00.000Z",
            "endedAt": "2026-03-02T11:00:00.000Z",
            "eventCount": 0,
            "publicKey": KEY.public.text,
            "chainHead": "sha256:" + "0" * 64,
            "snapshotHead": "0" * 40,
            "members": {"timeline.jsonl": {"sha256": "sha256:" + "1" * 64, "size": 0}},
        }

    def test_round_trip_keeps_unknown_fields(self) -> None:
        body = self.base() | {"reviewerNote": {"x": 1}}
        manifest = fmt.Manifest.from_json_obj(body)
        assert manifest.extra == {"reviewerNote": {"x": 1}}
        assert manifest.to_json_obj() == body

    @pytest.mark.parametrize(
        ("change", "error", "message"),
        [
            ({"format": "zip"}, FormatError, "does not describe a Promptster bundle"),
            ({"formatVersion": "1"}, FormatError, "no valid formatVersion"),
            ({"formatVersion": True}, FormatError, "no valid formatVersion"),
            ({"formatVersion": 0}, FormatError, "no valid formatVersion"),
            ({"formatVersion": 4}, NewerFormatError, "format version 4; this promptster reads"),
            ({"eventCount": -1}, FormatError, "'eventCount' is not a count"),
            ({"sessionId": 7}, FormatError, "'sessionId' is missing or not a string"),
            ({"members": []}, FormatError, "'members' is not an object"),
            ({"members": {"a": {"sha256": 1, "size": 1}}}, FormatError, "entry for 'a'"),
        ],
    )
    def test_rejects(self, change: dict[str, Any], error: type[Exception], message: str) -> None:
        with pytest.raises(error, match=message):
            fmt.Manifest.from_json_obj(self.base() | change)

    def test_member_order(self) -> None:
        names = ["blobs/" + "a" * 64, "terminal/10.cast", "timeline.jsonl", "terminal/2.cast"]
        names += ["manifest.json", "snapshots.bundle", "manifest.dsse.json"]
        assert fmt.member_order(names) == [
            "manifest.json",
            "manifest.dsse.json",
            "timeline.jsonl",
            "snapshots.bundle",
            "blobs/" + "a" * 64,
            "terminal/10.cast",
            "terminal/2.cast",
        ]


class TestReader:
    @pytest.mark.parametrize(
        ("name", "problem"),
        [
            ("manifest.json", None),
            ("terminal/12.cast", None),
            ("blobs/" + "f" * 64, None),
            ("/etc/passwd", "is an absolute path"),
            ("C:/x", "is an absolute path"),
            ("../x", "contains '..' or '.' path segments"),
            ("terminal/../timeline.jsonl", "contains '..'"),
            ("./timeline.jsonl", "contains '..' or '.'"),
            ("a\\b", "backslash or NUL"),
            ("timeline.jsonl\0.txt", "backslash or NUL"),
            ("terminal/x.cast", "is not a member the bundle format defines"),
            ("terminal/12345.cast", "is not a member"),
            ("blobs/" + "F" * 64, "is not a member"),
            ("Manifest.json", "is not a member"),
            ("timeline.jsonl/", "is not a member"),
        ],
    )
    def test_member_names(self, name: str, problem: str | None) -> None:
        found = _name_problem(name)
        if problem is None:
            assert found is None
        else:
            assert found is not None and problem in found

    def test_unreadable_paths(self, tmp_path: Path) -> None:
        with pytest.raises(InputError, match="no such file"):
            BundleReader(tmp_path / "missing.pst")
        with pytest.raises(InputError, match="is a directory"):
            BundleReader(tmp_path)
        os.mkfifo(tmp_path / "fifo.pst")
        with pytest.raises(InputError, match="is not a regular file"):
            BundleReader(tmp_path / "fifo.pst")
        if Path("/dev/zero").exists():
            with pytest.raises(InputError, match="is not a regular file"):
                BundleReader(Path("/dev/zero"))
        (tmp_path / "empty.pst").write_bytes(b"")
        with pytest.raises(FormatError, match="not a complete zip file"):
            BundleReader(tmp_path / "empty.pst")

    def test_reads_members_within_their_declared_size(self, tmp_path: Path) -> None:
        written = write_bundle(full_material(tmp_path), KEY, tmp_path / "b.pst")
        with BundleReader(written.path) as reader:
            assert reader.problems == []
            assert reader.names == reader.order()
            assert reader.read("assessment.json") == b'{"title":"Rate limiter"}'
            with pytest.raises(FormatError, match=r"no usable member 'nope\.txt'"):
                reader.read("nope.txt")

    def test_size_caps_are_checked_from_the_directory_before_reading(self, tmp_path: Path) -> None:
        path = tmp_path / "bomb.pst"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("assessment.json", b"{}")
            archive.writestr("manifest.json", b"{}")
            archive.getinfo("assessment.json").file_size = 17 * 1024**2
        with BundleReader(path) as reader:
            (problem,) = reader.problems
            assert problem.name == "assessment.json"
            assert "declares 17,825,792 bytes; the limit is 16,777,216" in problem.message
            assert reader.names == ["manifest.json"]


events_strategy = st.lists(
    st.tuples(
        st.sampled_from([Kind.PROMPT, Kind.COMMAND, Kind.NOTE, "future_kind"]),
        st.dictionaries(
            st.text(min_size=1, max_size=6),
            st.text(st.characters(exclude_categories=["Cs"]), max_size=30) | st.integers(),
            max_size=3,
        ),
    ),
    max_size=12,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events_strategy)
def test_write_read_round_trip(
    tmp_path_factory: pytest.TempPathFactory, items: list[tuple[str, dict[str, Any]]]
) -> None:
    root = tmp_path_factory.mktemp("roundtrip")
    session = record_session(root, [event(kind, data) for kind, data in items])
    material = session.material()
    written = write_bundle(material, KEY, root / "b.pst")
    with BundleReader(written.path) as reader:
        assert reader.problems == []
        assert reader.read(fmt.TIMELINE) == material.timeline
        manifest = fmt.Manifest.from_json_obj(json.loads(reader.read(fmt.MANIFEST)))
    assert manifest == written.manifest
    assert manifest.event_count == len(items) + 2
    report = verify_bundle(written.path)
    assert report.ok, report.failures
    unknown = sum(1 for kind, _ in items if kind == "future_kind")
    assert len(report.warnings) == (1 if unknown else 0)
