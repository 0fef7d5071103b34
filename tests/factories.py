"""factory_boy factories; call them inside an app context (see the fixtures in conftest)."""

from decimal import Decimal

import factory
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.platform.db import db
from app.platform.models import BuiltinRole, Product, Role, User

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
    roles = factory.LazyFunction(lambda: roles_named(BuiltinRole.CUSTOMER))


def roles_named(*names: str) -> list[Role]:
    roles = db.session.scalars(select(Role).where(Role.name.in_(names))).all()
    assert len(roles) == len(set(names)), f"unknown role among {names}"
    return list(roles)


class ProductFactory(BaseFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A fine product."
    price = Decimal("19.99")
    stock = 10
