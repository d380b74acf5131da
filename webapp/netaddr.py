"""This machine's own names and addresses on its networks: the hosts a class may use to reach it.

No packet is sent: "connecting" a UDP socket only asks the kernel which local
address it would use for that destination.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket

# Documentation addresses (RFC 5737, RFC 3849): routes are looked up, nothing is sent.
_PROBES = (("192.0.2.1", socket.AF_INET), ("2001:db8::1", socket.AF_INET6))


def local_addresses() -> list[str]:
    """The machine's non-loopback IP addresses, the one of its default route first."""
    found: list[str] = []
    for target, family in _PROBES:
        with contextlib.suppress(OSError), socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((target, 9))
            found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None):
            found.append(info[4][0])
    usable = []
    for address in dict.fromkeys(found):
        ip = ipaddress.ip_address(address.split("%")[0])
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local):
            usable.append(str(ip))
    return usable


def local_hosts() -> list[str]:
    """Host header values for this machine: its addresses (IPv6 in brackets) and its names."""
    hosts = [f"[{a}]" if ":" in a else a for a in local_addresses()]
    with contextlib.suppress(OSError):
        name = socket.gethostname()
        if name and name != "localhost":
            hosts += [name, f"{name}.local"]  # mDNS, as most laptops announce themselves
    return list(dict.fromkeys(hosts))
