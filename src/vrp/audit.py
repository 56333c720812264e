"""The audit log: the one path by which every read of identifiable data, and every change to a
safeguarded list, is recorded (who, when, what, why). The table is append-only in the database.

Aggregate outputs are not audited: the log records access to people, so that a data-protection
officer reading it sees exactly who looked at whom and for what purpose, and nothing else.
"""
from __future__ import annotations

import getpass
import json
import os
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vrp.errors import VrpError
from vrp.store import AuditEvent


def current_user() -> str:
    """$VRP_USER (set by a deployment's sign-on), else the operating-system user."""
    try:
        return os.environ.get("VRP_USER") or getpass.getuser()
    except Exception:
        return "unknown"


def require_purpose(purpose: str | None) -> str:
    """Identifiable data is read for a stated purpose, or not at all."""
    if not purpose or not purpose.strip():
        raise VrpError("reading identifiable data needs a purpose: add --purpose 'why you need it' "
                       "(for example the panel meeting or DSA purpose code)")
    return purpose.strip()


def record(ws, action: str, obj: str, purpose: str, rows: int = 0, detail: dict | None = None,
           user: str | None = None, session: Session | None = None) -> None:
    """Append one event. Given a session, the event commits (or rolls back) with the caller's change."""
    event = AuditEvent(at=datetime.now(), user=user or current_user(), action=action, object=obj,
                       purpose=purpose, rows=int(rows), detail=json.dumps(detail or {}, sort_keys=True, default=str))
    if session is not None:
        session.add(event)
        return
    with Session(ws.engine) as own, own.begin():
        own.add(event)


def events(ws, action: str | None = None, limit: int | None = None) -> list[dict]:
    """The log, newest first (reading the log is itself not an identifiable read)."""
    with Session(ws.engine) as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc())
        if action:
            query = query.where(AuditEvent.action == action)
        if limit:
            query = query.limit(limit)
        return [{"id": e.id, "at": e.at.isoformat(timespec="seconds"), "user": e.user, "action": e.action,
                 "object": e.object, "purpose": e.purpose, "rows": e.rows, "detail": json.loads(e.detail)}
                for e in session.scalars(query)]
