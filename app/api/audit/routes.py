"""The audit log, read-only: every staff write, as app.audit.services records it."""

from app.api.audit.schemas import AuditEntryPageSchema, AuditQueryArgsSchema
from app.api.auth.decorators import permission_required
from app.api.routing import Blueprint
from app.audit import services
from app.platform.models import Permission

blp = Blueprint(
    "audit",
    __name__,
    url_prefix="/api/admin/audit",
    description="Audit log: who changed what, and when",
)


@blp.get("")
@permission_required(Permission.AUDIT_READ)
@blp.arguments(AuditQueryArgsSchema, location="query")
@blp.response(200, AuditEntryPageSchema)
def list_entries(args):
    """The staff writes, newest first, optionally by actor, action or target"""
    return services.list_entries(**args)
