#!/usr/bin/env bash
# `make demo` / `make demo-down`: a small site in containers on the docker network
# hardened-tls, configured by playbooks/site.yml (through playbooks/demo.yml) and
# audited by playbooks/audit.yml.
#
#   scripts/demo.sh up      start (or reuse) the containers, converge, audit, print the report
#   scripts/demo.sh down    remove the containers
#
# Hosts: demo-nginx1, demo-nginx2 (one ring shared in fleet mode once it exists),
# demo-lb (HAProxy, TCP round-robin over the nginx nodes), demo-apache and
# demo-haproxy (once their roles exist). Ports are published on 127.0.0.1 only:
# 18443 balancer, 18444 nginx1, 18445 nginx2, 18446 apache, 18447 haproxy
# (DEMO_PORT_BASE moves them). The audit probes them from the controller,
# DEMO_PROBES (5) times each. demo-nginx1/2 also serve admin.demo.test
# (demo/second_name.yml) for the audit's cross-name check.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
NETWORK="${HARDENED_TLS_NETWORK:-hardened-tls}"
IMAGE_REPO="${DEMO_IMAGE_REPO:-hardened-tls/demo}"
SUITE="${DEMO_SUITE:-trixie}"
IMAGE="$IMAGE_REPO:$SUITE"
PORT_BASE="${DEMO_PORT_BASE:-18443}"
WATCH_SECONDS="${DEMO_WATCH_SECONDS:-35}"
PROBES="${DEMO_PROBES:-5}"
START=$(date +%s)

log() { printf '[demo %4ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }

# name:port-offset:needs (the group site.yml must have a play for, or - for none)
ALL_HOSTS=(
    "demo-lb:0:-"
    "demo-nginx1:1:tls_fleet_nginx"
    "demo-nginx2:2:tls_fleet_nginx"
    "demo-apache:3:tls_apache"
    "demo-haproxy:4:tls_haproxy"
)

# A host is started once playbooks/site.yml has a play for its group.
role_ready() {
    local group="$1"
    [ "$group" = "-" ] && return 0
    grep -Eq "^ *hosts: *([^ ]*[:,])?$group([:,]|\$)" playbooks/site.yml
}

down() {
    local h name
    for h in "${ALL_HOSTS[@]}"; do
        name="${h%%:*}"
        if docker container inspect "$name" >/dev/null 2>&1; then
            log "removing $name"
            docker rm -f "$name" >/dev/null
        fi
    done
    rm -f demo/report.json demo/report.md demo/report.txt demo/report.prom
    log "demo removed"
}

up() {
    local h name offset needs hosts=() skipped=()
    log "checking docker and the $NETWORK network"
    scripts/ensure-docker.sh | sed 's/^/    /'
    log "making sure the demo image $IMAGE exists (nginx, apache2, haproxy baked in)"
    HARDENED_TLS_IMAGE_REPO="$IMAGE_REPO" HARDENED_TLS_EXTRA_PACKAGES="nginx apache2 haproxy python3-cryptography" \
        scripts/build-images.sh "$SUITE" | sed 's/^/    /'

    for h in "${ALL_HOSTS[@]}"; do
        IFS=: read -r name offset needs <<<"$h"
        if ! role_ready "$needs"; then
            skipped+=("$name")
            continue
        fi
        hosts+=("$name")
        if [ "$(docker container inspect -f '{{.State.Running}}' "$name" 2>/dev/null || true)" = "true" ]; then
            log "$name is running (127.0.0.1:$((PORT_BASE + offset)))"
            continue
        fi
        docker rm -f "$name" >/dev/null 2>&1 || true
        log "starting $name on $NETWORK, port 127.0.0.1:$((PORT_BASE + offset)) -> 443"
        docker run -d --name "$name" --hostname "$name" --network "$NETWORK" \
            --label org.hardened-tls.demo=1 \
            --cap-add SYS_ADMIN --security-opt seccomp=unconfined --cgroupns host \
            -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
            -p "127.0.0.1:$((PORT_BASE + offset)):443" \
            "$IMAGE" /sbin/init >/dev/null
    done
    if [ "${#skipped[@]}" -gt 0 ]; then
        log "not started (their roles are not built yet): ${skipped[*]}"
    fi
    # Ansible must not start before systemd has finished booting (its tmpfiles
    # setup cleans /tmp, where modules run).
    local state
    for name in "${hosts[@]}"; do
        for _ in $(seq 1 90); do
            state="$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)"
            case "$state" in running|degraded) break ;; esac
            sleep 1
        done
        log "$name booted ($state)"
    done

    local limit hosts_json
    limit="$(IFS=,; echo "${hosts[*]}")"
    hosts_json="$(printf '"%s",' "${hosts[@]}")"
    hosts_json="{\"demo_hosts\": [${hosts_json%,}], \"demo_port_base\": $PORT_BASE}"
    export ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_FORKS=10
    export ANSIBLE_PIPELINING=True ANSIBLE_COLLECTIONS_PATH="$ROOT/.build"

    log "applying playbooks/site.yml (through playbooks/demo.yml) to ${hosts[*]}"
    local t0
    t0=$(date +%s)
    ansible-playbook -i demo/inventory.yml playbooks/demo.yml demo/second_name.yml --limit "$limit" -e "$hosts_json"
    log "site converged in $(( $(date +%s) - t0 ))s"

    local audit_hosts=()
    for name in "${hosts[@]}"; do
        [ "$name" = demo-lb ] || audit_hosts+=("$name")
    done
    log "auditing with playbooks/audit.yml (watching key names for ${WATCH_SECONDS}s)"
    t0=$(date +%s)
    ansible-playbook -i demo/inventory.yml playbooks/audit.yml -e "$hosts_json" \
        -e "audit_hosts=$(IFS=,; echo "${audit_hosts[*]}")" \
        -e "audit_watch_seconds=$WATCH_SECONDS" \
        -e "audit_report_json=$ROOT/demo/report.json" \
        -e "audit_report_markdown=$ROOT/demo/report.md" \
        -e "audit_report_text=$ROOT/demo/report.txt" \
        -e "audit_prometheus_file=$ROOT/demo/report.prom" \
        -e "audit_probes=$PROBES"
    log "audit done in $(( $(date +%s) - t0 ))s"

    echo
    echo "================ TLS session resumption of the demo site ================"
    cat demo/report.txt
    echo "========================================================================="
    echo "Same report: demo/report.json, demo/report.md; metrics: demo/report.prom. Tear down: make demo-down"
    if [ -x .build/tools/promtool ]; then
        log "promtool check metrics demo/report.prom"
        .build/tools/promtool check metrics <demo/report.prom
    fi
    if [ "${#skipped[@]}" -gt 0 ]; then
        echo "Not in this demo yet (role not built): ${skipped[*]}"
    fi
    log "make demo finished"
}

case "${1:-up}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
