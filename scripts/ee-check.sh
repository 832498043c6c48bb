#!/usr/bin/env bash
# Execution environment check (make ee-check, part of make galaxy-test): does
# ansible-builder see what this collection needs? Builds the collection tarball
# (or takes the one given as $1), writes a minimal version 3 execution
# environment definition that installs it from that local file, runs
# `ansible-builder create` (no container engine, no network) and checks the
# context. Then does offline what the context's galaxy and builder stages would
# do in a container: installs the tarball with the context's requirements.yml
# and runs the context's own introspect.py on the result, which must name the
# Python and system requirements of meta/execution-environment.yml as coming from
# hardened_tls.resumption. Takes a few seconds.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
COLLECTION=hardened_tls.resumption
# Never pulled: `ansible-builder create` only writes the build context.
BASE_IMAGE="${EE_CHECK_BASE_IMAGE:-quay.io/centos/centos:stream9}"
WORK="$(mktemp -d /tmp/hardened-tls-ee.XXXXXX)"
START=$(date +%s)

log() { printf '[ee-check %3ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

command -v ansible-builder >/dev/null 2>&1 || fail "ansible-builder not found (make venv installs it from requirements.txt)"
# Only the files of this check: no .build, no ~/.ansible/collections, no repository ansible.cfg.
export ANSIBLE_COLLECTIONS_PATH="$WORK/usr/share/ansible/collections"
: >"$WORK/ansible.cfg"
export ANSIBLE_CONFIG="$WORK/ansible.cfg"

# The requirement files the collection names must exist and be in the tarball.
read -r PY_REQ SYS_REQ < <(python3 - <<'PY'
import yaml
deps = yaml.safe_load(open('meta/execution-environment.yml'))['dependencies']
print(deps['python'], deps['system'])
PY
)
[ -s "$PY_REQ" ] || fail "meta/execution-environment.yml names $PY_REQ, which is missing or empty"
[ -s "$SYS_REQ" ] || fail "meta/execution-environment.yml names $SYS_REQ, which is missing or empty"
log "meta/execution-environment.yml: python $PY_REQ, system $SYS_REQ"
# bindep parses the system file (exit 2 on a syntax error) and lists what this
# host lacks of it (exit 1).
rc=0
missing="$(bindep --brief --file "$SYS_REQ" 2>&1)" || rc=$?
[ "$rc" -le 1 ] || fail "bindep cannot read $SYS_REQ (exit $rc): $missing"
log "bindep reads $SYS_REQ${missing:+ (missing on this host: ${missing//$'\n'/ })}"

TARBALL="${1:-}"
if [ -z "$TARBALL" ]; then
    ansible-galaxy collection build --force --output-path "$WORK/dist" "$ROOT" >/dev/null
    TARBALL="$(ls "$WORK"/dist/hardened_tls-resumption-*.tar.gz)"
fi
[ -f "$TARBALL" ] || fail "no tarball at $TARBALL"
TARBALL="$(readlink -f "$TARBALL")"
TARNAME="$(basename "$TARBALL")"
tar -tzf "$TARBALL" >"$WORK/tarball.list"
for f in meta/execution-environment.yml "$PY_REQ" "$SYS_REQ"; do
    grep -qxF "$f" "$WORK/tarball.list" || fail "$TARNAME does not ship $f"
done
log "using $TARNAME"

mkdir -p "$WORK/ee"
cat >"$WORK/ee/execution-environment.yml" <<EOF
---
version: 3
images:
  base_image:
    name: $BASE_IMAGE
dependencies:
  python_interpreter:
    package_system: python3.11
    python_path: /usr/bin/python3.11
  ansible_core:
    package_pip: ansible-core
  ansible_runner:
    package_pip: ansible-runner
  galaxy: requirements.yml
additional_build_files:
  # lands in the context's _build/collections/, which the galaxy stage has at /build/collections/
  - src: $TARBALL
    dest: collections
EOF
# Relative to the galaxy stage's working directory (/build, a copy of the context's _build).
cat >"$WORK/ee/requirements.yml" <<EOF
---
collections:
  - name: collections/$TARNAME
    type: file
EOF

log "ansible-builder create ($(ansible-builder --version))"
CTX="$WORK/context"
ansible-builder create -f "$WORK/ee/execution-environment.yml" --context "$CTX" \
    --output-filename Containerfile -v 1 >"$WORK/create.log" 2>&1 \
    || { cat "$WORK/create.log" >&2; fail "ansible-builder create failed"; }
[ -f "$CTX/Containerfile" ] || fail "no Containerfile in $CTX"
cmp -s "$TARBALL" "$CTX/_build/collections/$TARNAME" || fail "the context does not hold $TARNAME"
cmp -s "$WORK/ee/requirements.yml" "$CTX/_build/requirements.yml" || fail "the context does not hold requirements.yml"
[ -f "$CTX/_build/scripts/introspect.py" ] || fail "the context has no scripts/introspect.py"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$CTX/Containerfile" \
    || fail "the Containerfile installs no collections from requirements.yml"
grep -q 'introspect.py introspect' "$CTX/Containerfile" || fail "the Containerfile runs no introspection"
log "context: Containerfile, _build/requirements.yml, _build/collections/$TARNAME, _build/scripts/"

# The galaxy stage, offline: install from the context as the Containerfile does.
(cd "$CTX/_build" && ansible-galaxy collection install --offline -r requirements.yml \
    --collections-path "$ANSIBLE_COLLECTIONS_PATH" >"$WORK/install.log" 2>&1) \
    || { cat "$WORK/install.log" >&2; fail "installing from the context's requirements.yml failed"; }
# The builder stage: the context's introspect.py over the installed collections.
python3 "$CTX/_build/scripts/introspect.py" introspect \
    --write-pip="$WORK/src/requirements.txt" --write-bindep="$WORK/src/bindep.txt" \
    "$ANSIBLE_COLLECTIONS_PATH" >"$WORK/introspect.log" 2>&1 \
    || { cat "$WORK/introspect.log" >&2; fail "introspect.py failed"; }

# Every requirement line of the collection's files, and nothing else, from the collection.
python3 - "$PY_REQ" "$SYS_REQ" "$WORK/src/requirements.txt" "$WORK/src/bindep.txt" "$COLLECTION" <<'PY'
import sys
py_req, sys_req, got_py, got_sys, coll = sys.argv[1:]

def lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith('#')]

ok = True
for kind, want_file, got_file in (('python', py_req, got_py), ('system', sys_req, got_sys)):
    want = ['%s  # from collection %s' % (line, coll) for line in lines(want_file)]
    got = lines(got_file)
    if sorted(got) != sorted(want):
        ok = False
        sys.stderr.write('FAIL: %s requirements from introspection:\n  %s\nexpected:\n  %s\n'
                         % (kind, '\n  '.join(got) or '(none)', '\n  '.join(want)))
    for line in got:
        print('    %s: %s' % (kind, line))
sys.exit(0 if ok else 1)
PY
# The fleet_ring module's package, by name (not only "whatever the file says").
grep -q "^cryptography\b.*# from collection $COLLECTION\$" "$WORK/src/requirements.txt" \
    || fail "the execution environment would not get cryptography from $COLLECTION"
log "ee-check passed: the execution environment gets the collection's Python and system requirements"
