"""Where a webhook may be sent: the SSRF guard, at creation and again before every attempt.

Only http(s) URLs. Unless WEBHOOKS_ALLOW_PRIVATE_NETWORKS is on, the host is resolved and
every address it resolves to must be public: loopback, private, link-local (the cloud
metadata service at 169.254.169.254), reserved, multicast and unspecified addresses are
refused. The decision is made from the resolved addresses, before any connection.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = ("http", "https")


class UnsafeDestination(ValueError):
    """The reason a URL may not receive webhooks (a sentence for the 422)."""


def check_destination(url: str, *, allow_private: bool) -> None:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed [IPv6 address
        raise UnsafeDestination("Is not a valid URL.") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise UnsafeDestination("Must be an http or https URL.")
    if not parts.hostname:
        raise UnsafeDestination("Must name a host.")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise UnsafeDestination("Has an invalid port.") from None
    if allow_private:
        return
    for address in _resolve(parts.hostname, port):
        if _is_internal(address):
            raise UnsafeDestination(
                f"Resolves to {address}, a private, loopback, link-local or reserved address."
            )


def _resolve(host: str, port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeDestination(f"The host '{host}' cannot be resolved.") from None
    return {ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos}


def _is_internal(address) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )
