#!/bin/sh
# Builds the libFuzzer targets of fuzz/ and runs each for FUZZ_SECONDS (default 20) on one core.
#   FUZZ_SECONDS=60 fuzz/run.sh            # every target
#   FUZZ_TARGETS=csv FUZZ_SECONDS=3600 fuzz/run.sh
# Each target is compiled with the sources it exercises into one module (internal API in reach).
# Corpora grow in .build/fuzz/corpus-<target>, seeded from the sample exports; a crash leaves
# .build/fuzz/crash-* and a non-zero exit. Exit 0 when every target ran clean.
set -eu
cd "$(dirname "$0")/.."
SWIFTC="${SWIFTC:-swiftc}"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
TARGETS="${FUZZ_TARGETS:-csv json manifest dsn}"
OUT=.build/fuzz
SRC=Sources/OpvangSync
mkdir -p "$OUT"

sources() {
    case "$1" in
        csv) echo "fuzz/FuzzCSV.swift $SRC/Export/CSVReader.swift $SRC/Export/TextEncoding.swift $SRC/Support/UnicodeText.swift $SRC/Model/Issue.swift $SRC/Support/TextSafety.swift $SRC/Validation/BSN.swift" ;;
        json) echo "fuzz/FuzzJSON.swift $SRC/Support/JSON.swift" ;;
        dsn) echo "fuzz/FuzzDeliveryReport.swift Sources/Mail/MIMEEntity.swift Sources/Mail/DeliveryReport.swift Sources/Mail/Transport.swift Sources/Mail/MailMessage.swift" ;;
        manifest) echo "fuzz/FuzzManifest.swift $SRC/Export/Manifest.swift $SRC/Support/JSON.swift $SRC/Model/Issue.swift $SRC/Support/TextSafety.swift $SRC/Support/UnicodeText.swift $SRC/Model/OrganisationID.swift $SRC/Validation/BSN.swift $SRC/Model/Day.swift" ;;
        *) echo "unknown fuzz target $1" >&2; exit 2 ;;
    esac
}

seed() {
    corpus="$OUT/corpus-$1"
    mkdir -p "$corpus"
    [ -n "$(ls -A "$corpus")" ] && return 0
    case "$1" in
        csv) for f in sample-exports/zonnebloem/*.csv; do head -c 4096 "$f" > "$corpus/$(basename "$f")"; done ;;
        json) head -c 4096 sample-exports/zonnebloem-json/export.json > "$corpus/export.json"
              cp sample-exports/zonnebloem/manifest.json "$corpus/manifest.json" ;;
        manifest) cp sample-exports/zonnebloem/manifest.json "$corpus/manifest.json" ;;
        dsn) for f in Tests/Fixtures/bounces/*.eml; do head -c 8192 "$f" > "$corpus/$(basename "$f")"; done ;;
    esac
}

for target in $TARGETS; do
    binary="$OUT/fuzz-$target"
    # shellcheck disable=SC2046
    "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -O -g -module-name "Fuzz_$target" \
        $(sources "$target") -o "$binary" 2>"$OUT/build-$target.txt" || { cat "$OUT/build-$target.txt" >&2; exit 1; }
    seed "$target"
    echo "fuzz $target: ${SECONDS_PER_TARGET}s"
    "$binary" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 -artifact_prefix="$OUT/crash-$target-" \
        -max_len=8192 -timeout=10 "$OUT/corpus-$target" 2>"$OUT/log-$target.txt" || {
        tail -40 "$OUT/log-$target.txt" >&2
        echo "fuzz $target: crash, input saved in $OUT/crash-$target-*" >&2
        exit 1
    }
    grep -E "stat::number_of_executed_units" "$OUT/log-$target.txt" | sed "s/^/fuzz $target: /"
done
