"""The audit trail: /v1/audit."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import QueryParameter

from api.auth import allow
from api.http import Conn, CursorQ, LimitQ
from domain.audit import service as audit
from domain.audit.model import AuditPage


@get(
    "/v1/audit",
    operation_id="listAudit",
    summary="Read the audit trail",
    opt=allow(),
    tags=["Audit"],
)
async def list_audit(
    conn: Conn,
    entity: Annotated[
        str | None, QueryParameter(name="entity", required=False, description="e.g. `product`, `category`.")
    ] = None,
    code: Annotated[
        str | None, QueryParameter(name="code", required=False, description="The changed resource's code.")
    ] = None,
    actor: Annotated[
        str | None, QueryParameter(name="actor", required=False, description="The key name that wrote.")
    ] = None,
    since: Annotated[
        str | None,
        QueryParameter(
            name="since",
            required=False,
            description="Changes at or after this RFC 3339 moment with an offset, e.g. 2025-03-01T00:00:00+08:00.",
            schema_extra={"format": "date-time"},
        ),
    ] = None,
    import_id: Annotated[
        int | None,
        QueryParameter(
            name="import", required=False, ge=1, le=2**63 - 1, description="Only what this import (job id) wrote."
        ),
    ] = None,
    limit: LimitQ = 50,
    cursor: CursorQ = None,
) -> AuditPage:
    """Who changed what and when, newest first, with each changed field's value before and after; a record
    an import wrote names it (`import_id`)."""
    return await audit.list_entries(
        conn, entity=entity, code=code, actor=actor, since=since, import_id=import_id, limit=limit, cursor=cursor
    )
