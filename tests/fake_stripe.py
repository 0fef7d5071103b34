"""localstripe (PyPI), a fake stateful Stripe server, for the Stripe provider's tests: started
on a free loopback port with --from-scratch, stopped at the end of the session. The store
reaches it through STRIPE_API_BASE; no test reaches the internet.

localstripe keeps its state in /tmp/localstripe.pickle whatever the port (it only reads it
back without --from-scratch), accepts a subset of PaymentIntent parameters, and refunds only
intents that were really paid: `pay()` pays one as Stripe.js would, with a test card.
"""

import subprocess
import sys
import time
from pathlib import Path

import requests
import stripe

from tests.concurrency.live import free_port

SECRET_KEY = "sk_test_store"
WEBHOOK_SECRET = "whsec_test_store"
PAYING_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000341"


class FakeStripe:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        script = Path(sys.executable).parent / "localstripe"
        self.process = subprocess.Popen(
            [str(script), "--port", str(self.port), "--from-scratch"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": self.url})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.url}/v1/customers", auth=(SECRET_KEY, ""), timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("localstripe did not start")

    def settings(self) -> dict:
        return {
            "PAYMENT_PROVIDER": "stripe",
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": self.url,
        }

    def intent(self, reference: str) -> dict:
        return self.client.v1.payment_intents.retrieve(reference).to_dict()

    def pay(self, reference: str, card: str = PAYING_CARD) -> dict:
        method = self.client.v1.payment_methods.create(
            params={
                "type": "card",
                "card": {"number": card, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        )
        # localstripe confirms only an intent that already holds its payment method.
        self.client.v1.payment_intents.update(reference, params={"payment_method": method.id})
        self.client.v1.payment_intents.confirm(reference)
        deadline = time.monotonic() + 10
        while (intent := self.intent(reference))["status"] == "processing":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{reference} still processing")
            time.sleep(0.05)
        return intent

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def signed(event: dict, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> tuple:
    """The body and headers Stripe would send, signed by the stripe library's own helper."""
    import json

    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return payload, {"Stripe-Signature": header, "Content-Type": "application/json"}


def intent_event(event_id: str, event_type: str, intent: dict) -> dict:
    return {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": intent},
    }
