"""Email end to end: a real worker process sends through a real SMTP server (aiosmtpd) on
loopback; without MAIL_SERVER it writes .eml files instead."""

import email
import email.policy
import re
import socket

import pytest
from aiosmtpd.controller import Controller

from tests.concurrency.worker import wait_for

NEW_PASSWORD = "staple-battery-horse-correct"


class Inbox:
    """aiosmtpd's handler: keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def forgot(client, address):
    return client.post("/api/auth/password/forgot", json={"email": address})


def mail_settings(controller) -> dict:
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(controller.port)}


def test_order_emails_reach_the_customer(client, auth, make_product, smtp, start_worker):
    controller, inbox = smtp
    customer = auth.customer_user
    start_worker(**mail_settings(controller))
    product = make_product(stock=5, name="Coffee mug", price="19.99")
    line = {"product_id": product.id, "quantity": 2}
    assert client.post("/api/cart", json=line, headers=customer.headers).status_code == 200
    order = client.post("/api/orders", headers=customer.headers).get_json()
    assert (
        client.post(f"/api/orders/{order['id']}/cancel", headers=customer.headers).status_code
        == 200
    )

    wait_for(lambda: len(inbox.to(customer.email)) == 2, what="two emails")
    subjects = sorted(message["Subject"] for message in inbox.to(customer.email))
    assert subjects == [f"Order {order['id']} cancelled", f"Order {order['id']} confirmed"]
    confirmation = next(m for m in inbox.messages if "confirmed" in m["Subject"])
    body = confirmation.get_content()
    assert "2 x Coffee mug at 19.99 = 39.98" in body and "Total: 39.98" in body


def test_a_password_reset_end_to_end(client, auth, smtp, start_worker):
    controller, inbox = smtp
    customer = auth.customer_user
    start_worker(**mail_settings(controller))
    assert (
        client.post("/api/auth/password/forgot", json={"email": customer.email}).status_code == 202
    )
    assert (
        client.post("/api/auth/password/forgot", json={"email": "nobody@example.com"}).status_code
        == 202
    )

    [message] = wait_for(lambda: inbox.to(customer.email), what="the reset email")
    token = re.search(r"token=([\w-]+)", message.get_content()).group(1)
    response = client.post(
        "/api/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=customer.headers).status_code == 401
    again = client.post(
        "/api/auth/password/reset", json={"token": token, "new_password": NEW_PASSWORD + "2"}
    )
    assert again.status_code == 422
    assert [m["To"] for m in inbox.messages] == [customer.email]  # nothing for the unknown one


def test_without_a_mail_server_messages_land_in_the_mail_folder(
    client, auth, start_worker, tmp_path
):
    folder = tmp_path / "mail"
    start_worker(MAIL_FOLDER=str(folder))
    customer = auth.customer_user
    assert (
        client.post("/api/auth/password/forgot", json={"email": customer.email}).status_code == 202
    )

    [path] = wait_for(lambda: list(folder.glob("*.eml")), what="the .eml file")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert (message["To"], message["Subject"]) == (customer.email, "Reset your password")
    assert "token=" in message.get_content()
