# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Private module_utils: not a public API of the collection.

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ResumptionError(Exception):
    """A refusal or failure with a message meant for the user.

    The message never contains key material.
    """
