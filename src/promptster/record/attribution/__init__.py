"""Attribution: which file changes the AI made, the candidate made, or both.

`engine` matches snapshot changes against the edits the AI reported (pure, no I/O: the values in
`model`, the AI's lines per file in `claims`, shell command windows in `windows`, the verdict
rule in `verdict`); `events` applies it to timeline events; `live` is the recorder's incremental
use of it. `procio`, `measure` and `writes` measure what an AI shell command's processes wrote
(Linux I/O accounting) and put it on the file events as evidence; `paste` flags likely pastes.
Line authorship at submit: `authorship` replays the file events onto the snapshots (`lines`: a
file's lines and one change's origins), `resume` is a replay stopped after a prefix of the
timeline and `checkpoint` keeps one during the session."""
