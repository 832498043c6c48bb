#!/usr/bin/env bash
# ansible-test sanity on a copy of the collection, with the ansible-test of one
# virtualenv:
#
#   scripts/sanity.sh VENV COPY_ROOT [ansible-test sanity arguments...]
#
# VENV is .venv (ansible-core 2.19) or one of the matrix virtualenvs
# (.venv-core2.16 ...). ansible-test refuses symlinked collections, so it runs
# on a copy of the tracked and untracked-but-not-ignored files under
# COPY_ROOT/ansible_collections/hardened_tls/resumption. --venv makes
# ansible-test create one virtualenv per sanity test (cached under
# ~/.ansible/test/venv, keyed by its own pinned requirement files), so it never
# changes the pinned packages of VENV. Ignore files must be empty.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=$1
copy=$2
shift 2
py=${SANITY_PY:-3.11}

for f in tests/sanity/ignore-*.txt; do
    if [ -s "$f" ]; then echo "ERROR: $f must be empty (fix the code instead)"; exit 1; fi
done
# ansible-test's shellcheck test silently skips without the program.
if ! command -v shellcheck >/dev/null 2>&1; then
    echo "==> installing shellcheck"
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck
fi

root=$copy/ansible_collections/hardened_tls/resumption
echo "==> copying the collection to $root"
rm -rf "$copy"
mkdir -p "$root"
git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
done | xargs -0 -r cp --parents -P -t "$root"
# The copy sits inside this repository's ignored .build/: ansible-test would
# ask the outer git for the file list and find nothing. Give the copy its own
# git repository so it sees exactly the copied files.
(cd "$root" && git init -q && git add -A)

# ansible-test bootstraps pip into each of its virtualenvs with a get-pip.py it
# downloads from a host we cannot reach: seed its cache with our offline
# stand-in (ensurepip + the pinned pip from the package index). Each
# ansible-test release pins its own pip.
pipver=$("$venv/bin/python" -c 'import re, ansible_test._internal.python_requirements as r, inspect; print(re.search(r"pip=.([0-9.]+)", inspect.getsource(r.get_venv_packages)).group(1))')
cache=$HOME/.ansible/test/cache/get_pip_${pipver//./_}.py
if ! cmp -s scripts/ansible_test_get_pip.py "$cache"; then
    mkdir -p "$(dirname "$cache")"
    cp scripts/ansible_test_get_pip.py "$cache"
    echo "==> seeded $cache (pip $pipver)"
fi

version=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
echo "==> ansible-test sanity --python $py (ansible-core $version)"
cd "$root"
PATH=$venv/bin:$PATH "$venv/bin/ansible-test" sanity --venv --requirements --python "$py" --color no "$@"
