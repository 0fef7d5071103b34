"""The webhook guard and the one client behind it (app.outbox.destinations): they agree on
the destination for every URL, connect only to the addresses they vetted (no DNS rebinding),
refuse every non-public range, and bound an attempt in total time and in what they read.

Nothing here connects anywhere but loopback: names resolve through a fake resolver, and
connections to anything else are recorded and refused before a packet leaves."""

import ipaddress
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from urllib3.connection import HTTPConnection

from app.outbox import destinations
from app.outbox.deliveries import attempt, claim_due
from app.outbox.destinations import AttemptFailed, UnsafeDestination, post, vet
from app.outbox.dispatch import dispatch_events
from app.platform.models import WebhookAttempt
from tests.concurrency.worker import Receiver, wait_for
from tests.helpers import assert_problem

PUBLIC = "93.184.215.14"  # what public names resolve to here (never contacted)
# name -> the address the fake resolver gives it
NAMES = {
    "public.example": PUBLIC,
    "internal.example": "127.0.0.1",
    "metadata.example": "169.254.169.254",
    "cgnat.example": "100.100.100.200",
}

INTERNAL_ADDRESSES = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.20",
    "169.254.169.254",
    "100.64.0.1",  # carrier-grade NAT
    "100.100.100.200",  # a cloud metadata service inside it
    "0.1.2.3",
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fd00::1",
    "ff02::1",
    "::ffff:10.0.0.1",
    "::ffff:100.64.0.1",
    "::ffff:127.0.0.1",
    "::10.0.0.1",  # IPv4-compatible
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:7f00:1::1",  # 6to4 of 127.0.0.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",
]
PUBLIC_ADDRESSES = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.fixture
def resolver(monkeypatch):
    """Names resolve as NAMES says (IP literals as themselves); `answers[name]` overrides
    with a list of answers, one per lookup (for rebinding)."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        host = host.decode() if isinstance(host, bytes) else host
        if answers.get(host):
            address = answers[host].pop(0)
        elif host in NAMES:
            address = NAMES[host]
        else:
            return real(host, port, *args, **kwargs)  # IP literals (no lookup)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.fixture
def connections(monkeypatch):
    """Where the client connects: loopback really, anything else recorded and refused."""
    made: list[str] = []
    real_new_conn = HTTPConnection._new_conn  # opens the socket, for http and https alike

    def new_conn(self):
        made.append(self.host)
        if not ipaddress.ip_address(self.host).is_loopback:
            raise ConnectionRefusedError("tests never leave loopback")
        return real_new_conn(self)

    monkeypatch.setattr(HTTPConnection, "_new_conn", new_conn)
    return made


# --- the guard ------------------------------------------------------------------------------


@pytest.mark.parametrize("address", INTERNAL_ADDRESSES)
def test_every_non_public_range_is_refused(resolver, address):
    resolver["target.example"] = [address]
    with pytest.raises(UnsafeDestination, match="private, loopback"):
        vet("https://target.example/hooks", allow_private=False)
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(UnsafeDestination):
        vet(f"http://{literal}/hooks", allow_private=False)


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed(resolver, address):
    resolver["target.example"] = [address]
    assert vet("https://target.example/hooks", allow_private=False).addresses


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:18130\\@93.184.215.14/x",
        "http://public.example\\@internal.example/",
        "http://public.example /x",
        "http://public.example/\tx",
        "http://public.example/x\r\nHost: internal.example",
        "http://public.example/\x00",
    ],
)
def test_ambiguous_urls_are_refused_outright(resolver, url):
    """Parsers disagree on where the host of these ends: none is sent anywhere."""
    for allow_private in (False, True):
        with pytest.raises(UnsafeDestination, match=r"backslash|valid URL"):
            vet(url, allow_private=allow_private)


def test_the_backslash_bypass_is_a_422_at_creation(make_app, auth):
    client = make_app(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False).test_client()
    response = client.post(
        "/api/admin/webhooks",
        json={"url": "http://127.0.0.1:18130\\@8.8.8.8/x", "events": ["order.created"]},
        headers=auth.admin,
    )
    assert_problem(response, 422, "url")


# Pieces a URL is made of, including the ones that confuse parsers.
HOSTS = ["public.example", "internal.example", "metadata.example", "cgnat.example",
         "93.184.215.14", "127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "10.0.0.1"]  # fmt: skip
USERINFO = ["", "user@", "user:pass@", "a%40b@", "public.example@", "internal.example@",
            "u:p@public.example@", "127.0.0.1:80@"]  # fmt: skip
PATHS = ["", "/", "/x", "/@internal.example", "/?a=@127.0.0.1", "#@internal.example",
         "/%2F%2Finternal.example", "/;@127.0.0.1", ":80/x", ":8080"]  # fmt: skip


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    scheme=st.sampled_from(["http", "https", "HTTP"]),
    userinfo=st.sampled_from(USERINFO),
    host=st.sampled_from(HOSTS),
    tail=st.sampled_from(PATHS),
)
def test_the_client_connects_only_where_the_guard_looked(
    resolver, connections, scheme, userinfo, host, tail
):
    """For every URL the guard lets through, the client connects to an address the guard
    vetted, and only to a public one."""
    url = f"{scheme}://{userinfo}{host}{tail}"
    connections.clear()
    try:
        destination = vet(url, allow_private=False)
    except UnsafeDestination:
        return
    with pytest.raises(AttemptFailed):
        post(destination, b"{}", {}, deadline_seconds=1)
    assert connections, url
    for address in connections:
        assert ipaddress.ip_address(address) in destination.addresses, url
        assert not destinations.is_internal(ipaddress.ip_address(address)), url


def test_a_name_that_rebinds_after_the_check_is_not_followed(resolver, connections):
    """The name answers a public address to the guard, then loopback: the client never
    asks again, it connects to what was vetted."""
    resolver["rebind.example"] = [PUBLIC, "127.0.0.1", "127.0.0.1"]
    destination = vet("http://rebind.example/hooks", allow_private=False)
    with pytest.raises(AttemptFailed):
        post(destination, b"{}", {}, deadline_seconds=1)
    assert connections == [PUBLIC]


def test_host_header_and_credentials_come_from_the_url(resolver):
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.update(self.headers.items(), path=self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        resolver["hooks.example"] = ["127.0.0.1"]
        url = f"http://us%40er:p%3Ass@hooks.example:{server.server_port}/in?k=v#frag"
        answer = post(vet(url, allow_private=True), b"{}", {"X-A": "1"}, deadline_seconds=2)
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 204
    assert seen["Host"] == f"hooks.example:{server.server_port}"
    assert seen["Authorization"] == "Basic dXNAZXI6cDpzcw=="  # us@er:p:ss
    assert seen["path"] == "/in?k=v"


# --- bounded attempts -----------------------------------------------------------------------


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def test_a_trickling_receiver_costs_one_deadline(receiver):
    receiver.plans["/slow"] = [("trickle", 10)]
    destination = vet(receiver.url("/slow"), allow_private=True)
    started = time.monotonic()
    with pytest.raises(AttemptFailed, match="Timeout"):
        post(destination, b"{}", {}, deadline_seconds=1)
    assert 0.9 < time.monotonic() - started < 2


def test_a_flooding_receiver_is_not_read(receiver):
    """Status and headers are all a delivery needs: a 300 MB answer costs nothing."""
    receiver.plans["/flood"] = [("flood", 300 * 2**20)]
    destination = vet(receiver.url("/flood"), allow_private=True)
    answer = post(destination, b"{}", {}, deadline_seconds=5)
    assert answer.status == 200
    wait_for(lambda: receiver.flooded, timeout=10, what="the receiver to give up")
    # What the sockets' buffers took before the sender hung up, not the 300 MB.
    assert receiver.flooded[0] < 32 * 2**20


def test_the_delivery_log_records_the_refusal_and_nothing_is_sent(
    make_app, auth, receiver, make_product, query
):
    """A subscription made while private networks were allowed: once they are not, the
    worker refuses it at delivery, and the receiver on loopback sees nothing."""
    client = make_app().test_client()
    url = receiver.url("/hooks")
    created = client.post(
        "/api/admin/webhooks", json={"url": url, "events": ["order.created"]}, headers=auth.admin
    )
    assert created.status_code == 201
    product = make_product(stock=3)
    line = {"product_id": product.id, "quantity": 1}
    assert client.post("/api/cart", json=line, headers=auth.customer).status_code == 200
    assert client.post("/api/orders", headers=auth.customer).status_code == 201

    strict = make_app(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False)
    with strict.app_context():
        dispatch_events()
        for delivery_id in claim_due():
            attempt(delivery_id)
    [logged] = query(lambda s: s.scalars(select(WebhookAttempt)).all())
    assert logged.status_code is None and "private, loopback" in logged.error
    assert receiver.received == []


def test_a_receiver_that_cannot_be_reached_is_a_failed_attempt():
    """Refused connections and TLS that does not verify are answers of no one: the attempt
    fails (and is retried), it never escapes as an error of the worker."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    with pytest.raises(AttemptFailed, match="refused"):
        post(vet(f"http://127.0.0.1:{port}/x", allow_private=True), b"{}", {}, deadline_seconds=2)


def test_https_to_a_receiver_without_a_valid_certificate_fails(receiver):
    """A plain-HTTP server answering a TLS handshake: no certificate, no delivery."""
    url = receiver.url("/tls").replace("http://", "https://")
    with pytest.raises(AttemptFailed):
        post(vet(url, allow_private=True), b"{}", {}, deadline_seconds=2)
    assert receiver.received == []
