#!/usr/bin/env bash
# Run the Molecule scenarios in lanes: the scenarios of one lane one after the
# other, the lanes side by side. Most of a scenario's time is spent waiting for
# rotation periods and apt inside the containers, so three lanes on two cores
# take about the time of the longest lane instead of the sum.
#
#   scripts/molecule-lanes.sh SCENARIO[@CORE]...
#
# SCENARIO@CORE (nginx@2.16) runs the scenario with the ansible-core of
# .venv-core<CORE> (scripts/matrix.sh makes it) first on PATH: molecule,
# ansible-playbook and the docker driver of that version. It runs in the lane
# of SCENARIO, after it (a scenario's containers have fixed names).
#
# MOLECULE_LANES=3 (default): lane 1 hardening, keystore, nginx; lane 2
# lighttpd, apache, haproxy; lane 3 fleet and monitoring (about the same time
# each, measured). MOLECULE_LANES=1 runs everything in one lane, 2 folds lane 3
# into lane 1. Each output line is prefixed with its scenario name. A failed
# scenario does not stop its lane: the next ones run too, so the summary gives
# every scenario's result, and the script exits 1 when any failed.
set -u
cd "$(dirname "$0")/.." || exit 1

lanes=${MOLECULE_LANES:-3}
logdir=${MOLECULE_LANE_LOGS:-$(mktemp -d)}
mkdir -p "$logdir"

lane_of() {
    local pref
    case ${1%%@*} in
        hardening | keystore | nginx) pref=1 ;;
        lighttpd | apache | haproxy) pref=2 ;;
        fleet | monitoring) pref=3 ;;
        *) pref=1 ;;
    esac
    echo $(( (pref - 1) % lanes + 1 ))
}

declare -A lane_list
for s in "$@"; do
    l=$(lane_of "$s")
    lane_list[$l]="${lane_list[$l]:-} $s"
done

run_lane() {
    local name=$1
    shift
    local s base core start rc status=0 path
    for s in "$@"; do
        base=${s%%@*}
        core=
        [ "$s" != "$base" ] && core=${s#*@}
        path=$PATH
        if [ -n "$core" ]; then
            if ! scripts/matrix.sh --venv "$core"; then
                echo "==> [$name] molecule scenario $s FAILED (no virtualenv for ansible-core $core)"
                echo "$s 0" >> "$logdir/failed"
                status=1
                continue
            fi
            path=$PWD/.venv-core$core/bin:$PATH
        fi
        echo "==> [$name] molecule test -s $base (ansible-core $(PATH=$path ansible --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p'))"
        start=$(date +%s)
        PATH=$path molecule test -s "$base" 2>&1 | sed -u "s/^/[$s] /"
        rc=${PIPESTATUS[0]}
        if [ "$rc" -ne 0 ]; then
            echo "==> [$name] molecule scenario $s FAILED (rc $rc) after $(( $(date +%s) - start ))s"
            echo "$s $(( $(date +%s) - start ))" >> "$logdir/failed"
            # Its containers may still be up: the next scenario starts on a clean machine.
            PATH=$path molecule destroy -s "$base" >/dev/null 2>&1 || true
            status=1
            continue
        fi
        echo "==> [$name] molecule scenario $s passed in $(( $(date +%s) - start ))s"
        echo "$s $(( $(date +%s) - start ))" >> "$logdir/passed"
    done
    return $status
}

t0=$(date +%s)
pids=()
counts=()
for l in $(seq 1 "$lanes"); do
    [ -n "${lane_list[$l]:-}" ] || continue
    # shellcheck disable=SC2086  # the lane's list is words
    set -- ${lane_list[$l]}
    counts+=("$#")
    run_lane "lane$l" "$@" &
    pids+=($!)
    # A few seconds apart, so the lanes' container creations do not start at once.
    sleep 5
done
status=0
for p in "${pids[@]}"; do
    wait "$p" || status=1
done

echo "==> molecule: $(( $(date +%s) - t0 ))s for $(IFS=+; echo "${counts[*]}") scenarios in ${lanes} lane(s)"
[ -f "$logdir/passed" ] && sed 's/^/    passed: /; s/$/s/' "$logdir/passed"
if [ -f "$logdir/failed" ]; then
    sed 's/^/    FAILED: /; s/$/s/' "$logdir/failed"
    status=1
fi
passed=0
failed=0
[ -f "$logdir/passed" ] && passed=$(wc -l < "$logdir/passed")
[ -f "$logdir/failed" ] && failed=$(wc -l < "$logdir/failed")
echo "scenarios: $passed passed, $failed failed"
exit $status
