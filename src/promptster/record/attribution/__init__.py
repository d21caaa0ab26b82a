"""Attribution: which file changes the AI made, the candidate made, or both.

`engine` matches snapshot changes against the edits the AI reported (pure, no I/O); `events`
applies it to timeline events; `live` is the recorder's incremental use of it. `procio`,
`measure` and `writes` measure what an AI shell command's processes wrote (Linux I/O
accounting) and put it on the file events as evidence; `authorship` is line authorship at
submit; `paste` flags likely pastes."""
