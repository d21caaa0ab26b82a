"""The bundle (`.pst`): its format, the deterministic writer, the safe reader, `verify`.

`format` names the members and limits; `writer` builds the signed ZIP; `reader` opens one
without trusting it (names, sizes, zip bombs); `verify` returns typed findings
(`verify_report`), checking the timeline in `verify_timeline` and the snapshots in
`verify_history`. Imports `formats` and the root modules only, so both the recorder and the
reviewer build on it."""
