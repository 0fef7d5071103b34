"""Extension singletons, created once and bound to the app in create_app.

The database (`db`) is the database layer's own: app.platform.db.
"""

from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_mail import Mail
from flask_migrate import Migrate

from app.openapi import DocumentPlugin, schema_name
from app.routing import Api

migrate = Migrate(render_as_batch=True, compare_type=True)
jwt = JWTManager()
limiter = Limiter(key_func=get_remote_address)
mail = Mail()
api = Api(spec_kwargs={"marshmallow_plugin": DocumentPlugin(schema_name_resolver=schema_name)})
