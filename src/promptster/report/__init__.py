"""The reviewer's HTML report and cohort page: data step → jinja2 templates → one file.

`review` is the flow (verify, signals, then the timeline's digest with the side data in
parallel, render, atomic write); `data`, `answers`, `charts`, `timeline_data` (with
`digest_model`, what the digest keeps, and `page_bodies`, each kind's page fields),
`files_view`, `snapshots` (its patches in a `diffstore` file), `casts` build plain
dataclasses (`model`); `render` fills `templates/` with `static/` inlined; `meta` holds labels
and formatting; `events_block` streams the page's rows (one per event) and the diffs block
through temporary files into the page.
May import `reviewer`, `analysis`, `bundle` and `formats`."""
