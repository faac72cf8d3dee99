#!/bin/sh
# End-to-end comparison on the same file: `godo --audit-log` against laurel (the audit-log
# enricher from crates.io, `cargo install laurel`; it needs libclang-dev and libacl1-dev to build),
# on the large real log of tests/fixtures (257,579 records), decompressed first so that both read
# the same plain file. Reports CPU time (user + system) and peak memory (max RSS) from
# /usr/bin/time -v, and each program's RSS on an empty log. Run it on a release build, on a
# quiet machine:
#
#   cargo build-godo        # the static godo, as installed (see README)
#   listener/benches/vs-laurel.sh [path/to/godo] [path/to/laurel]
#
# Without a path it measures the static build when there is one, else target/release/godo
# (`cargo build --release -p dockwatch-listener --bin godo`); the report says which.
#
# laurel reads auditd's plugin stream (one record per line, the RAW log format) on stdin and
# writes one JSON document per event to its own log; godo writes its events as JSON lines to a
# capture file (no database, so neither waits on a server).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
static_godo=$here/../target/x86_64-unknown-linux-gnu/dist/godo
if [ -x "$static_godo" ]; then default_godo=$static_godo; else default_godo=$here/../target/release/godo; fi
godo=${1:-$default_godo}
laurel=${2:-$(command -v laurel || true)}
[ -x "$godo" ] || { echo "vs-laurel: no godo at $godo (cargo build --release -p dockwatch-listener)" >&2; exit 2; }
[ -n "$laurel" ] && [ -x "$laurel" ] || { echo "vs-laurel: laurel not found (cargo install laurel)" >&2; exit 2; }

tmp=$(mktemp -d /tmp/vs-laurel.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# auditd's log has no EOE records, but the plugin stream laurel is built for has them (laurel
# holds events until their EOE): put an EOE after the last record of every event that has a
# SYSCALL record, as the kernel sends it, and give both programs that same file. (The last record,
# not the first change of serial: records of different events interleave in this log, and an EOE
# in the middle of an event would cut it in two for both programs.)
zstd -q -dc "$here/tests/fixtures/large-raw.log.zst" > "$tmp/raw.log"
awk '
    { id = $2; sub(/^msg=audit\(/, "", id); sub(/\):?$/, "", id) }
    NR == FNR { last[id] = FNR; if ($1 == "type=SYSCALL") sys[id] = 1; next }
    { print }
    last[id] == FNR && (id in sys) { print "type=EOE msg=audit(" id "): " }' \
    "$tmp/raw.log" "$tmp/raw.log" > "$tmp/audit.log"
rm "$tmp/raw.log"
records=$(wc -l < "$tmp/audit.log")
mkdir -p "$tmp/laurel"
cat > "$tmp/laurel.toml" <<CONF
directory = "$tmp/laurel"
statusreport-period = 0
input = "stdin"
[auditlog]
file = "audit.log"
size = 10000000000
generations = 2
[transform]
execve-argv = [ "array" ]
CONF
# A second laurel run without its /proc enrichment (reading /proc of a live host makes no sense
# for an old log, and costs it system time).
sed 's#^directory = .*#directory = "'"$tmp"'/laurel-plain"#' "$tmp/laurel.toml" > "$tmp/laurel-plain.toml"
printf '[enrich]\npid = false\nscript = false\ncontainer = false\nexecve-env = []\n' >> "$tmp/laurel-plain.toml"
mkdir -p "$tmp/laurel-plain"
cat "$tmp/audit.log" > /dev/null

field() { # FILE NAME
    awk -F': ' -v k="$2" '$1 ~ k {print $2}' "$1" | head -1
}
report() { # NAME TIMEFILE
    user=$(field "$2" "User time")
    sys=$(field "$2" "System time")
    rss=$(field "$2" "Maximum resident set size")
    wall=$(field "$2" "Elapsed")
    cpu=$(echo "$user + $sys" | bc)
    rate=$(echo "$records / $cpu" | bc)
    printf '%-16s cpu %7.2f s (user %s, sys %s)  wall %s  peak RSS %7d KiB  %8d records/s of CPU\n' \
        "$1" "$cpu" "$user" "$sys" "$wall" "$rss" "$rate"
}

/usr/bin/time -v "$godo" --audit-log "$tmp/audit.log" --host bench --write "$tmp/godo.jsonl" \
    2> "$tmp/godo.time" || { cat "$tmp/godo.time" >&2; exit 1; }
/usr/bin/time -v "$laurel" -c "$tmp/laurel.toml" < "$tmp/audit.log" 2> "$tmp/laurel.time" \
    || { cat "$tmp/laurel.time" >&2; exit 1; }
/usr/bin/time -v "$laurel" -c "$tmp/laurel-plain.toml" < "$tmp/audit.log" 2> "$tmp/laurel-plain.time" \
    || { cat "$tmp/laurel-plain.time" >&2; exit 1; }

# The same runs on an empty log: what each program takes before it has read anything (its code
# and libraries as mapped, its start-up allocations). Neither can go below it, so the report
# shows the peak above it too.
: > "$tmp/empty.log"
/usr/bin/time -v "$godo" --audit-log "$tmp/empty.log" --host bench --write "$tmp/godo-empty.jsonl" \
    2> "$tmp/godo-empty.time" || { cat "$tmp/godo-empty.time" >&2; exit 1; }
mkdir -p "$tmp/laurel-empty"
sed 's#^directory = .*#directory = "'"$tmp"'/laurel-empty"#' "$tmp/laurel.toml" > "$tmp/laurel-empty.toml"
/usr/bin/time -v "$laurel" -c "$tmp/laurel-empty.toml" < "$tmp/empty.log" 2> "$tmp/laurel-empty.time" \
    || { cat "$tmp/laurel-empty.time" >&2; exit 1; }

if ldd "$godo" > /dev/null 2>&1; then build=dynamic; else build=static; fi
echo "godo: $godo ($build build)"
echo "input: $records records (EOE included), $(($(stat -c %s "$tmp/audit.log") >> 20)) MiB (RAW log)"
echo "output: godo $(wc -l < "$tmp/godo.jsonl") events, laurel $(wc -l < "$tmp/laurel/audit.log") events"
report godo "$tmp/godo.time"
report laurel "$tmp/laurel.time"
report laurel-noenrich "$tmp/laurel-plain.time"
gbase=$(field "$tmp/godo-empty.time" "Maximum resident set size")
lbase=$(field "$tmp/laurel-empty.time" "Maximum resident set size")
gpeak=$(field "$tmp/godo.time" "Maximum resident set size")
lpeak=$(field "$tmp/laurel.time" "Maximum resident set size")
printf 'empty log: godo %d KiB, laurel %d KiB; peak above that: godo %d KiB, laurel %d KiB\n' \
    "$gbase" "$lbase" $((gpeak - gbase)) $((lpeak - lbase))
