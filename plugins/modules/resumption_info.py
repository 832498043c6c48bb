#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hardened_tls.resumption contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
module: resumption_info
short_description: Probe TLS session resumption (session IDs, tickets, TLS 1.3 PSK, early data) of an endpoint
version_added: 0.1.0
description:
  - Connects to O(host):O(port) as a TLS client, once per version in O(tls_versions), and reports whether the server
    resumes sessions by session ID (TLS 1.2, client sends no ticket extension), by session ticket (TLS 1.2), by
    pre-shared key (TLS 1.3), whether it accepts early data (0-RTT), the ticket lifetime hint and the ticket key name.
  - The ticket key name is the hex of the first 16 bytes of the ticket, which for OpenSSL based servers (nginx,
    Apache httpd, HAProxy) is the name of the ticket key that encrypted it. It is not secret (every client sees it);
    compare it across runs to see a rotation, or across nodes to see a shared key ring.
  - Works against any TLS endpoint; nothing on the target changes. The module runs where the task runs (use
    C(delegate_to) to probe from another host).
  - With O(session_out) the session of a full handshake is saved to a file; a later task can resume it with
    O(session_in), after a key rotation or against another node, O(attempts) times (through a load balancer).
  - Uses Python's C(ssl) module and the C(openssl) command line (C(s_client), C(sess_id)).
author:
  - Hardened TLS contributors (@hardened-tls)
extends_documentation_fragment:
  - hardened_tls.resumption._attributes
attributes:
  check_mode:
    support: full
    details:
      - The probe changes nothing on the endpoint and runs in check mode too (a O(session_out) file is written in
        check mode as well, so that a later O(session_in) task can run).
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Always C(changed=false). The results depend on the server (ticket keys rotate).
options:
  host:
    description: Host name or IP address to connect to.
    type: str
    required: true
  port:
    description: TCP port.
    type: int
    default: 443
  server_name:
    description:
      - Name sent as SNI and checked against the certificate when O(validate_certs=true).
      - Defaults to O(host). No SNI is sent when it is an IP address.
    type: str
  tls_versions:
    description:
      - TLS versions to probe, each in its own connections.
      - A version the server does not offer is reported with C(offered) V(false) in RV(versions); the module fails only
        when the server offers none of them.
    type: list
    elements: str
    choices: [TLSv1.2, TLSv1.3]
    default: [TLSv1.2, TLSv1.3]
  checks:
    description:
      - V(session_id) - TLS 1.2 resumption by session ID, the client sending no ticket extension (a server-side session
        cache).
      - V(ticket) - TLS 1.2 resumption by session ticket, and the ticket key name.
      - V(psk) - TLS 1.3 resumption (by a stateless or a stateful ticket), and the ticket key name.
      - V(early_data) - TLS 1.3 early data (0-RTT); the O(request) is sent as early data when the ticket allows it.
      - A result of a check that did not run is V(null).
    type: list
    elements: str
    choices: [session_id, ticket, psk, early_data]
    default: [session_id, ticket, psk, early_data]
  validate_certs:
    description:
      - Verify the server certificate chain and that it matches O(server_name).
      - Set V(false) for test endpoints with self-signed certificates; resumption works the same either way.
    type: bool
    default: true
  ca_path:
    description: PEM file with the CA certificates to trust instead of the system's when O(validate_certs=true).
    type: path
  timeout:
    description: Seconds to wait for a connection, and for the response to O(request).
    type: float
    default: 5
  request:
    description:
      - Bytes sent after each handshake (and as early data) so that the server answers and TLS 1.3 tickets, which
        arrive after the handshake, are read. The response is read until the server closes or O(timeout).
      - Defaults to C(GET / HTTP/1.0) with a C(Host) header of O(server_name) (and the port when it is not 443).
      - V(none) sends nothing and only reads for one second, for protocols other than HTTP.
    type: str
  session_out:
    description:
      - Save the session of a full handshake with the highest version of O(tls_versions) that the server offers (set
        O(tls_versions=[TLSv1.2]) to save a TLS 1.2 session) to this file, in PEM, mode C(0600), replacing the file
        atomically.
      - The file holds the session master secret (key material). The module refuses a path whose directory is not on
        tmpfs or ramfs (for example V(/dev/shm/...) or V(/run/...)); remove the file when done.
    type: path
  session_in:
    description:
      - Resume the session saved by O(session_out) in an earlier task instead of probing with full handshakes.
        The connection uses the TLS version of the saved session. O(checks) and O(tls_versions) are ignored and
        RV(versions) is empty.
    type: path
  attempts:
    description:
      - Number of resumption attempts with one saved session, to measure resumption across the nodes behind a load
        balancer. The session is the one of O(session_in) or, without it, the one of the full handshake that
        O(session_out) describes. Reported in RV(attempts).
    type: int
    default: 1
