# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""systemd helpers: unit names, unit files, systemctl through a runner.

A runner is a callable taking an argument list and returning (rc, stdout, stderr):
AnsibleModule.run_command in modules, subprocess in the timer's command.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError

UNIT_DIR = '/etc/systemd/system'
_SAFE = re.compile(r'[A-Za-z0-9:_.]')
NAME_RE = re.compile(r'^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}\Z')


def escape_path(path):
    """systemd-escape --path."""
    path = os.path.normpath(path).strip('/')
    if not path:
        return '-'
    out = []
    for i, ch in enumerate(path):
        if ch == '/':
            out.append('-')
        elif _SAFE.match(ch) and not (i == 0 and ch == '.'):
            out.append(ch)
        else:
            out.extend('\\x%02x' % b for b in ch.encode('utf-8'))
    return ''.join(out)


def mount_unit_name(path):
    return escape_path(path) + '.mount'


def check_name(name, what='name'):
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ResumptionError('%s must be 1 to 64 letters, digits, _, . or - (not starting with . or -), got %r' % (what, name))
    return name


# What may go into a unit file: a newline would add directives, '%' is a systemd
# specifier, white space splits the lists of RequiresMountsFor= and After=.
SERVICE_RE = re.compile(r'^[A-Za-z0-9:_.@-]{1,255}\Z')
UNIT_PATH_RE = re.compile(r'^/[A-Za-z0-9_./+:@,=-]{0,4095}\Z')


def check_service_name(name, what='service'):
    if not isinstance(name, str) or not SERVICE_RE.match(name):
        raise ResumptionError('%s must be a systemd unit name (letters, digits, : _ . @ -), got %r' % (what, name))
    return name


def check_unit_path(path, what='path'):
    if not isinstance(path, str) or not UNIT_PATH_RE.match(path):
        raise ResumptionError('%s must be an absolute path of letters, digits and _ . / + : @ , = - only (it is written '
                              'into unit files: no white space, %% or control characters), got %r' % (what, path))
    return path


def render_unit(sections):
    """Render [(section, [(key, value), ...]), ...] as a unit file (bytes)."""
    lines = ['# Managed by hardened_tls.resumption: local changes are overwritten.']
    for section, items in sections:
        lines.append('')
        lines.append('[%s]' % section)
        for key, value in items:
            lines.append('%s=%s' % (key, value))
    return ('\n'.join(lines) + '\n').encode('utf-8')


def is_systemd_booted():
    return os.path.isdir('/run/systemd/system')


class Systemctl(object):
    def __init__(self, run):
        self.run = run

    def __call__(self, *args, **kwargs):
        check = kwargs.pop('check', True)
        rc, out, err = self.run(['systemctl'] + list(args))
        if check and rc != 0:
            raise ResumptionError('systemctl %s failed: %s' % (' '.join(args), (err or out).strip()))
        return rc, out, err

    def daemon_reload(self):
        self('daemon-reload')

    def is_active(self, unit):
        return self('is-active', '--quiet', unit, check=False)[0] == 0

    def main_pid(self, unit):
        """The unit's main process id, or None when it has none."""
        rc, out, err = self('show', '--property=MainPID', '--value', unit, check=False)
        try:
            pid = int(out.strip()) if rc == 0 else 0
        except ValueError:
            pid = 0
        return pid or None

    def is_enabled(self, unit):
        return self('is-enabled', '--quiet', unit, check=False)[0] == 0
