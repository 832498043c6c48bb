# Copyright: Contributors to the hardened_tls.resumption collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Offline stand-in for the get-pip.py script that ansible-test downloads.

ansible-test creates every sanity-test virtualenv without pip and then runs
``python get_pip_<version>.py --disable-pip-version-check pip==<version>
--no-setuptools --no-wheel``, downloading that script from a host CI cannot
reach. `make sanity` puts this file in ansible-test's cache instead
(``~/.ansible/test/cache/get_pip_<version>.py``): it bootstraps pip with the
interpreter's own ``ensurepip`` and then installs the requested pip release
from the package index, which is reachable.
"""

from __future__ import annotations

import subprocess
import sys

# get-pip.py options that only mean "do not install setuptools/wheel"; the
# pip installed by ensurepip is told the same through --no-deps below.
_GET_PIP_ONLY = ('--no-setuptools', '--no-wheel')


def main(argv: list[str]) -> int:
    """Bootstrap pip into the running interpreter and install what was asked."""
    pip_args = [arg for arg in argv if arg not in _GET_PIP_ONLY]
    subprocess.run([sys.executable, '-m', 'ensurepip', '--default-pip'], check=True, stdout=subprocess.DEVNULL)
    if pip_args:
        subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps'] + pip_args, check=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
