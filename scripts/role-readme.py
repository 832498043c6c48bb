# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep the generated part of every role's README.md in step with its argument specs.

For each roles/<role>/meta/argument_specs.yml, the text of roles/<role>/README.md
between the two markers

    <!-- BEGIN GENERATED FROM meta/argument_specs.yml -->
    <!-- END GENERATED FROM meta/argument_specs.yml -->

is rendered from the specs: for each entry point (main first, then the others in
file order) its short_description, its description paragraphs and a table of its
options (name, type, default, choices, required, description). Everything outside
the markers is hand-written and never touched.

    python scripts/role-readme.py             rewrite the generated blocks
    python scripts/role-readme.py --check     exit 1 naming every stale README
    python scripts/role-readme.py nginx ...   only these roles

Without --check, a role without a README.md gets a skeleton (title, intro, the
generated block under "## Variables", an example) to complete by hand, and a
README.md without the markers gets a "## Variables" section with them before its
first second-level section. With --check both are errors. `make lint` runs --check.
Needs PyYAML only (the venv's python).
"""

import argparse
import difflib
import os
import re
import sys

import yaml

BEGIN = '<!-- BEGIN GENERATED FROM meta/argument_specs.yml -->'
END = '<!-- END GENERATED FROM meta/argument_specs.yml -->'
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPECS = os.path.join('meta', 'argument_specs.yml')
COLUMNS = ('Option', 'Type', 'Default', 'Choices', 'Required', 'Description')

# Ansible documentation markup (classic and semantic). Code-like ones become code spans.
CODE_MARKUP = 'CVOMIEP'
MARKUP = re.compile(r'(?<![A-Za-z0-9_])([BCEILMOPRUV])\(')


class SpecError(Exception):
    pass


def collection_name():
    """namespace.name from galaxy.yml (hardened_tls.resumption)."""
    with open(os.path.join(ROOT, 'galaxy.yml'), encoding='utf-8') as f:
        galaxy = yaml.safe_load(f)
    return '%s.%s' % (galaxy['namespace'], galaxy['name'])


# ---------------------------------------------------------------- markup

def _argument(text, start):
    """The argument of a markup call whose '(' is at text[start - 1]: up to the
    matching ')' (parentheses nest, '\\)' and '\\\\' are escapes). None when unclosed."""
    depth, out, i = 0, [], start
    while i < len(text):
        c = text[i]
        if c == '\\' and i + 1 < len(text) and text[i + 1] in '()\\':
            out.append(text[i + 1])
            i += 2
            continue
        if c == '(':
            depth += 1
        elif c == ')':
            if depth == 0:
                return ''.join(out), i + 1
            depth -= 1
        out.append(c)
        i += 1
    return None


def code(text):
    """A Markdown code span holding text (longer fences when text holds backticks)."""
    text = text.strip()
    if not text:
        return ''
    run = max((len(m) for m in re.findall('`+', text)), default=0)
    fence = '`' * (run + 1)
    pad = ' ' if text.startswith('`') or text.endswith('`') else ''
    return '%s%s%s%s%s' % (fence, pad, text, pad, fence)


def markup(text):
    """Ansible markup to Markdown: V() C() O() M() I() E() P() as code, B() bold,
    U() a link, L(text,url) a link, R(text,anchor) its text."""
    out, i = [], 0
    for m in MARKUP.finditer(text):
        if m.start() < i:
            continue
        arg = _argument(text, m.end())
        if arg is None:
            continue
        value, end = arg
        kind = m.group(1)
        out.append(plain(text[i:m.start()]))
        if kind in CODE_MARKUP:
            out.append(code(value))
        elif kind == 'B':
            out.append('**%s**' % value.strip())
        elif kind == 'U':
            out.append('<%s>' % value.strip())
        elif kind == 'L':
            label, url = value.rpartition(',')[::2]
            out.append('[%s](%s)' % (label.strip(), url.strip()))
        else:  # R(text,anchor)
            out.append(value.rpartition(',')[0].strip() or value.strip())
        i = end
    out.append(plain(text[i:]))
    return ''.join(out).replace('HORIZONTALLINE', '---')


def plain(text):
    """Text outside markup: no HTML tag, no emphasis by accident."""
    return text.replace('<', '&lt;').replace('*', '\\*')


def paragraphs(value):
    """A description (string or list of strings) as a list of one-line paragraphs."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise SpecError('a description must be a string or a list of strings, got %r' % (value,))
    return [' '.join(str(p).split()) for p in value if str(p).strip()]


def cell(text):
    """Text fit for one table cell: one line, '|' escaped."""
    return ' '.join(text.split()).replace('|', '\\|')


# ---------------------------------------------------------------- values

def literal(value):
    """A default or choice as it would be written in YAML (strings bare)."""
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return 'null'
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10 ** 6).strip()
    if dumped.endswith('\n...'):
        dumped = dumped[:-4].strip()
    return dumped


def type_of(spec):
    kind = spec.get('type', 'str')
    if spec.get('elements'):
        return '%s of %s' % (kind, spec['elements'])
    return kind


def rows(options, prefix=''):
    if not options:
        return []
    if not isinstance(options, dict):
        raise SpecError('options must be a mapping, got %r' % (options,))
    out = []
    for name, spec in options.items():
        spec = spec or {}
        if not isinstance(spec, dict):
            raise SpecError('option %s%s must be a mapping' % (prefix, name))
        required = bool(spec.get('required', False))
        default = '' if 'default' not in spec or required else code(literal(spec['default']))
        choices = ', '.join(code(literal(c)) for c in spec.get('choices') or [])
        desc = '<br>'.join(markup(p) for p in paragraphs(spec.get('description')))
        if spec.get('aliases'):
            desc += '%sAliases: %s.' % ('<br>' if desc else '', ', '.join(code(a) for a in spec['aliases']))
        out.append([code(prefix + str(name)), type_of(spec), default, choices, 'yes' if required else 'no', desc])
        out.extend(rows(spec.get('options'), '%s%s.' % (prefix, name)))
    return out


# ---------------------------------------------------------------- rendering

def render(specs_path):
    """The generated block (without the markers) for one argument_specs.yml."""
    with open(specs_path, encoding='utf-8') as f:
        data = yaml.safe_load(f)
    entry_points = (data or {}).get('argument_specs')
    if not isinstance(entry_points, dict) or not entry_points:
        raise SpecError('%s has no argument_specs mapping' % specs_path)
    names = sorted(entry_points, key=lambda n: n != 'main')  # main first, the rest in file order
    lines = []
    for name in names:
        ep = entry_points[name] or {}
        lines += ['### Entry point `%s`' % name, '']
        if ep.get('short_description'):
            lines += ['**%s**' % markup(' '.join(str(ep['short_description']).split())), '']
        for p in paragraphs(ep.get('description')):
            lines += [markup(p), '']
        table = rows(ep.get('options'))
        if not table:
            lines += ['No options.', '']
            continue
        lines.append('| %s |' % ' | '.join(COLUMNS))
        lines.append('|%s|' % '|'.join(['---'] * len(COLUMNS)))
        for row in table:
            lines.append('| %s |' % ' | '.join(cell(c) for c in row))
        lines.append('')
    return '\n'.join(lines).rstrip('\n') + '\n'


def block(generated):
    return '%s\n\n%s\n%s' % (BEGIN, generated, END)


def skeleton(fqcn, specs_path, generated):
    with open(specs_path, encoding='utf-8') as f:
        main = ((yaml.safe_load(f) or {}).get('argument_specs') or {}).get('main') or {}
    intro = markup(' '.join(str(main.get('short_description', 'Describe the role here')).split()))
    return ('# %s\n\n%s.\n\n## Variables\n\n%s\n\n## Example\n\n```yaml\n- hosts: all\n  become: true\n  roles:\n'
            '    - role: %s\n```\n') % (fqcn, intro.rstrip('.'), block(generated), fqcn)


def splice(text, generated):
    """text with its generated block replaced; None when the markers are missing or misplaced."""
    begin, end = text.find(BEGIN), text.find(END)
    if begin < 0 or end < begin or text.count(BEGIN) != 1 or text.count(END) != 1:
        return None
    return text[:begin] + block(generated) + text[end + len(END):]