requirements:
  - The C(openssl) command line tool (Debian package C(openssl)) unless O(checks) holds only V(session_id).
notes:
  - Saved sessions and the temporary session files of C(openssl) are key material; the temporary files live in a
    private C(0700) directory on tmpfs (V(/dev/shm), E(XDG_RUNTIME_DIR) or V(/run)) and are overwritten and removed
    before the module returns. The result never holds master secrets or ticket bytes beyond the 16-byte key name.
  - Go's C(crypto/tls) tickets (Caddy, Traefik) carry no key name; the first 16 bytes of their tickets are random.
  - Servers with tickets off still answer TLS 1.3 with stateful tickets (a 32-byte session ID for OpenSSL based servers,
    see C(ticket_length) in RV(versions)); then C(ticket_key_name) is part of that ID, not a key
    name.
seealso:
  - module: hardened_tls.resumption.ticket_key_ring
  - name: RFC 9325 section 3.4 (session resumption)
    description: Ticket keys must be changed regularly and old keys destroyed.
    link: https://www.rfc-editor.org/rfc/rfc9325#section-3.4
'''

EXAMPLES = r'''
- name: Probe resumption of the local nginx
  hardened_tls.resumption.resumption_info:
    host: 127.0.0.1
    server_name: www.example.com
  register: probe

- name: Tickets resume with both versions and early data stays off
  ansible.builtin.assert:
    that:
      - probe.versions['TLSv1.2'].ticket_resumed
      - probe.versions['TLSv1.3'].psk_resumed
      - not probe.versions['TLSv1.3'].early_data_accepted

- name: Probe a test endpoint with a self-signed certificate, TLS 1.3 only
  hardened_tls.resumption.resumption_info:
    host: node1.test
    port: 8443
    validate_certs: false
    tls_versions: [TLSv1.3]
    checks: [psk]

- name: Save a session from node 1 (memory only)
  hardened_tls.resumption.resumption_info:
    host: node1.example.com
    server_name: www.example.com
    session_out: /dev/shm/probe-session.pem
  register: before

- name: Resume it 30 times through the load balancer
  hardened_tls.resumption.resumption_info:
    host: www.example.com
    session_in: /dev/shm/probe-session.pem
    attempts: 30
  register: fleet

- name: Every node shares the ticket keys
  ansible.builtin.assert:
    that: fleet.attempts.resumed == 30

- name: Remove the saved session
  ansible.builtin.file:
    path: /dev/shm/probe-session.pem
    state: absent

- name: Probe an SMTP-over-TLS service (not HTTP)
  hardened_tls.resumption.resumption_info:
    host: mail.example.com
    port: 465
    request: none
'''

RETURN = r'''
endpoint:
  description: The endpoint probed, C(host:port).
  returned: always
  type: str
  sample: 127.0.0.1:443
server_name:
  description: The SNI name used (and checked against the certificate).
  returned: always
  type: str
  sample: www.example.com
