#!/usr/bin/env bash
# make bench: the cost of a run against the floor of merely parsing and storing the same CSV files.
#   (a) sqlite3's .import of the export's CSV files into empty tables (the floor)
#   (b) opvangsync's first import into an empty portal
#   (p) the portal's own floor: the rows the portal holds after (b)-(f), copied by the sqlite3 shell into an empty
#       portal of the same schema (every table and index) in one transaction: what storing them costs SQLite alone
#   (c) the same export again, nothing changed (--force)
#   (d) the next night: about 1% of the records changed, added or ended
#   (e) attendance refresh of one group
#   (f) a scoped run for one family (--only parent=...)
#   (g) the next night again with --full, on a copy of the portal as it was before (d): what (d) saves
# Wall time and peak RSS per step, and (b)/(a), (c)/(a), (d)/(a), all measured in this one run.
# SCALE=N sets the number of children (default 100000); BENCH_DIR the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${SCALE:-100000}
work=${BENCH_DIR:-bench/out/$scale}
bin=.build/release
as_of=2026-11-22
next_day=2026-11-23

rm -rf "$work"
mkdir -p "$work"
"$bin/exportgen" --children "$scale" --seed 42 --out "$work/night1" >/dev/null
"$bin/exportgen" --children "$scale" --seed 42 --next-night --out "$work/night2" >/dev/null

declare -A wall rss
measure() {  # name, then the command
    local name=$1; shift
    local out="$work/$name.time"
    /usr/bin/time -f "%e %M" -o "$out" "$@" >"$work/$name.stdout" 2>"$work/$name.stderr" || {
        local code=$?
        # 4 = applied with rejected rows: a measured run all the same.
        if [ "$code" -ne 4 ]; then echo "bench: step $name failed with exit $code; see $work/$name.stderr" >&2; exit 1; fi
    }
    read -r seconds kilobytes < <(tail -n 1 "$out")
    wall[$name]=$seconds
    rss[$name]=$((kilobytes / 1024))
}

