"""Stores apart: the embedded queue and the mail folder are the database's own (create_app),
so two stores side by side (another DATABASE_URL) never share jobs or mail."""

from pathlib import Path

import pytest

from app import create_app
from app.outbox import mail
from app.platform.db import db
from app.worker import make_huey

UNSET = {"QUEUE_SQLITE_PATH": None, "MAIL_FOLDER": None, "REDIS_URL": None}


def store(url: str, **settings):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, **UNSET, **settings})


def files(app) -> tuple[str, str]:
    return app.config["QUEUE_SQLITE_PATH"], app.config["MAIL_FOLDER"]


def test_a_sqlite_store_keeps_its_queue_and_mail_beside_its_file(tmp_path):
    app = store(f"sqlite:///{tmp_path / 'shop.db'}")

    assert files(app) == (str(tmp_path / "shop.queue.db"), str(tmp_path / "shop.mail"))


def test_the_default_store_keeps_them_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": None, **UNSET})
    instance = Path(app.instance_path)

    assert files(app) == (str(instance / "store.queue.db"), str(instance / "store.mail"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("sqlite:///{tmp}/one.db", "sqlite:///{tmp}/two.db"),
        ("postgresql+psycopg://shop@db:5432/one", "postgresql+psycopg://shop@db:5432/two"),
        ("postgresql+psycopg://shop@db-a:5432/shop", "postgresql+psycopg://shop@db-b:5432/shop"),
    ],
)
def test_two_stores_never_share_a_queue_or_a_mail_folder(tmp_path, first, second):
    one = store(first.format(tmp=tmp_path))
    two = store(second.format(tmp=tmp_path))

    assert set(files(one)).isdisjoint(files(two))


def test_the_same_database_finds_the_same_files_and_no_password_in_them(tmp_path):
    one = store("postgresql+psycopg://shop:s3cret@db:5432/shop")
    again = store("postgresql+psycopg://shop:other@db:5432/shop")

    assert files(one) == files(again)
    assert Path(one.config["QUEUE_SQLITE_PATH"]).name.startswith("shop-")
    assert "s3cret" not in "".join(files(one))


def test_settings_given_are_kept(tmp_path):
    app = store(
        f"sqlite:///{tmp_path / 'shop.db'}",
        QUEUE_SQLITE_PATH=str(tmp_path / "q.db"),
        MAIL_FOLDER=str(tmp_path / "letters"),
    )

    assert files(app) == (str(tmp_path / "q.db"), str(tmp_path / "letters"))


def test_each_store_s_worker_and_mail_use_its_own_files(tmp_path):
    """Two migrated stores: the worker's queue and the written email go to each one's files."""
    import flask_migrate

    one, two = store(f"sqlite:///{tmp_path / 'one.db'}"), store(f"sqlite:///{tmp_path / 'two.db'}")
    for app in (one, two):
        with app.app_context():
            flask_migrate.upgrade()
    queues = [make_huey(app, None, None)[0].storage.filename for app in (one, two)]
    with one.app_context():
        mail.queue_email("ada@example.com", "Hello", "One store's mail.")
        db.session.commit()
        [email_id] = mail.claim_due()
        mail.send(email_id)

    assert queues == [str(tmp_path / "one.queue.db"), str(tmp_path / "two.queue.db")]
    assert len(list((tmp_path / "one.mail").glob("*.eml"))) == 1
    assert not (tmp_path / "two.mail").exists()
