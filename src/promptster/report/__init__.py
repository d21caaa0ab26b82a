"""The reviewer's HTML report and cohort page: data step → jinja2 templates → one file.

`review` is the flow (verify, signals, side data in parallel, render, atomic write); `data`,
`answers`, `charts`, `timeline_data`, `snapshots`, `casts` build plain dataclasses (`model`);
`render` fills `templates/` with `static/` inlined; `meta` holds labels and formatting;
`events_block` streams the page's rows (one per event) through temporary files into the page.
May import `reviewer`, `analysis`, `bundle` and `formats`."""