# The floor: the sqlite3 shell importing the same CSV files into empty tables.
{
    echo ".mode csv"
    echo ".separator ;"
    for file in "$work"/night1/*.csv; do
        echo ".import '$file' $(basename "$file" .csv)"
    done
} > "$work/floor.sql"
measure a sh -c "sqlite3 '$work/floor.sqlite' < '$work/floor.sql'"
measure b "$bin/opvangsync" import "$work/night1" --db "$work/portal.sqlite" --reports "$work/reports" --as-of "$as_of"
measure c "$bin/opvangsync" import "$work/night1" --db "$work/portal.sqlite" --reports "$work/reports" --as-of "$as_of" --force --reason bench
# The portal as (d) finds it, for (g).
sqlite3 "$work/portal.sqlite" ".backup '$work/portal-full.sqlite'"
measure d "$bin/opvangsync" import "$work/night2" --db "$work/portal.sqlite" --reports "$work/reports" --as-of "$next_day" --allow-mass-changes --reason bench
group=$(sqlite3 "$work/portal.sqlite" "SELECT key FROM groups ORDER BY key LIMIT 1")
measure e "$bin/opvangsync" attendance refresh --group "$group" --db "$work/portal.sqlite" --as-of "$next_day"
parent=$(sqlite3 "$work/portal.sqlite" "SELECT parent_number FROM relations ORDER BY parent_number LIMIT 1")
measure f "$bin/opvangsync" import "$work/night2" --only "parent=$parent" --db "$work/portal.sqlite" --reports "$work/reports" --as-of "$next_day"

measure g "$bin/opvangsync" import "$work/night2" --db "$work/portal-full.sqlite" --reports "$work/reports-full" --as-of "$next_day" --allow-mass-changes --reason bench --full
# The portal's floor: every row the portal holds after (b)-(f), inserted by SQLite itself into the same schema, in one
# transaction. Last, so that the gigabytes it writes at a million children cannot push the export and the portal
# out of the page cache before a step that is measured.
# ("WHERE 1" keeps SQLite from copying the tables' pages as they are, which it does for a bare SELECT *.)
sqlite3 "$work/portal.sqlite" .schema > "$work/portal-schema.sql"
{
    echo "PRAGMA journal_mode = WAL;"
    echo "PRAGMA synchronous = FULL;"
    echo "ATTACH '$work/portal.sqlite' AS source;"
    echo "BEGIN;"
    sqlite3 "$work/portal.sqlite" "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'" |
        while read -r table; do echo "INSERT INTO main.\"$table\" SELECT * FROM source.\"$table\" WHERE 1;"; done
    echo "COMMIT;"
    echo "PRAGMA wal_checkpoint(PASSIVE);"
} > "$work/portal-floor.sql"
sqlite3 "$work/portal-floor.sqlite" < "$work/portal-schema.sql"
measure p sh -c "sqlite3 '$work/portal-floor.sqlite' < '$work/portal-floor.sql' >/dev/null"
rm -f "$work/portal-floor.sqlite" "$work/portal-floor.sqlite-wal" "$work/portal-floor.sqlite-shm"
ratio() { awk -v x="${wall[$1]}" -v y="${wall[a]}" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "-" }'; }
printf '\nopvangsync bench: %s children, %s files, %s MB of CSV (%s, %s cores)\n' "$scale" \
    "$(ls "$work"/night1/*.csv | wc -l)" "$(du -sm "$work/night1" | cut -f1)" "$(date -u +%Y-%m-%d)" "$(nproc)"
printf '%-48s %10s %10s %10s\n' "step" "wall (s)" "peak MB" "vs (a)"
printf '%-48s %10s %10s %10s\n' "(a) sqlite3 .import of the CSV files (floor)" "${wall[a]}" "${rss[a]}" "1.00"
printf '%-48s %10s %10s %10s\n' "(b) first import into an empty portal" "${wall[b]}" "${rss[b]}" "$(ratio b)"
printf '%-48s %10s %10s %10s\n' "(p) the portal's rows stored by sqlite3 (floor)" "${wall[p]}" "${rss[p]}" "$(ratio p)"
printf '%-48s %10s %10s %10s\n' "(c) same export again, nothing changed" "${wall[c]}" "${rss[c]}" "$(ratio c)"
printf '%-48s %10s %10s %10s\n' "(d) next night, ~1% changed" "${wall[d]}" "${rss[d]}" "$(ratio d)"
printf '%-48s %10s %10s %10s\n' "(e) attendance refresh of one group" "${wall[e]}" "${rss[e]}" "$(ratio e)"
printf '%-48s %10s %10s %10s\n' "(f) scoped run for one family" "${wall[f]}" "${rss[f]}" "$(ratio f)"
printf '%-48s %10s %10s %10s\n' "(g) next night with --full (compare with (d))" "${wall[g]}" "${rss[g]}" "$(ratio g)"
printf '(b) vs (p), the portal floor: %s\n' "$(awk -v x="${wall[b]}" -v y="${wall[p]}" 'BEGIN { if (y > 0) printf "%.2f", x / y; else print "-" }')"
# Both paths must leave the portal the same (the differential test checks every table; here the records).
for table in children parents placements relations accounts attendance; do
    a=$(sqlite3 "$work/portal.sqlite" "SELECT COUNT(*), TOTAL(length(key)) FROM $table" 2>/dev/null || sqlite3 "$work/portal.sqlite" "SELECT COUNT(*) FROM $table")
    b=$(sqlite3 "$work/portal-full.sqlite" "SELECT COUNT(*), TOTAL(length(key)) FROM $table" 2>/dev/null || sqlite3 "$work/portal-full.sqlite" "SELECT COUNT(*) FROM $table")
    [ "$a" = "$b" ] || { echo "bench: (d) and (g) disagree on $table: $a vs $b" >&2; exit 1; }
done
# How long each import kept portal writes waiting (its one transaction; the report's writeLockSeconds).
for step in b c d f g; do
    report=$(grep -o '/[^ ]*\.json' "$work/$step.stdout" | tail -n 1)
    [ -n "$report" ] && printf 'write lock (%s): %s s\n' "$step" \
        "$(/usr/bin/python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["writeLockSeconds"] or 0, 2))' "$report")"
done
grep -h '^opvangsync:' "$work/d.stdout" | tail -n 1