versions:
  description:
    - One entry per version of O(tls_versions), keyed V(TLSv1.2) and V(TLSv1.3), each with the keys below.
    - Empty when O(session_in) is set.
    - Keys that do not apply to a version, or whose check did not run, are V(null).
  returned: always
  type: dict
  sample:
    TLSv1.2:
      offered: true
      error: null
      version: TLSv1.2
      cipher: ECDHE-ECDSA-AES256-GCM-SHA384
      session_id_resumed: false
      ticket_issued: true
      ticket_lifetime_hint: 300
      ticket_length: 192
      ticket_key_name: 00112233445566778899aabbccddeeff
      ticket_resumed: true
      psk_resumed: null
      max_early_data: null
      early_data: null
      early_data_accepted: null
    TLSv1.3:
      offered: true
      error: null
      version: TLSv1.3
      cipher: TLS_AES_256_GCM_SHA384
      session_id_resumed: null
      ticket_issued: true
      ticket_lifetime_hint: 300
      ticket_length: 224
      ticket_key_name: 00112233445566778899aabbccddeeff
      ticket_resumed: null
      psk_resumed: true
      max_early_data: 0
      early_data: not_sent
      early_data_accepted: false
  contains:
    offered:
      description: Whether the server completed a handshake with this version.
      returned: always
      type: bool
      sample: true
    error:
      description: Why the handshake failed when C(offered) is V(false), else V(null).
      returned: always
      type: str
      sample: "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1006)"
    version:
      description: The negotiated protocol version.
      returned: when offered
      type: str
      sample: TLSv1.3
    cipher:
      description: The negotiated cipher suite (OpenSSL name).
      returned: when offered
      type: str
      sample: TLS_AES_256_GCM_SHA384
    session_id_resumed:
      description:
        - TLS 1.2 only, check V(session_id). Whether a session resumed when the client offered its session ID and no
          ticket extension (a server-side session cache).
      returned: when offered
      type: bool
      sample: true
    ticket_issued:
      description: Whether the server sent a session ticket on the full handshake (TLS 1.3 stateful tickets count).
      returned: when offered
      type: bool
      sample: true
    ticket_lifetime_hint:
      description: The ticket lifetime hint in seconds, V(null) without a ticket.
      returned: when offered
      type: int
      sample: 300
    ticket_length:
      description:
        - Length of the ticket in bytes (V(0) without a ticket), from C(openssl sess_id). Stateless tickets are long
          (about 150 to 250 bytes), OpenSSL stateful TLS 1.3 tickets are 32 bytes.
      returned: when offered and the openssl handshake ran (checks V(ticket), V(psk) or V(early_data), or session files)
      type: int
      sample: 192
    ticket_key_name:
      description:
        - Hex of the first 16 bytes of the ticket, the name of the ticket key for OpenSSL based servers. V(null)
          without a ticket.
      returned: when offered and the openssl handshake ran
      type: str
      sample: 00112233445566778899aabbccddeeff
    ticket_resumed:
      description:
        - TLS 1.2 only, check V(ticket). Whether the session resumed from its ticket (V(false) when no ticket was
          issued).
      returned: when offered
      type: bool
      sample: true
    psk_resumed:
      description:
        - TLS 1.3 only, check V(psk). Whether the session resumed from a ticket (pre-shared key).
      returned: when offered
      type: bool
      sample: true
    max_early_data:
      description: TLS 1.3 only. The early data limit of the ticket in bytes (V(0) means no early data).
      returned: when offered and the openssl handshake ran
      type: int
      sample: 0
    early_data:
      description:
        - TLS 1.3 only, check V(early_data). What C(openssl s_client) said about the early data it tried, one of
          V(accepted), V(rejected) or V(not_sent) (the ticket allowed none).
      returned: when offered
      type: str
      sample: not_sent
    early_data_accepted:
      description: TLS 1.3 only, check V(early_data). V(true) only when the server accepted the early data.
      returned: when offered
      type: bool
      sample: false
session_out:
  description: The saved session, when O(session_out) is set; V(null) otherwise.
  returned: always
  type: dict
  sample:
    path: /dev/shm/probe-session.pem
    version: TLSv1.3
    ticket_key_name: 00112233445566778899aabbccddeeff
    ticket_length: 224
    ticket_lifetime_hint: 300
  contains:
    path:
      description: The file written (mode C(0600)).
      returned: when O(session_out) is set
      type: str
      sample: /dev/shm/probe-session.pem
    version:
      description: TLS version of the saved session.
      returned: when O(session_out) is set
      type: str
      sample: TLSv1.3
    ticket_key_name:
      description: Key name of the ticket in the saved session (V(null) without a ticket).
      returned: when O(session_out) is set
      type: str
      sample: 00112233445566778899aabbccddeeff
    ticket_length:
      description: Ticket length in bytes.
      returned: when O(session_out) is set
      type: int
      sample: 224
    ticket_lifetime_hint:
      description: Lifetime hint of the ticket in seconds.
      returned: when O(session_out) is set
      type: int
      sample: 300
session_in:
  description: The resumption of the O(session_in) session (the first attempt); V(null) without O(session_in).
  returned: always
  type: dict
  sample:
    path: /dev/shm/probe-session.pem
    version: TLSv1.3
    ticket_key_name: 00112233445566778899aabbccddeeff
    ticket_length: 224
    resumed: true
    negotiated_version: TLSv1.3
    cipher: TLS_AES_256_GCM_SHA384
  contains:
    path:
      description: The session file read.
      returned: when O(session_in) is set
      type: str
      sample: /dev/shm/probe-session.pem
    version:
      description: TLS version of the saved session, used for the connection.
      returned: when O(session_in) is set
      type: str
      sample: TLSv1.3
    ticket_key_name:
      description: Key name of the ticket offered (from the file).
      returned: when O(session_in) is set
      type: str
      sample: 00112233445566778899aabbccddeeff
    ticket_length:
      description: Length of the offered ticket in bytes.
      returned: when O(session_in) is set
      type: int
      sample: 224
    resumed:
      description: Whether the server resumed the session on the first attempt.
      returned: when O(session_in) is set
      type: bool
      sample: true
    negotiated_version:
      description: Protocol version of the connection.
      returned: when O(session_in) is set
      type: str
      sample: TLSv1.3
    cipher:
      description: Cipher suite of the connection.
      returned: when O(session_in) is set
      type: str
      sample: TLS_AES_256_GCM_SHA384
attempts:
  description:
    - Counts over O(attempts) resumptions of one session (O(session_in), or the session of the full handshake).
    - V(null) when O(session_in) is not set and O(attempts=1).
  returned: always
  type: dict
  sample:
    version: TLSv1.3
    total: 30
    resumed: 30
    new: 0
  contains:
    version:
      description: TLS version of the session.
      returned: when O(session_in) is set or O(attempts) > 1
      type: str
      sample: TLSv1.3
    total:
      description: Number of attempts.
      returned: when O(session_in) is set or O(attempts) > 1
      type: int
      sample: 30
    resumed:
      description: Attempts the server resumed.
      returned: when O(session_in) is set or O(attempts) > 1
      type: int
      sample: 30
    new:
      description: Attempts that ended in a full handshake.
      returned: when O(session_in) is set or O(attempts) > 1
      type: int
      sample: 0
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.hardened_tls.resumption.plugins.module_utils._errors import ResumptionError
from ansible_collections.hardened_tls.resumption.plugins.module_utils._probe import CHECKS, TLS_VERSIONS, probe


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type='str', required=True),
            port=dict(type='int', default=443),
            server_name=dict(type='str'),
            tls_versions=dict(type='list', elements='str', choices=list(TLS_VERSIONS),
                              default=list(TLS_VERSIONS)),
            checks=dict(type='list', elements='str', choices=list(CHECKS), default=list(CHECKS)),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            timeout=dict(type='float', default=5),
            request=dict(type='str'),
            session_out=dict(type='path'),
            session_in=dict(type='path'),
            attempts=dict(type='int', default=1),
        ),
        mutually_exclusive=[('session_in', 'session_out')],
        supports_check_mode=True,
    )
    p = module.params
    if p['attempts'] < 1:
        module.fail_json(msg='attempts must be at least 1')
    if not p['tls_versions']:
        module.fail_json(msg='tls_versions must name at least one version')
    try:
        result = probe(
            host=p['host'],
            port=p['port'],
            server_name=p['server_name'],
            tls_versions=p['tls_versions'],
            checks=p['checks'],
            validate_certs=p['validate_certs'],
            ca_path=p['ca_path'],
            timeout=p['timeout'],
            request=p['request'],
            session_out=p['session_out'],
            session_in=p['session_in'],
            attempts=p['attempts'],
            openssl_bin=module.get_bin_path('openssl'),
        )
    except ResumptionError as e:
        module.fail_json(msg=str(e))
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
