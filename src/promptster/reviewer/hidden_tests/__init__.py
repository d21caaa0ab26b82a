"""Hidden tests: a test folder the reviewer keeps, run against each submission in a sandbox.

`suite` packs the folder into the workspace (never into the candidate's pack) with its command
and time limit; `sandbox` runs a command under bubblewrap with no network, a read-only system,
a private tree and limits; `results` reads JUnit XML (or a runner's summary) into per-test
outcomes; `run` checks a bundle's snapshot out, lays the hidden tests over it and runs them;
`service` keeps results in the workspace keyed by bundle digest, so a second review reuses them.
Imports `bundle`, `formats` and the reviewer store only.
"""
