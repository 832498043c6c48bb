# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

"""Exceptions of the TLS session-resumption probe (see _probe)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError


class ProbeError(ResumptionError):
    """The probe cannot give an answer; the message is meant for the user."""


class HandshakeRefused(Exception):
    """The TCP connection worked but the TLS handshake did not."""
