"""Where a webhook may go, and the one way there.

- `vet(url, allow_private=...)` parses the URL once (urllib3's parser, the one `post` sends
  with), resolves its host once and, unless private networks are allowed, refuses it unless
  every address is public: loopback, private, link-local (169.254.169.254), carrier-grade NAT
  (100.64.0.0/10, where a cloud metadata service lives), benchmarking, reserved, multicast and
  unspecified addresses, IPv4-mapped IPv6 addresses of any of those, and the IPv6 forms that
  carry an IPv4 address to somewhere else (6to4, Teredo, NAT64). A URL with a backslash,
  whitespace or a control character is refused outright: parsers disagree on where its host
  ends. The decision is made from the resolved addresses, before any connection.
- `post(destination, ...)` connects to the very addresses that were vetted (the Host header
  and the TLS server name keep the host name), so the guard and the client cannot disagree on
  the destination, and a DNS answer that changes after the check (rebinding) is never used.
  The attempt is bounded as a whole: a watchdog closes the socket at the deadline, whether
  the receiver stalls while connecting, before its status line or while trickling headers,
  and no body is read (the status and Retry-After are all a delivery needs).
"""

import base64
import contextlib
import http.client
import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass, replace
from urllib.parse import unquote

import certifi
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
ALLOWED_SCHEMES = ("http", "https")
REDACTED = "[redacted]"
AMBIGUOUS = re.compile(r"[\\\s\x00-\x1f\x7f]")
# Not global although `ipaddress` may call them so, or reached through a public-looking
# IPv6 address: refused whatever their flags say.
REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "198.18.0.0/15",
        "2002::/16",  # 6to4
        "2001::/32",  # Teredo
        "64:ff9b::/96",  # NAT64
        "64:ff9b:1::/48",  # local-use NAT64
        "::/96",  # IPv4-compatible (deprecated)
    )
)


class UnsafeDestination(ValueError):
    """The reason a URL may not receive webhooks (a sentence for the 422)."""


class AttemptFailed(Exception):
    """No answer: the connection failed, the receiver broke the protocol, or the deadline
    passed before its status line and headers arrived."""


@dataclass(frozen=True)
class Destination:
    """A vetted URL: where to connect and what to send there."""

    scheme: str
    host: str  # as the Host header and the TLS server name carry it (no brackets)
    port: int
    target: str  # path and query
    authorization: str | None  # from credentials in the URL
    addresses: tuple[Address, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None


def check_destination(url: str, *, allow_private: bool) -> None:
    """Raise UnsafeDestination unless `url` may receive webhooks (at creation). With private
    networks allowed (development, tests) the host need not resolve yet."""
    destination = _parse(url)
    if not allow_private:
        _vetted_addresses(destination.host, destination.port)


def vet(url: str, *, allow_private: bool) -> Destination:
    """The destination of `url`, resolved (before an attempt): post() connects only to its
    addresses."""
    destination = _parse(url)
    if allow_private:
        addresses = _resolve(destination.host, destination.port)
    else:
        addresses = _vetted_addresses(destination.host, destination.port)
    return replace(destination, addresses=addresses)


def _parse(url: str) -> Destination:
    """The URL taken apart by the one parser; no addresses yet."""
    if AMBIGUOUS.search(url):
        raise UnsafeDestination("Must not contain a backslash, whitespace or control characters.")
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError):
        raise UnsafeDestination("Is not a valid URL.") from None
    scheme = (parts.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeDestination("Must be an http or https URL.")
    if not parts.host:
        raise UnsafeDestination("Must name a host.")
    host = parts.host.strip("[]").split("%")[0]
    port = parts.port or (443 if scheme == "https" else 80)
    if not 0 < port < 65536:
        raise UnsafeDestination("Has an invalid port.")
    authorization = None
    if parts.auth:
        credentials = unquote(parts.auth).encode()
        authorization = "Basic " + base64.b64encode(credentials).decode()
    return Destination(scheme, host, port, parts.request_uri, authorization, ())


def redacted_url(url: str) -> str:
    """The URL without the secrets it may carry: its user info and its query's values."""
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError):
        return REDACTED
    query = "&".join(
        f"{pair.partition('=')[0]}={REDACTED}" for pair in (parts.query or "").split("&") if pair
    )
    return parts._replace(
        auth=REDACTED if parts.auth else None, query=query or None, fragment=None
    ).url


def _vetted_addresses(host: str, port: int) -> tuple[Address, ...]:
    addresses = _resolve(host, port)
    for address in addresses:
        if is_internal(address):
            raise UnsafeDestination(
                f"Resolves to {address}, a private, loopback, link-local or reserved address."
            )
    return addresses


def _resolve(host: str, port: int) -> tuple[Address, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeDestination(f"The host '{host}' cannot be resolved.") from None
    addresses = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return tuple(addresses)


def is_internal(address: Address) -> bool:
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or any(
            address in network for network in REFUSED_NETWORKS if network.version == address.version
        )
    )


def post(
    destination: Destination, body: bytes, headers: dict[str, str], *, deadline_seconds: float
) -> Answer:
    """POST `body` to the vetted addresses in turn until one takes the connection; the
    status line and headers must arrive within `deadline_seconds` of the start."""
    headers = {**headers, "Host": destination.host_header}
    if destination.authorization:
        headers["Authorization"] = destination.authorization
    deadline = time.monotonic() + deadline_seconds
    error: Exception | None = None
    for address in destination.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        connection = _connection(destination, address, remaining)
        cut = threading.Event()
        watchdog = threading.Timer(remaining, _cut, (connection, cut))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.connect()
        except (OSError, Urllib3Error) as failed:  # refused, unreachable, TLS refused
            error = failed
            watchdog.cancel()
            connection.close()
            continue
        try:
            # Not one byte of the body is read (urllib3 would read it whole by default).
            connection.request(
                "POST",
                destination.target,
                body=body,
                headers=headers,
                preload_content=False,
                decode_content=False,
            )
            response = connection.getresponse()
            answer = Answer(response.status, response.headers.get("Retry-After"))
            response.close()
            if cut.is_set():  # the deadline cut its headers short: no answer
                break
            return answer
        except (OSError, http.client.HTTPException, Urllib3Error) as failed:
            error = failed
            break  # the request may have arrived: no second address
        finally:
            watchdog.cancel()
            connection.close()
    if isinstance(error, TimeoutError) or time.monotonic() >= deadline:
        raise AttemptFailed(f"Timeout: no answer within {deadline_seconds:g} s.")
    raise AttemptFailed(f"{type(error).__name__}: {error}")


def _connection(destination: Destination, address: Address, timeout: float) -> HTTPConnection:
    if destination.scheme == "https":
        return HTTPSConnection(
            str(address),
            destination.port,
            timeout=timeout,
            server_hostname=destination.host,
            assert_hostname=destination.host,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
    return HTTPConnection(str(address), destination.port, timeout=timeout)


def _cut(connection: HTTPConnection, cut: threading.Event) -> None:
    """The deadline: whatever the connection waits for ends now."""
    cut.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)
