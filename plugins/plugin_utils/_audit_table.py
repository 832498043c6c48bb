# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The audit report as a text or Markdown table. Controller only."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text
from ansible_collections.hardened_tls.resumption.plugins.plugin_utils._audit_report import FIELDS, WIDE_CELLS


def _cell(key, row, width=None):
    v = row.get(key)
    if isinstance(v, dict):
        v = v.get('text')
    if isinstance(v, list):
        v = '; '.join(to_text(x) for x in v) if v else None
    if key == 'early_data_accepted' and v is not None:
        v = 'ACCEPTED' if v else 'refused'
    elif v is True:
        v = 'yes'
    elif v is False:
        v = 'NO'
    elif v is None:
        v = '-'
    v = to_text(v)
    if width and key.startswith('key_name') and len(v) > 14:
        v = v[:12] + '..'
    if width and key in WIDE_CELLS:
        width = max(width, WIDE_CELLS[key])
    if width and len(v) > width:
        v = v[:width - 1] + '~'
    return v


def resumption_table(report, format='text', width=30):
    if isinstance(report, dict):
        rows = report.get('endpoints') or []
    else:
        rows = list(report or [])
    if format not in ('text', 'markdown'):
        raise AnsibleFilterError("resumption_table: format must be 'text' or 'markdown', got %r" % (format,))
    fields = [(k, label) for k, label in FIELDS
              if any(r.get(k) not in (None, [], '') for r in rows)]
    names = [to_text(r.get('name')) for r in rows]
    if format == 'markdown':
        lines = ['| | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
        for k, label in fields:
            lines.append('| %s | %s |' % (label, ' | '.join(_cell(k, r).replace('|', '\\|') for r in rows)))
        return '\n'.join(lines) + '\n'
    cells = [[_cell(k, r, width) for r in rows] for k, dummy in fields]
    label_w = max([len(label) for dummy, label in fields] + [0])
    col_w = [max([len(names[i])] + [len(c[i]) for c in cells]) for i in range(len(rows))]
    out = [('%s  %s' % (''.ljust(label_w), '  '.join(n.ljust(col_w[i]) for i, n in enumerate(names)))).rstrip()]
    out.append('%s  %s' % ('-' * label_w, '  '.join('-' * w for w in col_w)))
    for (k, label), c in zip(fields, cells):
        out.append(('%s  %s' % (label.ljust(label_w), '  '.join(c[i].ljust(col_w[i]) for i in range(len(rows))))).rstrip())
    if isinstance(report, dict) and 'findings' in report:
        out.append('')
        out.append('findings: %s' % ('none' if not report['findings'] else ''))
        out.extend('  - %s' % to_text(f) for f in report['findings'] or [])
    return '\n'.join(out) + '\n'
