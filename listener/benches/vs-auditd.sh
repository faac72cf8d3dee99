#!/bin/bash
# Live benchmark of `godo` on a real kernel, run as root on a Docker host with the
# `dockwatch-busybox` image and Debian's auditd installed (not running):
#
#   cargo build --release -p dockwatch-listener --bin godo
#   sudo listener/benches/vs-auditd.sh [cpu|rate|all] [path/to/godo]
#
# cpu:  CPU time of `godo --multicast --write FILE` and of auditd for the same workload, side by
#       side in one run: auditd is the audit daemon (Debian's auditd.conf with its log format set
#       to RAW or ENRICHED, only the log file moved to a temporary directory and rotation off),
#       godo joins the read-only log group and installs its rule set, so both receive the same
#       records from the kernel for the same rules. Three busybox containers loop 400 times over
#       echo > file, mv, cat, rm and ls; each program's CPU (utime + stime from /proc/PID/stat)
#       is sampled before and after. DOCKWATCH_BENCH_PAIRS (default 3) runs per format, RAW and
#       ENRICHED alternating; the median ratio per format is printed.
# rate: godo alone as the audit daemon (its defaults: kernel backlog 65,536 records, backlog wait
#       time 0), one fresh godo per step, a container running LOOPS parallel loops that each
#       make CHUNK one-byte writes with `dd bs=1` then sleep 10 ms, for STEP_SECS seconds
#       (DOCKWATCH_BENCH_STEPS="LOOPS:CHUNK ...", DOCKWATCH_BENCH_STEP_SECS). A step is lossless
#       when godo reports no missing serial and no socket overflow, the kernel's `lost` counter
#       did not move, and the capture holds no gap event. Reported: the workload's audited
#       writes per second of wall time (a floor of the rate: the step's wall time includes the
#       container's start and stop), and every kernel event godo received (the host's other
#       activity included) per second of its run.
#
# Everything that touches audit holds /tmp/dockwatch-audit.lock. The audit settings (enabled,
# backlog limit, backlog wait time) are put back and auditd is stopped on exit, also on error.
set -euo pipefail

mode=${1:-all}
here=$(cd "$(dirname "$0")/.." && pwd)
godo=${2:-$here/../target/release/godo}
image=${DOCKWATCH_BENCH_IMAGE:-dockwatch-busybox:latest}
step_secs=${DOCKWATCH_BENCH_STEP_SECS:-10}

