"""The HTTP side's extension singletons, created once and bound to the app in create_app.

The database (`db`, `migrate`) is the database layer's own (app.platform.db), the mailer
the outbox's (app.outbox.mail).
"""

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.api.openapi import DocumentPlugin, schema_name
from app.api.routing import Api

jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
api = Api(spec_kwargs={"marshmallow_plugin": DocumentPlugin(schema_name_resolver=schema_name)})
