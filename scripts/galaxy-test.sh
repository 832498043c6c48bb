#!/usr/bin/env bash
# Galaxy install test (make galaxy-test): build the collection tarball, check the
# files it ships against the expected list, install it into a clean temporary
# collections path, run tests/galaxy/site.yml from outside
# the repository against one container (roles and modules by FQCN, the installed
# copy only), then render every module, filter and role entry point with
# ansible-doc from the installed copy. Then the same with the oldest supported
# ansible-core (2.16): install, rerun (changed=0), ansible-doc.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$PWD"
NETWORK="${HARDENED_TLS_NETWORK:-hardened-tls}"
IMAGE="${GALAXY_TEST_IMAGE:-hardened-tls/demo:trixie}"
NAME="galaxy-test-$$"
WORK="$(mktemp -d /tmp/hardened-tls-galaxy.XXXXXX)"
START=$(date +%s)

log() { printf '[galaxy-test %3ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
cleanup() {
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

if ! docker image inspect "$IMAGE" >/dev/null 2>&1; then
    log "building $IMAGE"
    HARDENED_TLS_IMAGE_REPO="${IMAGE%%:*}" HARDENED_TLS_EXTRA_PACKAGES="nginx apache2 haproxy python3-cryptography" \
        scripts/build-images.sh "${IMAGE##*:}"
fi
log "starting $NAME from $IMAGE on $NETWORK"
docker run -d --name "$NAME" --hostname "$NAME" --network "$NETWORK" \
    --cap-add SYS_ADMIN --security-opt seccomp=unconfined --cgroupns host \
    -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
    "$IMAGE" /sbin/init >/dev/null

log "ansible-galaxy collection build"
ansible-galaxy collection build --force --output-path "$WORK/dist" "$ROOT" >/dev/null
TARBALL="$(ls "$WORK"/dist/hardened_tls-resumption-*.tar.gz)"
log "built $(basename "$TARBALL") ($(du -k "$TARBALL" | cut -f1) kB)"

# What the tarball ships (galaxy.yml's build_ignore decides): exactly these
# top-level entries, these under tests/ and changelogs/, and no development, demo,
# bench, cache or byte-code path anywhere.
EXPECTED_TOP="CHANGELOG.rst FILES.json LICENSE LICENSES MANIFEST.json README.md changelogs docs extras meta playbooks plugins roles tests"
EXPECTED_TESTS="integration prometheus unit"
EXPECTED_CHANGELOGS="changelog.yaml config.yaml"
FORBIDDEN='(^|/)(\.venv|\.build|\.git|\.ci|\.config|\.ansible|\.cache|\.mypy_cache|\.pytest_cache|\.ruff_cache|\.tox|\.molecule|__pycache__|molecule|scripts|demo|bench)(/|$)'
FORBIDDEN+='|(^|/)[^/]*(demo|bench)[^/]*$|^tests/(hardening|output|galaxy)(/|$)|^changelogs/fragments(/|$)|\.py[cod]$|\.tar\.gz$'
# Every member (shipped.list) and every non-directory member (shipped-files.list).
python3 - "$TARBALL" "$WORK/shipped.list" "$WORK/shipped-files.list" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as tar:
    members = [(m.name[2:] if m.name.startswith('./') else m.name).rstrip('/') for m in tar.getmembers()]
    files = [n for n, m in zip(members, tar.getmembers()) if not m.isdir()]
for path, names in ((sys.argv[2], members), (sys.argv[3], files)):
    with open(path, 'w') as f:
        f.write(''.join('%s\n' % n for n in sorted(names)))
PY
children() { awk -F/ -v p="$1" 'p == "" { print $1; next } index($0, p "/") == 1 { split(substr($0, length(p) + 2), a, "/"); print a[1] }' "$WORK/shipped.list" | sort -u | xargs; }
check_list() {
    local what="$1" want got
    want="$(tr ' ' '\n' <<<"$2" | sort | xargs)"
    got="$(children "$3")"
    if [ "$got" != "$want" ]; then
        echo "FAIL: the tarball's $what are not the expected ones" >&2
        echo "  shipped:  $got" >&2
        echo "  expected: $want" >&2
        echo "  unexpected: $(comm -13 <(tr ' ' '\n' <<<"$want") <(tr ' ' '\n' <<<"$got") | xargs)" >&2
        echo "  missing:    $(comm -23 <(tr ' ' '\n' <<<"$want") <(tr ' ' '\n' <<<"$got") | xargs)" >&2
        exit 1
    fi
}
check_list "top-level entries" "$EXPECTED_TOP" ""
check_list "entries under tests/" "$EXPECTED_TESTS" tests
check_list "entries under changelogs/" "$EXPECTED_CHANGELOGS" changelogs
if grep -E "$FORBIDDEN" "$WORK/shipped.list" >"$WORK/forbidden.list"; then
    echo "FAIL: the tarball holds development, demo, bench, test-only or cache files:" >&2
    head -n 20 "$WORK/forbidden.list" >&2
    exit 1
fi
# Summary for the log: files (not directories) per top-level entry.
log "the tarball ships $(wc -l <"$WORK/shipped-files.list") files, as expected:"
awk -F/ '{ n[NF > 1 ? $1 "/" : $1]++ } END { for (k in n) printf "    %4d  %s\n", n[k], k }' "$WORK/shipped-files.list" | sort -k2

log "installing it into a clean path"
# Only the installed copy from here on (and the collections of the pinned ansible
# package for community.docker): no .build, no ~/.ansible/collections, no
# repository ansible.cfg. Set before the install, else ansible-galaxy finds the
# repository through .build and installs nothing.
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections"
: >"$WORK/ansible.cfg"
export ANSIBLE_CONFIG="$WORK/ansible.cfg"
ansible-galaxy collection install --offline --force -p "$WORK/collections" "$TARBALL" >"$WORK/install.log" 2>&1 \
    || { cat "$WORK/install.log" >&2; exit 1; }
INSTALLED="$WORK/collections/ansible_collections/hardened_tls/resumption"
[ -f "$INSTALLED/MANIFEST.json" ] || { cat "$WORK/install.log" >&2; echo "FAIL: nothing installed at $INSTALLED" >&2; exit 1; }

export ANSIBLE_PIPELINING=True ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false
cp tests/galaxy/site.yml "$WORK/site.yml"
cat >"$WORK/inventory.yml" <<INV
galaxy_test:
  hosts:
    $NAME:
      ansible_connection: community.docker.docker
      ansible_python_interpreter: /usr/bin/python3
INV
cd "$WORK"
where="$(ansible-doc -t module hardened_tls.resumption.resumption_info --json \
    | python3 -c 'import json,sys; print(list(json.load(sys.stdin).values())[0]["doc"]["filename"])')"
case "$where" in
    "$INSTALLED"/*) log "ansible finds the installed copy ($where)" ;;
    *) echo "FAIL: ansible-doc loads $where, not the installed copy" >&2; exit 1 ;;
esac

docker exec "$NAME" systemctl is-system-running --wait >/dev/null 2>&1 || true
log "running site.yml from $WORK against $NAME"
ansible-playbook -i inventory.yml site.yml
log "running it again: nothing may change"
ansible-playbook -i inventory.yml site.yml | tee "$WORK/second.log" | tail -n 4
if ! grep -Eq "$NAME +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0" "$WORK/second.log"; then
    echo "FAIL: the second run changed something" >&2
    exit 1
fi

log "ansible-doc of every module, plugin and role entry point of the installed copy"
# One ansible-doc run per plugin type (each start costs seconds): every name must
# render from the installed copy, every module with its examples.
count=0
modules=()
for f in "$INSTALLED"/plugins/modules/*.py; do modules+=("hardened_tls.resumption.$(basename "$f" .py)"); done
ansible-doc -t module --json "${modules[@]}" >"$WORK/modules.json"
for ptype in filter lookup; do
    names=()
    for n in $(ansible-doc -t "$ptype" -l hardened_tls.resumption | awk '{print $1}'); do names+=("$n"); done
    [ "${#names[@]}" -eq 0 ] || ansible-doc -t "$ptype" --json "${names[@]}" >"$WORK/$ptype.json"
done
roles=()
for spec in "$INSTALLED"/roles/*/meta/argument_specs.yml; do
    roles+=("hardened_tls.resumption.$(basename "$(dirname "$(dirname "$spec")")")")
done
ansible-doc -t role --json "${roles[@]}" >"$WORK/roles.json"
count=$(python3 - "$WORK" "$INSTALLED" "${modules[@]}" <<'PY'
import glob, json, os, sys
import yaml
work, installed, modules = sys.argv[1], sys.argv[2], sys.argv[3:]
count = 0

def fail(msg):
    sys.stderr.write('FAIL: %s\n' % msg)
    sys.exit(1)

docs = json.load(open(os.path.join(work, 'modules.json')))
for m in modules:
    d = docs.get(m) or fail('ansible-doc module %s rendered nothing' % m)
    (d.get('doc') or {}).get('short_description') or fail('module %s has no short_description' % m)
    (d.get('examples') or '').strip() or fail('module %s has no examples' % m)
    print('    module %s' % m, file=sys.stderr)
    count += 1
for ptype in ('filter', 'lookup'):
    path = os.path.join(work, '%s.json' % ptype)
    if not os.path.exists(path):
        continue
    for name, d in sorted(json.load(open(path)).items()):
        (d.get('doc') or {}).get('short_description') or fail('%s %s has no documentation' % (ptype, name))
        print('    %s %s' % (ptype, name), file=sys.stderr)
        count += 1
roles = json.load(open(os.path.join(work, 'roles.json')))
for spec in sorted(glob.glob(os.path.join(installed, 'roles', '*', 'meta', 'argument_specs.yml'))):
    role = 'hardened_tls.resumption.' + os.path.basename(os.path.dirname(os.path.dirname(spec)))
    rendered = (roles.get(role) or {}).get('entry_points') or fail('ansible-doc role %s rendered nothing' % role)
    for entry in yaml.safe_load(open(spec))['argument_specs']:
        (rendered.get(entry) or {}).get('short_description') or fail('role %s entry point %s did not render' % (role, entry))
        print('    role %s entry point %s' % (role, entry), file=sys.stderr)
        count += 1
print(count)
PY
)

# The oldest ansible-core the collection supports (meta/runtime.yml), from the
# matrix's virtualenv: the same tarball installs without a version warning, the
# site playbook reruns on the same container with nothing changed, and every
# module renders.
OLD_CORE="${GALAXY_TEST_OLD_CORE:-2.16}"
"$ROOT/scripts/matrix.sh" --venv "$OLD_CORE"
OLD_BIN="$ROOT/.venv-core$OLD_CORE/bin"
old_version="$("$OLD_BIN/ansible" --version | sed -n '1s/.*core \([0-9.]*\).*/\1/p')"
log "installing it with ansible-core $old_version into another clean path"
export ANSIBLE_COLLECTIONS_PATH="$WORK/collections-old"
PATH="$OLD_BIN:$PATH" ansible-galaxy collection install --offline --force -p "$WORK/collections-old" "$TARBALL" >"$WORK/install-old.log" 2>&1 \
    || { cat "$WORK/install-old.log" >&2; exit 1; }
if grep -i "does not support" "$WORK/install-old.log" >&2; then
    echo "FAIL: ansible-core $old_version warns that it is not supported" >&2
    exit 1
fi
log "running site.yml with ansible-core $old_version: nothing may change, no version warning"
PATH="$OLD_BIN:$PATH" ansible-playbook -i inventory.yml site.yml >"$WORK/old.log" 2>&1 || { tail -n 40 "$WORK/old.log" >&2; exit 1; }
tail -n 4 "$WORK/old.log"
if ! grep -Eq "$NAME +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0" "$WORK/old.log" || grep -i "does not support" "$WORK/old.log" >&2; then
    echo "FAIL: the run with ansible-core $old_version changed something or warned" >&2
    exit 1
fi
PATH="$OLD_BIN:$PATH" ansible-doc -t module --json "${modules[@]}" >"$WORK/modules-old.json"
python3 - "$WORK/modules-old.json" "${modules[@]}" <<'PY'
import json, sys
docs = json.load(open(sys.argv[1]))
missing = [m for m in sys.argv[2:] if not (docs.get(m) or {}).get('doc', {}).get('short_description')]
if missing:
    sys.exit('FAIL: with the old ansible-core, ansible-doc did not render %s' % ', '.join(missing))
PY
log "galaxy test passed ($count docs rendered; ansible-core $old_version: installed, rerun changed=0, ${#modules[@]} modules rendered)"
