"""The audit log, read-only: every staff write, as app.audit.services records it."""

from app.audit import services
from app.audit.schemas import AuditEntryPageSchema, AuditQueryArgsSchema
from app.auth.decorators import permission_required
from app.platform.models import Permission
from app.routing import Blueprint

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
