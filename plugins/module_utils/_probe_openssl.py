# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

"""The ``openssl`` command line for the probe (see _probe): :class:`OpenSSL`.

``s_client`` and ``sess_id`` do what Python's ``ssl`` cannot: show the ticket
bytes (their first 16 bytes are the key name), send early data, and save or
load sessions as files.  Their output goes through _probe_parse at once and
only the parsed, non-secret fields come back.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import shutil
import subprocess

from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_errors import ProbeError
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_parse import (
    parse_s_client_output,
    parse_sess_id_text,
    s_client_error,
    s_client_failed,
    safe_lines,
)
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe_tls import READ_WINDOW, is_ip

_S_CLIENT_VERSION_FLAGS = {
    'TLSv1.2': '-tls1_2',
    'TLSv1.3': '-tls1_3',
}


class OpenSSL(object):
    """``openssl s_client`` / ``sess_id`` runner; never returns raw output."""

    def __init__(self, binary=None):
        self.binary = binary or shutil.which('openssl')

    def require(self, why):
        if not self.binary or not os.access(self.binary, os.X_OK):
            raise ProbeError('the openssl binary was not found (needed for %s); install openssl '
                             '(Debian: apt install openssl)' % why)

    def _run(self, argv, stdin_data, timeout, window=None):
        """Run openssl; returns ``(rc, stdout, stderr, killed)``.

        ``killed`` is True when openssl was still running after ``timeout``
        seconds (a server that keeps the connection open) and was killed.
        """
        try:
            proc = subprocess.Popen([self.binary] + argv, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            raise ProbeError('cannot run %s: %s' % (self.binary, e))
        killed = False
        try:
            if window:
                # No request: keep stdin open for a moment so that s_client
                # reads post-handshake messages (TLS 1.3 tickets), then EOF.
                # (communicate() would close stdin at once.)
                try:
                    proc.wait(timeout=window)
                except subprocess.TimeoutExpired:
                    pass
                out, err = proc.communicate(timeout=timeout)
            else:
                out, err = proc.communicate(input=stdin_data, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            killed = True
            out, err = proc.communicate()
        return proc.returncode, out.decode('utf-8', 'replace'), err.decode('utf-8', 'replace'), killed

    def s_client(self, ep, version=None, sess_in=None, sess_out=None, early_data=None):
        """Run one s_client connection; returns the parsed summary."""
        argv = ['s_client', '-connect', ep.name]
        if ep.request:
            # Read until the server closes: TLS 1.3 tickets arrive after the handshake.
            argv.append('-ign_eof')
        if version:
            argv.append(_S_CLIENT_VERSION_FLAGS[version])
        if is_ip(ep.server_name):
            argv.append('-noservername')
        else:
            argv += ['-servername', ep.server_name]
        if ep.validate_certs:
            argv.append('-verify_return_error')
            if ep.ca_path:
                argv += ['-CAfile', ep.ca_path]
            if is_ip(ep.server_name):
                argv += ['-verify_ip', ep.server_name]
            else:
                argv += ['-verify_hostname', ep.server_name]
        if sess_in:
            argv += ['-sess_in', sess_in]
        if sess_out:
            argv += ['-sess_out', sess_out]
        if early_data:
            argv += ['-early_data', early_data]
        if ep.request:
            rc, out, err, killed = self._run(argv, ep.request, ep.timeout + 1)
        else:
            rc, out, err, killed = self._run(argv, None, ep.timeout + 1, window=min(READ_WINDOW, ep.timeout))
        parsed = parse_s_client_output(out)
        out = None
        if s_client_failed(parsed, rc, err, killed):
            raise s_client_error(ep.name, rc, err)
        return parsed

    def sess_id(self, path):
        """Parse a PEM session file; only non-secret fields come back."""
        rc, out, err, dummy = self._run(['sess_id', '-in', path, '-noout', '-text'], b'', 10)
        if rc != 0:
            raise ProbeError('%s is not a readable TLS session file: %s' % (path, safe_lines(err, 1)))
        parsed = parse_sess_id_text(out)
        out = None
        return parsed
