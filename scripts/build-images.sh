#!/usr/bin/env bash
# Build the local systemd-capable Debian base images used by Molecule:
#   hardened-tls/debian:bookworm   hardened-tls/debian:trixie
# Each image is built with mmdebstrap and `docker import`ed, only when it is
# missing (or was built from a different recipe: see the recipe label below).
# Usage: scripts/build-images.sh [suite ...]     (default: bookworm trixie)
set -euo pipefail

REPO="${HARDENED_TLS_IMAGE_REPO:-hardened-tls/debian}"
MIRROR="${HARDENED_TLS_MIRROR:-http://deb.debian.org/debian}"
# Extra packages to bake in (space separated), e.g. "nginx haproxy apache2".
EXTRA_PACKAGES="${HARDENED_TLS_EXTRA_PACKAGES:-}"
PACKAGES="python3,systemd,systemd-sysv,dbus,openssl,ca-certificates,iproute2,procps,python3-apt,sudo"
if [ -n "$EXTRA_PACKAGES" ]; then
    PACKAGES="$PACKAGES,$(echo "$EXTRA_PACKAGES" | tr -s ' ' ',')"
fi
# Units that are useless or slow/failing in a container: no consoles, no udev,
# no kernel/hardware mounts, no first-boot wizard, no time sync.
MASK_UNITS=(
    getty@tty1.service getty.target console-getty.service serial-getty@.service
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
    systemd-udev-trigger.service systemd-udev-settle.service
    sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
    sys-fs-fuse-connections.mount dev-hugepages.mount dev-mqueue.mount
    systemd-remount-fs.service systemd-firstboot.service systemd-modules-load.service
    systemd-timesyncd.service systemd-networkd-wait-online.service
    systemd-journald-audit.socket apt-daily.timer apt-daily-upgrade.timer
    e2scrub_all.timer fstrim.timer
)
RECIPE_VERSION=1
# The recipe label changes whenever the package list, the masks or the script
# version change, so a stale image is rebuilt instead of silently reused.
RECIPE="$(printf '%s|%s|%s|%s' "$RECIPE_VERSION" "$PACKAGES" "${MASK_UNITS[*]}" "$MIRROR" | sha256sum | cut -c1-16)"

log() { printf '[build-images] %s\n' "$*"; }

if ! command -v mmdebstrap >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    log "installing mmdebstrap"
    apt-get update -q
    apt-get install -y -q --no-install-recommends mmdebstrap
fi

build() {
    local suite="$1" tag="$REPO:$1" have start
    have="$(docker image inspect --format '{{ index .Config.Labels "org.hardened-tls.recipe" }}' "$tag" 2>/dev/null || true)"
    if [ "$have" = "$RECIPE" ]; then
        log "$tag is present (recipe $RECIPE); skipping"
        return 0
    fi
    if [ -n "$have" ]; then
        log "$tag was built from recipe $have, want $RECIPE; rebuilding"
    fi
    log "building $tag from $MIRROR ($suite, minbase) ..."
    start=$(date +%s)
    # path-exclude keeps docs, man pages and translations out (small images).
    # The customize hooks mask units that do not belong in a container and
    # leave an empty machine-id so systemd creates one on first boot.
    # The hooks are run by mmdebstrap, which passes the chroot path as $1:
    # shellcheck disable=SC2016
    mmdebstrap --variant=minbase --mode=root --format=tar \
        --include="$PACKAGES" \
        --skip=cleanup/apt/lists \
        --aptopt='APT::Install-Recommends "false"' \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --customize-hook='for u in '"${MASK_UNITS[*]}"'; do ln -sf /dev/null "$1/etc/systemd/system/$u"; done' \
        --customize-hook='rm -f "$1/etc/machine-id" "$1/var/lib/dbus/machine-id"; : > "$1/etc/machine-id"' \
        --customize-hook='printf "%s\n" "hardened-tls test image ('"$suite"')" > "$1/etc/hardened-tls-image"' \
        "$suite" - "$MIRROR" \
        | docker import \
            --change 'CMD ["/sbin/init"]' \
            --change 'ENV container=docker' \
            --change "LABEL org.hardened-tls.recipe=$RECIPE" \
            --change "LABEL org.hardened-tls.suite=$suite" \
            - "$tag" >/dev/null
    log "built $tag in $(( $(date +%s) - start ))s ($(docker image inspect --format '{{ .Size }}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

suites=("$@")
if [ "${#suites[@]}" -eq 0 ]; then
    suites=(bookworm trixie)
fi
for s in "${suites[@]}"; do
    build "$s"
done