die() { echo "vs-auditd: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "run as root (audit control)"
[ -x "$godo" ] || die "no godo at $godo (cargo build --release -p dockwatch-listener --bin godo)"
command -v auditd > /dev/null || die "auditd is not installed (apt-get install auditd)"
docker image inspect "$image" > /dev/null 2>&1 || die "no image $image"

exec 9> /tmp/dockwatch-audit.lock
flock 9

status() { auditctl -s | awk -v k="$1" '$1 == k { print $2 }'; }
[ "$(status pid)" = 0 ] || die "an audit daemon is running (pid $(status pid)); stop it first"
[ "$(status enabled)" != 2 ] || die "audit configuration is locked"
saved_enabled=$(status enabled)
saved_backlog=$(status backlog_limit)
saved_wait=$(status backlog_wait_time)
saved_rules=$(auditctl -l)

tmp=$(mktemp -d /tmp/vs-auditd.XXXXXX)
auditd_pid=
godo_pid=
cleanup() {
    set +e
    [ -n "$godo_pid" ] && kill -TERM "$godo_pid" 2> /dev/null && wait "$godo_pid" 2> /dev/null
    [ -n "$auditd_pid" ] && kill -TERM "$auditd_pid" 2> /dev/null && wait "$auditd_pid" 2> /dev/null
    auditctl -e "$saved_enabled" > /dev/null
    auditctl -b "$saved_backlog" > /dev/null
    auditctl --backlog_wait_time "$saved_wait" > /dev/null
    [ "$(auditctl -l)" = "$saved_rules" ] || echo "vs-auditd: WARNING: audit rules differ from before" >&2
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

start_godo() { # NAME ARGS...
    local name=$1
    shift
    "$godo" --write "$tmp/$name.jsonl" --status-interval 60 "$@" 2> "$tmp/$name.err" &
    godo_pid=$!
    for _ in $(seq 100); do
        [ "$(auditctl -l | grep -c "pid!=$godo_pid .*key=dockwatch")" -ge 14 ] && { sleep 2; return; }
        kill -0 "$godo_pid" 2> /dev/null || { cat "$tmp/$name.err" >&2; die "godo exited"; }
        sleep 0.1
    done
    die "godo did not install its rules"
}
stop_godo() { # NAME -> sets exit_line (godo's summary line)
    kill -TERM "$godo_pid"
    wait "$godo_pid" || { cat "$tmp/$1.err" >&2; die "godo failed"; }
    godo_pid=
    exit_line=$(grep 'at exit' "$tmp/$1.err") || { cat "$tmp/$1.err" >&2; die "no exit line from godo"; }
}
exit_field() { # LINE REGEX-BEFORE-NUMBER
    sed -E "s/.*[^0-9]([0-9]+) $2.*/\1/" <<< "$1"
}

# The fixed workload of the CPU comparison: three busybox containers at once, each looping 400
# times over a write by redirection, a rename, a read, a deletion and a listing (forks of
# busybox applets, execs, opens, writes, closes, renames, unlinks).
workload='for i in $(seq 400); do echo "line $i" > /tmp/f; mv /tmp/f /tmp/g; cat /tmp/g > /dev/null; rm /tmp/g; ls /tmp > /dev/null; done'
pairs=${DOCKWATCH_BENCH_PAIRS:-3}

# One run: auditd as the audit daemon writing FORMAT (RAW or ENRICHED), godo --multicast --write
# beside it with its rule set installed, so both take the same records for the same rules; the
# workload; each program's CPU (utime + stime) over the workload and a drain. Prints one line:
# FORMAT godo_cpu_s auditd_cpu_s ratio events load.
cpu_run() {
    local format=$1 n=$2
    rm -rf "$tmp/auditd"
    mkdir -p "$tmp/auditd" "$tmp/plugins"
    sed -e "s#^log_file = .*#log_file = $tmp/auditd/audit.log#" \
        -e "s#^log_format = .*#log_format = $format#" \
        -e 's#^max_log_file_action = .*#max_log_file_action = IGNORE#' \
        -e 's#^max_log_file = .*#max_log_file = 100000#' \
        -e 's#^space_left_action = .*#space_left_action = IGNORE#' \
        -e 's#^admin_space_left_action = .*#admin_space_left_action = IGNORE#' \
        -e 's#^disk_full_action = .*#disk_full_action = IGNORE#' \
        -e "s#^plugin_dir = .*#plugin_dir = $tmp/plugins#" /etc/audit/auditd.conf > "$tmp/auditd/auditd.conf"
    grep -q "^log_format = $format" "$tmp/auditd/auditd.conf" || die "could not set log_format $format"
    chmod 600 "$tmp/auditd/auditd.conf"
    # Neither program may stall the workload: the kernel settings godo sets as the daemon.
    auditctl -b 65536 --backlog_wait_time 0 > /dev/null
    auditd -n -c "$tmp/auditd" 2> "$tmp/auditd.err" &
    auditd_pid=$!
    for _ in $(seq 100); do
        [ "$(status pid)" = "$auditd_pid" ] && break
        sleep 0.1
    done
    [ "$(status pid)" = "$auditd_pid" ] || { cat "$tmp/auditd.err" >&2; die "auditd did not start"; }
    start_godo "cpu-$n" --multicast
    local g0 a0 g1 a1 t0 t1 l0 lost0
    lost0=$(status lost)
    l0=$(cut -d' ' -f1 /proc/loadavg)
    g0=$(cpu_ticks "$godo_pid")
    a0=$(cpu_ticks "$auditd_pid")
    t0=$(now)
    for c in 1 2 3; do
        docker run --rm --network none "$image" sh -c "$workload" &
    done
    wait $(jobs -p | grep -v -e "^$godo_pid\$" -e "^$auditd_pid\$") 2> /dev/null || true
    # godo flushes coalesced writes every 2 s and holds a fork until its clone call: a drain.
    sleep 4
    t1=$(now)
    g1=$(cpu_ticks "$godo_pid")
    a1=$(cpu_ticks "$auditd_pid")
    stop_godo "cpu-$n"
    kill -TERM "$auditd_pid"
    wait "$auditd_pid" || true
    auditd_pid=
    local events
    events=$(grep -o 'msg=audit([0-9.]*:[0-9]*)' "$tmp/auditd/audit.log" | sort -u |
        awk -F'[(:]' -v a="$t0" -v b="$t1" '$2 + 0 >= a && $2 + 0 <= b' | wc -l)
    awk -v f="$format" -v g=$((g1 - g0)) -v a=$((a1 - a0)) -v e="$events" -v hz="$clk" -v l="$l0" \
        -v k=$(($(status lost) - lost0)) 'BEGIN {
        printf "%-8s %8.2f %8.2f %6.2f %8d %6d %5s\n", f, g / hz, a / hz, (a > 0 ? g / a : 0), e, k, l }'
}

bench_cpu() {
    echo "== cpu: the same workload (3 busybox containers x 400 rounds of echo > file, mv, cat, rm, ls)"
    echo "   auditd (Debian's auditd.conf, the log format below) as the audit daemon and"
    echo "   godo --multicast --write beside it with its rule set, in one run; $pairs pairs per format,"
    echo "   RAW and ENRICHED runs alternating; CPU = utime + stime over the workload and a 4 s drain"
    printf '%-8s %8s %8s %6s %8s %6s %5s\n' format godo_s auditd_s ratio events klost load
    local n=0 rows=""
    for i in $(seq "$pairs"); do
        for format in RAW ENRICHED; do
            n=$((n + 1))
            row=$(cpu_run "$format" "$n")
            echo "$row"
            rows+="$row"$'\n'
        done
    done
    for format in RAW ENRICHED; do
        printf '%s' "$rows" | awk -v f="$format" '$1 == f { print $4 }' | sort -n | awk -v f="$format" '
            { r[NR] = $1 } END {
            m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
            printf "median godo / auditd %s over %d runs: %.2f\n", f, NR, m }'
    done
}

bench_rate() {
    echo "== rate: godo as the audit daemon (kernel backlog 65536, wait time 0), ${step_secs} s steps"
    echo "   writes/s: the container's audited one-byte writes / wall time of the step (a floor);"
    echo "   events/s: every kernel event godo received / its whole run (start-up and drain included)"
    printf '%-9s %9s %9s %9s %7s %7s %5s %5s %-8s %9s  %s\n' \
        step writes/s events events/s missing klost ovfl gapev verdict cpu_us/ev 'load average'
    local loops chunk name
    for spec in ${DOCKWATCH_BENCH_STEPS:-1:300 1:1000 1:2000 2:2000 2:5000 1:100000 2:100000}; do
        loops=${spec%%:*}
        chunk=${spec##*:}
        name=rate-$loops-$chunk
        local lost0 l0 c0 ts t0 tw te c1 line dds
        ts=$(now)
        start_godo "$name"
        lost0=$(status lost)
        l0=$(load)
        c0=$(cpu_ticks "$godo_pid")
        t0=$(now)
        # Each loop prints how many dd runs it made; each run is CHUNK audited writes.
        dds=$(docker run --rm --network none "$image" sh -c "
            end=\$((\$(date +%s) + $step_secs))
            for l in \$(seq $loops); do
                (n=0; while [ \$(date +%s) -lt \$end ]; do
                    dd if=/dev/zero of=/tmp/w\$l bs=1 count=$chunk 2> /dev/null; n=\$((n+1)); usleep 10000
                done; echo \$n) &
            done
            wait" | awk '{ n += $1 } END { print n + 0 }')
        tw=$(now)
        sleep 3
        c1=$(cpu_ticks "$godo_pid")
        stop_godo "$name"
        te=$(now)
        line=$exit_line
        local events missing klost ovfl gapev
        events=$(exit_field "$line" 'kernel events')
        missing=$(exit_field "$line" 'serials missing')
        klost=$(($(status lost) - lost0))
        ovfl=$(exit_field "$line" '\(socket overflows\)')
        gapev=$(grep -c '"kind":"gap"' "$tmp/$name.jsonl" || true)
        awk -v s="${loops}x$chunk" -v w=$((dds * chunk)) -v e="$events" -v m="$missing" -v k="$klost" \
            -v o="$ovfl" -v g="$gapev" -v c=$((c1 - c0)) -v hz="$clk" -v ts="$ts" -v a="$t0" -v b="$tw" \
            -v te="$te" -v l="$l0" 'BEGIN {
            printf "%-9s %9.0f %9d %9.0f %7d %7d %5d %5d %-8s %9.2f  %s\n", s, w / (b - a), e, e / (te - ts),
                m, k, o, g, (m + k + o + g == 0 ? "lossless" : "LOSS"), c / hz / (e > 0 ? e : 1) * 1e6, l }'
        if [ "$gapev" -gt 0 ]; then
            grep '"kind":"gap"' "$tmp/$name.jsonl" | jq -r '"          gap \(.source) \(.reason) lost=\(.lost) \(.detail)"' |
                sort | uniq -c | head -5
        fi
    done
}

case $mode in
cpu) bench_cpu ;;
rate) bench_rate ;;
all) bench_cpu; bench_rate ;;
*) die "mode is cpu, rate or all" ;;
esac
