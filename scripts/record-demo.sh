#!/bin/sh
# Records the demo capture that `dockwatch-tui --demo` opens (assets/demo.jsonl.zst) with the real
# godo on a real Docker host. Needs root, a running dockerd and the local image
# dockwatch-busybox:latest (see the README). Holds /tmp/dockwatch-audit.lock while godo is the
# audit daemon; godo restores the audit settings when it stops (SIGTERM).
#
# Scenario: three containers; a shell pipeline; file writes; a rename; a deletion; a process that
# outlives its parent; a failing command; a long-running web-like writer.
#
#   usage: scripts/record-demo.sh [OUT]      (default assets/demo.jsonl.zst)
set -eu
cd "$(dirname "$0")/.."
out=${1:-assets/demo.jsonl.zst}
image=dockwatch-busybox:latest
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build -q -p dockwatch-listener --bin godo
godo=target/debug/godo

exec 9>/tmp/dockwatch-audit.lock
flock 9

"$godo" --write "$tmp/demo.jsonl.zst" -v 2>"$tmp/godo.log" &
godo_pid=$!
# Wait for the start-up snapshot (dockerd and containerd are in it, so the tree has its roots).
i=0
until grep -q "start-up snapshot taken" "$tmp/godo.log"; do
    i=$((i + 1))
    if [ $i -gt 600 ] || ! kill -0 "$godo_pid" 2>/dev/null; then
        cat "$tmp/godo.log" >&2
        echo "godo did not start" >&2
        exit 1
    fi
    sleep 0.1
done

# 1. A web-like container that writes its page and a log for a while.
docker run -d --name dw-demo-web --network none "$image" /bin/sh -c '
    mkdir -p /www; echo "<h1>hello</h1>" > /www/index.html
    i=0; while [ $i -lt 6 ]; do echo "GET / 200 $i" >> /var/log/access.log; i=$((i+1)); sleep 1; done' >/dev/null

# 2. A batch job: pipeline, rename, deletion, an orphan that outlives its parent, a failure.
docker run --name dw-demo-job --network none "$image" /bin/sh -c '
    mkdir -p /out
    printf "root:x:0:0:root:/root:/bin/sh\nbin:x:1:1:bin:/bin:/bin/false\n" > /etc/passwd
    cat /etc/passwd | grep root | tr : " " > /out/root.txt
    mv /out/root.txt /out/report.txt
    echo scratch > /tmp/scratch; rm /tmp/scratch
    sh -c "(sleep 1; echo late > /out/late.txt) & exit 0"
    ls /no/such/dir
    sleep 2; exit 3' || true

# 3. A one-shot container.
docker run --rm --name dw-demo-hello --network none "$image" /bin/sh -c 'echo hello > /tmp/hello; cat /tmp/hello' >/dev/null

docker wait dw-demo-web >/dev/null
docker rm -f dw-demo-web dw-demo-job >/dev/null
# Let coalesced writes and unfinished audit events flush, then stop godo (it restores audit).
sleep 4
kill -TERM "$godo_pid"
wait "$godo_pid"
flock -u 9

cp "$tmp/demo.jsonl.zst" "$out"
echo "recorded $(zstd -dc "$out" | wc -l) events into $out"
