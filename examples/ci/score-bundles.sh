#!/usr/bin/env bash
# Score every Promptster bundle under a folder and fail when any of them was tampered with.
#
#   usage: score-bundles.sh [BUNDLE_FOLDER] [SCORES_FILE]
#
# Exit status: 0 every bundle verified, 1 a bundle failed verification (tampered, damaged or
# from a newer promptster), 2 usage error (e.g. no bundle found). The scores file is written
# in every case, with one row per bundle and the error of each bad one.
set -uo pipefail

bundles="${1:-bundles}"
scores="${2:-scores.csv}"

promptster score "$bundles" --format csv --output "$scores"
status=$?

if [ "$status" -eq 1 ]; then
    echo "::error::at least one bundle failed verification; see the 'error' column of $scores" >&2
    # Print the rows of the bad bundles (verified is the 5th column).
    awk -F, 'NR == 1 || $5 == "false"' "$scores" >&2
elif [ "$status" -eq 0 ]; then
    echo "all bundles verified; scores in $scores" >&2
fi
exit "$status"
