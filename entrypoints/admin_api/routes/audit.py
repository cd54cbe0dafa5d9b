from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from application.admin.audit_log import ListAuditLog
from entrypoints.admin_api.auth import Admin
from entrypoints.admin_api.openapi import ADMIN, errors
from entrypoints.admin_api.schemas import (
    AuditEntryView,
    AuditPageView,
    InvalidCursor,
    encode_cursor,
    seq_cursor,
)
from entrypoints.http_edge.error_codes import INVALID_REQUEST
from entrypoints.wiring.di import Injected


@get("/audit", responses=errors(ADMIN, INVALID_REQUEST, InvalidCursor), tags=["audit"],
     summary="Every admin action, newest first (cursor pages)")
async def audit_log(
    list_audit_log: Injected[ListAuditLog], admin: Admin,
    action: Annotated[str | None, QueryParameter(max_length=64)] = None,
    target_id: Annotated[str | None, QueryParameter(max_length=300)] = None,
    cursor: Annotated[str | None, QueryParameter(max_length=100)] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> AuditPageView:
    """Every admin action (who, what, on which user or image, when), newest first, a page at a time;
    follow `next` for older entries."""
    page = await list_audit_log(limit, seq_cursor(cursor), action or None, target_id or None)
    return AuditPageView([AuditEntryView.of(e) for e in page.entries],
                         encode_cursor(page.next) if page.next is not None else None)
