#!/usr/bin/env bash
# Make sure .build/tools/promtool exists (make rules-test): Debian's promtool,
# taken out of the `prometheus` package without installing it (installing it
# would start a Prometheus daemon on this host). Idempotent: when the binary is
# there and runs, this only prints its version.
set -euo pipefail

cd "$(dirname "$0")/.."
TOOLS="$PWD/.build/tools"
PROMTOOL="$TOOLS/promtool"

log() { printf '[ensure-promtool] %s\n' "$*"; }

if [ ! -x "$PROMTOOL" ] || ! "$PROMTOOL" --version >/dev/null 2>&1; then
    WORK="$(mktemp -d /tmp/hardened-tls-promtool.XXXXXX)"
    trap 'rm -rf "$WORK"' EXIT
    # apt-get download fetches as user _apt when it can write the directory
    # (else it warns and fetches as root).
    if id _apt >/dev/null 2>&1; then chown _apt "$WORK"; fi
    log "apt-get download prometheus"
    if ! (cd "$WORK" && apt-get download -q prometheus); then
        log "download failed: apt-get update, then again"
        apt-get update -q
        (cd "$WORK" && apt-get download -q prometheus)
    fi
    deb="$(ls "$WORK"/prometheus_*.deb)"
    log "extracting usr/bin/promtool from $(basename "$deb")"
    dpkg-deb -x "$deb" "$WORK/root"
    mkdir -p "$TOOLS"
    install -m 0755 "$WORK/root/usr/bin/promtool" "$PROMTOOL.tmp"
    mv -f "$PROMTOOL.tmp" "$PROMTOOL"
fi
log "$PROMTOOL: $("$PROMTOOL" --version 2>&1 | head -n 1)"
