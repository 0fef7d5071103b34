"""The background worker: Huey, over Redis when REDIS_URL is set, else a SQLite file in the
instance folder (the embedded default; same tasks either way).

`flask --app app worker` runs the consumer until SIGTERM, which lets the tasks in hand finish.
The outbox rows in the database are the truth, not the queue: Huey's Redis storage pops a task
before running it, so a worker killed mid-task loses that task, and the leases in the outbox
bring the work back (app.outbox.deliveries).

Tasks:
- `pump`: for about a minute, every OUTBOX_POLL_SECONDS, renews the worker's heartbeat (every
  WORKER_HEARTBEAT_SECONDS, app.outbox.heartbeat), fans new events out (app.outbox.dispatch),
  hands due webhook deliveries to the webhook senders, each due email to `send_email` and
  each due payment action to `pay`, and every EXPIRY_SECONDS cancels the orders left unpaid
  past ORDER_PAYMENT_TIMEOUT_SECONDS; started when the consumer starts and every minute
  after, so due work waits a few seconds at most;
- `send_email(id)`: one email (app.outbox.mail); `pay(id)`: one call to the payment provider, a
  refund or a cancellation (app.payments);
- `start_missing_payments`: every minute, creates provider payments whose creation failed;
- `housekeeping`: hourly, app.platform.housekeeping.prune_expired (as `flask prune-expired` does).

Webhook attempts run on threads of their own (`WebhookSenders`), not Huey's: how long they
take is up to receivers on the internet. Each attempt is bounded (app.outbox.deliveries), only
as many deliveries are claimed as there are free senders, and a subscription has at most one
attempt in flight, so a receiver that stalls holds one sender for one attempt, while emails,
payments and expiry keep flowing on Huey's threads.
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import huey.consumer
from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab

from app.outbox.heartbeat import worker_name

PUMP_SECONDS = 55  # the next minute's pump takes over
EXPIRY_SECONDS = 5  # unpaid orders are cancelled within this of falling due
log = logging.getLogger(__name__)


class WebhookSenders:
    """A fixed number of threads that make webhook attempts (see the module docstring)."""

    def __init__(self, app: Flask, size: int):
        self.app, self.size, self.busy = app, size, 0
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(size, thread_name_prefix="webhook")

    def free(self) -> int:
        with self.lock:
            return self.size - self.busy

    def send(self, delivery_id: int) -> None:
        with self.lock:
            self.busy += 1
        self.pool.submit(self._attempt, delivery_id)

    def _attempt(self, delivery_id: int) -> None:
        from app.outbox.deliveries import attempt

        try:
            with self.app.app_context():
                attempt(delivery_id)
        except Exception:  # the lease brings the delivery back; the sender lives on
            log.exception("Webhook delivery %s: the attempt failed", delivery_id)
        finally:
            with self.lock:
                self.busy -= 1

    def stop(self) -> None:
        """Let the attempts in hand finish (each is bounded)."""
        self.pool.shutdown(wait=True)


class Consumer(huey.consumer.Consumer):
    """Huey's consumer, which also tells the pump to stop polling when it stops, and takes
    SIGTERM gracefully from its first moment."""

    def __init__(self, huey_: Huey, stopping: threading.Event, **options):
        super().__init__(huey_, **options)
        self.stopping = stopping
        # Huey sets its signal handlers only at the end of start(), once its threads run: a
        # SIGTERM just before would kill the process outright. Its handler only records the
        # signal, which the consumer's loop then acts on (a graceful stop): set it now.
        self._set_signal_handlers()

    def stop(self, graceful=False):
        self.stopping.set()
        super().stop(graceful)


def make_huey(
    app: Flask, stopping: threading.Event, senders: WebhookSenders
) -> tuple[Huey, Callable[[], object]]:
    """The queue with its tasks (each runs in an app context of `app`), and the pump task,
    which polls until `stopping` is set and hands webhook deliveries to `senders`."""
    worker = worker_name()  # this process's heartbeat row
    if app.config["REDIS_URL"]:
        queue = RedisHuey("store", url=app.config["REDIS_URL"])
    else:
        path = app.config["QUEUE_SQLITE_PATH"]  # beside the database (create_app)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        queue = SqliteHuey("store", filename=path)

    @queue.task()
    def send_email(email_id: int) -> None:
        from app.outbox.mail import send

        with app.app_context():
            send(email_id)

    @queue.task()
    def pay(action_id: int) -> None:
        from app.ordering.payments import perform

        with app.app_context():
            perform(action_id)

    @queue.task()
    def pump() -> None:
        from app.ordering.orders import expire_unpaid
        from app.ordering.payments import claim_due_actions
        from app.outbox import heartbeat, mail
        from app.outbox.deliveries import claim_due
        from app.outbox.dispatch import dispatch_events

        until = time.monotonic() + PUMP_SECONDS
        next_expiry = next_beat = time.monotonic()
        while time.monotonic() < until and not stopping.is_set():
            with app.app_context():
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + current_app.config["WORKER_HEARTBEAT_SECONDS"]
                    heartbeat.beat(worker)
                dispatch_events()
                if free := senders.free():
                    for delivery_id in claim_due(limit=free):
                        senders.send(delivery_id)
                for email_id in mail.claim_due():
                    send_email(email_id)
                for action_id in claim_due_actions():
                    pay(action_id)
                if time.monotonic() >= next_expiry:
                    next_expiry = time.monotonic() + EXPIRY_SECONDS
                    if expired := expire_unpaid():
                        log.info("%d unpaid orders expired", expired)
                pause = current_app.config["OUTBOX_POLL_SECONDS"]
            stopping.wait(pause)

    @queue.periodic_task(crontab(minute="*"))
    def pump_every_minute() -> None:
        pump.call_local()

    @queue.periodic_task(crontab(minute="*"))
    def start_missing_payments() -> None:
        from app.ordering.payments import start_missing

        with app.app_context():
            if started := start_missing():
                log.info("Payments started for %d orders", started)

    @queue.periodic_task(crontab(minute="17"))
    def housekeeping() -> None:
        from app.platform.housekeeping import prune_expired

        with app.app_context():
            log.info("%s", prune_expired())

    return queue, pump
