#!/usr/bin/env bash
# Run the Molecule scenarios in lanes: the scenarios of one lane one after the
# other, the lanes side by side. Most of a scenario's time is spent waiting for
# rotation periods and apt inside the containers, so two lanes on two cores
# take about the time of the longer lane instead of the sum.
#
#   scripts/molecule-lanes.sh SCENARIO...
#
# MOLECULE_LANES=1 runs everything in one lane (one scenario at a time).
# Lane 2 takes fleet, hardening and lighttpd when there are two lanes (lane 1
# has the other four, about the same time);
# every other scenario goes to lane 1. Each output line is prefixed with its
# scenario name. A failed scenario does not stop its lane: the next ones run
# too, so the summary gives every scenario's result, and the script exits 1
# when any failed.
set -u

lanes=${MOLECULE_LANES:-2}
logdir=${MOLECULE_LANE_LOGS:-$(mktemp -d)}
mkdir -p "$logdir"

lane1=()
lane2=()
for s in "$@"; do
    if [ "$lanes" -ge 2 ] && { [ "$s" = fleet ] || [ "$s" = hardening ] || [ "$s" = lighttpd ]; }; then
        lane2+=("$s")
    else
        lane1+=("$s")
    fi
done

run_lane() {
    local name=$1
    shift
    local s start rc status=0
    for s in "$@"; do
        echo "==> [$name] molecule test -s $s"
        start=$(date +%s)
        molecule test -s "$s" 2>&1 | sed -u "s/^/[$s] /"
        rc=${PIPESTATUS[0]}
        if [ "$rc" -ne 0 ]; then
            echo "==> [$name] molecule scenario $s FAILED (rc $rc) after $(( $(date +%s) - start ))s"
            echo "$s $(( $(date +%s) - start ))" >> "$logdir/failed"
            # Its containers may still be up: the next scenario starts on a clean machine.
            molecule destroy -s "$s" >/dev/null 2>&1 || true
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
if [ "${#lane1[@]}" -gt 0 ]; then
    run_lane lane1 "${lane1[@]}" &
    pids+=($!)
fi
if [ "${#lane2[@]}" -gt 0 ]; then
    # A few seconds apart, so the two lanes' container creations do not start at once.
    sleep 5
    run_lane lane2 "${lane2[@]}" &
    pids+=($!)
fi
status=0
for p in "${pids[@]}"; do
    wait "$p" || status=1
done

echo "==> molecule: $(( $(date +%s) - t0 ))s for ${#lane1[@]} + ${#lane2[@]} scenarios in ${lanes} lane(s)"
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
