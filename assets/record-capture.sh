#!/usr/bin/env bash
# Records a small real capture with `godo --write` on this Docker host while busybox containers
# run the pipeline's scenario, then stops godo. The result is what the pipeline tests on real
# captures read (assets/captures/).
#
#   sudo assets/record-capture.sh OUT.jsonl.zst [GODO]
#
# Needs root, a running dockerd and the local image dockwatch-busybox:latest (or set
# DOCKWATCH_IMAGE). GODO defaults to target/debug/godo. Holds /tmp/dockwatch-audit.lock while
# godo is the audit daemon, so it never runs beside another audit user on this machine.
#
# Scenario (what the tests assert):
#   dw-writer  cd /work; echo > out.txt (relative path under the cwd, written through a dup'd
#              stdout); >> append; mv to result.txt; chmod 600; touch + rm a file
#   dw-sleeper runs in the background; `docker exec` into it writes /tmp/from-exec (a process of
#              the container that did not pivot_root); then it is removed
#   dw-loop    a loop of child shells writing /tmp/n1../tmp/n3
set -euo pipefail

out=${1:?usage: record-capture.sh OUT.jsonl.zst [GODO]}
godo=${2:-target/debug/godo}
image=${DOCKWATCH_IMAGE:-dockwatch-busybox:latest}

if [[ $(id -u) != 0 ]]; then
    echo "record-capture.sh: run as root (godo needs kernel audit and the process connector)" >&2
    exit 1
fi
if [[ ! -x $godo ]]; then
    echo "record-capture.sh: no godo at $godo: build it (cargo build -p dockwatch-listener) or pass its path" >&2
    exit 1
fi
docker image inspect "$image" >/dev/null 2>&1 || {
    echo "record-capture.sh: image $image is missing (.ci/run builds it from busybox-static; see its "image" step)" >&2
    exit 1
}

exec 9>/tmp/dockwatch-audit.lock
flock 9

rm -f "$out"
"$godo" --write "$out" &
godo_pid=$!
stop_godo() {
    if kill -0 "$godo_pid" 2>/dev/null; then
        kill -INT "$godo_pid"
        wait "$godo_pid" || true
    fi
    docker rm -f dw-writer dw-sleeper dw-loop >/dev/null 2>&1 || true
}
trap stop_godo EXIT

# Wait for the start-up snapshot to reach the file (godo is listening by then).
for _ in $(seq 1 100); do
    [[ -s $out ]] && break
    kill -0 "$godo_pid" 2>/dev/null || { echo "record-capture.sh: godo exited early" >&2; exit 1; }
    sleep 0.2
done
[[ -s $out ]] || { echo "record-capture.sh: godo wrote nothing within 20 s" >&2; exit 1; }
sleep 1

docker run --rm --network none --name dw-writer "$image" /bin/sh -c \
    'mkdir -p /work && cd /work && echo hello > out.txt && echo more >> out.txt && mv out.txt result.txt && chmod 600 result.txt && touch gone && rm gone'

docker run -d --network none --name dw-sleeper "$image" /bin/sh -c \
    'echo started > /tmp/started; sleep 30' >/dev/null
sleep 1
docker exec dw-sleeper /bin/sh -c 'echo exec > /tmp/from-exec'
docker rm -f dw-sleeper >/dev/null

docker run --rm --network none --name dw-loop "$image" /bin/sh -c \
    'for i in 1 2 3; do /bin/sh -c "echo $i > /tmp/n$i"; done'

sleep 2
stop_godo
trap - EXIT
echo "record-capture.sh: wrote $out ($(stat -c %s "$out") bytes)"
