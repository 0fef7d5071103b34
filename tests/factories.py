"""factory_boy factories; call them inside an app context (see the fixtures in conftest)."""

from decimal import Decimal

import factory
from werkzeug.security import generate_password_hash

from app.db import db
from app.models import Product, User

DEFAULT_PASSWORD = "correct-horse-battery"
_FAST_HASH = generate_password_hash(DEFAULT_PASSWORD, method="pbkdf2:sha256:1000")


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username.lower()}@example.com")
    password_hash = _FAST_HASH
    is_admin = False


class ProductFactory(BaseFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A fine product."
    price = Decimal("19.99")
    stock = 10
