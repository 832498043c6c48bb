#!/usr/bin/env bash
# Make sure a usable Docker daemon and the project's docker network exist.
# Idempotent: installs docker.io with apt only when dockerd is missing, starts
# dockerd in the background only when `docker info` fails, creates the
# `hardened-tls` network only when it is missing.
set -euo pipefail

NETWORK="${HARDENED_TLS_NETWORK:-hardened-tls}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/hardened-tls-dockerd.log}"
APT_UPDATED=0

log() { printf '[ensure-docker] %s\n' "$*"; }

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        apt-get update -q
        APT_UPDATED=1
    fi
    log "apt-get install $*"
    apt-get install -y -q --no-install-recommends "$@"
}

if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
    log "warning: not root; installing packages or starting dockerd may fail"
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    apt_install docker.io
fi
# mmdebstrap is needed by build-images.sh; install it here too so `make images`
# has everything after this script.
if ! command -v mmdebstrap >/dev/null 2>&1; then
    apt_install mmdebstrap
fi

if ! docker info >/dev/null 2>&1; then
    log "docker daemon not reachable; starting dockerd (log: $DOCKERD_LOG)"
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # setsid: the daemon outlives the shell (and process group) that started it.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    for i in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            break
        fi
        if [ "$i" -eq 60 ]; then
            log "dockerd did not come up within 60s; last log lines:"
            tail -n 30 "$DOCKERD_LOG" >&2 || true
            exit 1
        fi
        sleep 1
    done
    log "dockerd is up"
else
    log "docker daemon already running"
fi

if ! docker network inspect "$NETWORK" >/dev/null 2>&1; then
    log "creating docker network $NETWORK"
    docker network create "$NETWORK" >/dev/null
else
    log "docker network $NETWORK exists"
fi
