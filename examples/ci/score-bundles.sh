#!/usr/bin/env bash
# Score every Promptster bundle under a folder and fail when any of them was tampered with.
#
#   usage: [REVIEWER_KEY=sha256:…|reviewer.json] score-bundles.sh [BUNDLE_FOLDER] [SCORES_FILE]
#
# With REVIEWER_KEY set, every pack must be signed by that key (--require-issuer); without it,
# packs are checked for a valid signature only, and the issuer is reported as not checked.
#
# Exit status: 0 every bundle verified, 1 a bundle failed verification (tampered, damaged or
# from a newer promptster), 2 usage error (e.g. no bundle found). The scores file is written
# in every case, with one row per bundle and the error of each bad one.
set -uo pipefail

bundles="${1:-bundles}"
scores="${2:-scores.csv}"

trust=()
if [ -n "${REVIEWER_KEY:-}" ]; then
    trust=(--reviewer-key "$REVIEWER_KEY" --require-issuer)
fi
promptster score "$bundles" --format csv --output "$scores" "${trust[@]}"
status=$?

if [ "$status" -eq 1 ]; then
    echo "::error::at least one bundle failed verification; see the 'error' column of $scores" >&2
    # Print the rows of the bad bundles (verified is the 5th column).
    awk -F, 'NR == 1 || $5 == "false"' "$scores" >&2
elif [ "$status" -eq 0 ]; then
    echo "all bundles verified; scores in $scores" >&2
fi
exit "$status"