def add_markers(text, generated):
    """Insert the generated block under an existing "## Variables" heading (before what it holds), else a
    Variables section with it before the first second-level heading (or at the end)."""
    m = re.search(r'(?m)^## Variables[ \t]*\n', text)
    if m:
        return text[:m.end()] + '\n%s\n' % block(generated) + text[m.end():]
    section = '## Variables\n\n%s\n\n' % block(generated)
    m = re.search(r'(?m)^## ', text)
    if m:
        return text[:m.start()] + section + text[m.start():]
    return text.rstrip('\n') + '\n\n' + section.rstrip('\n') + '\n'


def roles(selected):
    base = os.path.join(ROOT, 'roles')
    found = sorted(r for r in os.listdir(base) if os.path.isfile(os.path.join(base, r, SPECS)))
    if not selected:
        return found
    missing = [r for r in selected if r not in found]
    if missing:
        raise SpecError('no %s for role(s): %s' % (SPECS, ', '.join(missing)))
    return selected


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--check', action='store_true',
                        help='change nothing; exit 1 when a README.md is missing, has no markers or is stale')
    parser.add_argument('roles', nargs='*', metavar='ROLE', help='only these roles (default: every role with argument specs)')
    args = parser.parse_args(argv)

    try:
        fqcn_base = collection_name()
        selected = roles(args.roles)
    except (OSError, SpecError, yaml.YAMLError, KeyError) as e:
        print('role-readme: %s' % e, file=sys.stderr)
        return 2

    stale, failed = [], False
    for role in selected:
        specs_path = os.path.join(ROOT, 'roles', role, SPECS)
        readme = os.path.join(ROOT, 'roles', role, 'README.md')
        rel = os.path.relpath(readme, ROOT)
        try:
            generated = render(specs_path)
        except (OSError, SpecError, yaml.YAMLError) as e:
            print('role-readme: roles/%s/%s: %s' % (role, SPECS, e), file=sys.stderr)
            failed = True
            continue

        if not os.path.exists(readme):
            if args.check:
                print('%s is missing: run `python scripts/role-readme.py %s` and complete it' % (rel, role), file=sys.stderr)
                stale.append(rel)
            else:
                with open(readme, 'w', encoding='utf-8') as f:
                    f.write(skeleton('%s.%s' % (fqcn_base, role), specs_path, generated))
                print('%s: created a skeleton; write its intro, sections and example by hand' % rel)
            continue

        with open(readme, encoding='utf-8') as f:
            text = f.read()
        new = splice(text, generated)
        if new is None:
            if args.check:
                print('%s has no generated block (one line %s and, after it, one line %s)' % (rel, BEGIN, END), file=sys.stderr)
                stale.append(rel)
                continue
            new = add_markers(text, generated)
            with open(readme, 'w', encoding='utf-8') as f:
                f.write(new)
            print('%s: added the generated block under "## Variables"; check where it went' % rel)
            continue
        if new == text:
            continue
        if args.check:
            print('%s is stale: its generated block differs from roles/%s/%s' % (rel, role, SPECS), file=sys.stderr)
            diff = list(difflib.unified_diff(text.splitlines(), new.splitlines(), rel, rel + ' (from the specs)', n=1, lineterm=''))
            for line in diff[:40]:
                print('    ' + line, file=sys.stderr)
            if len(diff) > 40:
                print('    ... (%d more diff lines)' % (len(diff) - 40), file=sys.stderr)
            stale.append(rel)
        else:
            with open(readme, 'w', encoding='utf-8') as f:
                f.write(new)
            print('%s: generated block rewritten' % rel)

    if failed:
        return 2
    if stale:
        print('role-readme: %d stale README(s): %s. Run `python scripts/role-readme.py` (the venv\'s python) to rewrite them.'
              % (len(stale), ', '.join(stale)), file=sys.stderr)
        return 1
    if args.check:
        print('role-readme: %d role README(s) up to date' % len(selected))
    return 0


if __name__ == '__main__':
    sys.exit(main())
