#!/bin/sh
# Weekly review lists as CSV: one file per case manager with their active cases, and one file
# with every active case. Each row is a `casectl list` row (case id, client, age, status, risk,
# stage, manager, opened, last contact, next review, open referrals, language).
#
# Usage: weekly-review.sh [DATA_DIR] [OUT_DIR]
#   DATA_DIR  the folder of case files (default: $CASECTL_DATA_DIR, else casectl's own default)
#   OUT_DIR   where the CSV files are written (default: ./weekly-review-YYYY-MM-DD)
#
# Only documented `casectl list` options are used, so the script keeps working as casectl grows.
# Set CASECTL_TODAY=YYYY-MM-DD to review as of another day (ages and the default OUT_DIR use it).
set -eu

data_dir=${1:-${CASECTL_DATA_DIR:-}}
day=${CASECTL_TODAY:-$(date +%Y-%m-%d)}
out_dir=${2:-weekly-review-$day}

if ! command -v casectl >/dev/null 2>&1; then
    echo "weekly-review: casectl is not on PATH; activate its virtual environment first." >&2
    exit 127
fi

# casectl with the chosen data directory, if one was given.
cl() {
    if [ -n "$data_dir" ]; then
        casectl --data-dir "$data_dir" "$@"
    else
        casectl "$@"
    fi
}

# Write a command's output to FILE only when the command succeeds: never half a file.
write() {
    file=$1
    shift
    "$@" >"$file.tmp" || { rm -f "$file.tmp"; return 1; }
    mv "$file.tmp" "$file"
    echo "$file"
}

# A file-name-safe version of a name: "J. Rivera" -> j-rivera.
slug() {
    s=$(printf '%s' "$1" | LC_ALL=C tr '[:upper:]' '[:lower:]' | LC_ALL=C tr -c 'a-z0-9' '-' | sed 's/--*/-/g; s/^-//; s/-$//')
    printf '%s\n' "${s:-unnamed}"
}

mkdir -p "$out_dir"
write "$out_dir/review-all.csv" cl list --status active --format csv

# The managers of the active cases, from the `manager` column of the tab-separated list.
managers=$(cl list --status active --format tsv | awk -F '\t' '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "manager") col = i; next }
    col && $col != "" { print $col }' | sort -u)

printf '%s\n' "$managers" | while IFS= read -r manager; do
    [ -n "$manager" ] || continue
    write "$out_dir/review-$(slug "$manager").csv" cl list --status active --manager "$manager" --format csv
done
