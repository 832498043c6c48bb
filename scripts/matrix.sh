#!/usr/bin/env bash
# The ansible-core version matrix of `make test`: for each version, its own
# pinned virtualenv (.venv-core<version>, from requirements-core-<version>.txt,
# rebuilt only when that file changes), the unit tests and ansible-test sanity
# (empty ignore files). ansible-core 2.19 is .venv itself (`make unit sanity`).
#
#   scripts/matrix.sh [VERSION...]       default: 2.16 2.17 2.18
#   scripts/matrix.sh --venv VERSION     only make the virtualenv (the Molecule lanes use .venv-core2.16)
#
# Prints one line per version with the seconds each step took, and exits 1
# when any step failed (the other versions still run).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$PWD

make_venv() {
    local v=$1 venv=$root/.venv-core$1 req=$root/requirements-core-$1.txt
    if [ ! -f "$req" ]; then
        echo "ERROR: no $req for ansible-core $v"
        return 1
    fi
    if [ -f "$venv/.requirements.stamp" ] && [ "$venv/.requirements.stamp" -nt "$req" ]; then
        return 0
    fi
    echo "==> [core $v] creating $venv from $(basename "$req")"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv" || return 1
    "$venv/bin/python" -m pip install -q --upgrade pip && \
        "$venv/bin/python" -m pip install -q -r "$req" && \
        touch "$venv/.requirements.stamp"
}

if [ "${1:-}" = --venv ]; then
    make_venv "$2"
    exit
fi

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(2.16 2.17 2.18)
status=0
summary=()
for v in "${versions[@]}"; do
    venv=$root/.venv-core$v
    t0=$(date +%s)
    if ! make_venv "$v"; then
        summary+=("ansible-core $v: virtualenv FAILED")
        status=1
        continue
    fi
    t1=$(date +%s)
    echo "==> [core $v] unit tests ($("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)'))"
    if PYTHONPATH=$root/.build "$venv/bin/python" -m pytest -p no:cacheprovider -q tests/unit; then unit=passed; else unit=FAILED; status=1; fi
    t2=$(date +%s)
    if scripts/sanity.sh "$venv" "$root/.build/sanity-core$v"; then sanity=passed; else sanity=FAILED; status=1; fi
    t3=$(date +%s)
    summary+=("ansible-core $v: venv $((t1 - t0))s, unit $unit in $((t2 - t1))s, sanity $sanity in $((t3 - t2))s")
done
echo "==> version matrix:"
printf '    %s\n' "${summary[@]}"
exit $status
