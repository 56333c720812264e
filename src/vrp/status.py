"""What the workspace holds (`vrp status`): datasets, periods, rows and as-at dates."""
from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from vrp.lake import current_snapshots
from vrp.store import Dataset, IngestRun, QuarantineRow, Snapshot


def workspace_status(ws) -> dict:
    current = current_snapshots(ws)
    # As at a date, only the runs (and their snapshots and quarantine) of that date or before count.
    known = (IngestRun.as_at <= ws.as_at) if ws.as_at is not None else true()
    with Session(ws.engine) as session:
        register = {d.name: d for d in session.scalars(select(Dataset))}
        all_snaps = dict(session.execute(select(Snapshot.dataset, func.count()).join(IngestRun, Snapshot.run_id == IngestRun.id)
                                         .where(known).group_by(Snapshot.dataset)).all())
        runs = dict(session.execute(select(IngestRun.dataset, func.count()).where(known).group_by(IngestRun.dataset)).all())
        quarantined = dict(session.execute(
            select(IngestRun.dataset, func.count(QuarantineRow.id)).join(QuarantineRow).where(known)
            .group_by(IngestRun.dataset)).all())
        last_run = dict(session.execute(select(IngestRun.dataset, func.max(IngestRun.finished_at)).where(known)
                                        .group_by(IngestRun.dataset)).all())
    datasets = []
    for name, info in sorted(register.items()):
        snaps = [s for s in current if s.dataset == name]
        periods = sorted({s.period for s in snaps})
        datasets.append({
            "dataset": name, "description": info.description, "classification": info.classification,
            "access_tier": info.access_tier, "personal_data": info.personal_data,
            "sources": sorted({s.source for s in snaps}), "periods": len(periods),
            "period_from": periods[0] if periods else None, "period_to": periods[-1] if periods else None,
            "rows": sum(s.rows for s in snaps), "rows_quarantined": quarantined.get(name, 0),
            "as_at_from": min((s.as_at for s in snaps), default=None),
            "as_at_to": max((s.as_at for s in snaps), default=None),
            "snapshots_current": len(snaps), "snapshots_superseded": all_snaps.get(name, 0) - len(snaps),
            "ingest_runs": runs.get(name, 0), "last_loaded": last_run.get(name),
        })
    for d in datasets:
        for k in ("as_at_from", "as_at_to", "last_loaded"):
            d[k] = d[k].isoformat() if d[k] else None
    result = {"workspace": str(ws.root), "partnership": ws.partnership_name, "datasets": datasets}
    if not any(d["snapshots_current"] for d in datasets):
        result["note"] = NOTHING_LOADED
    return result


NOTHING_LOADED = ("nothing loaded yet: load police.uk files with `vrp ingest police-uk FILES` (or a force extract with "
                  "`vrp ingest police-extract FILES --mapping NAME`) and the LSOA lookup with "
                  "`vrp ingest reference lsoa-lookup FILE` (README.md, 'Quick start')")


def quarantine_rows(ws, limit: int = 50) -> list[dict]:
    """The most recent quarantined rows, newest run first, in file and line order."""
    from vrp.store import SourceFile

    with Session(ws.engine) as session:
        rows = session.execute(
            select(IngestRun.dataset, SourceFile.name, QuarantineRow.line, QuarantineRow.field, QuarantineRow.reason,
                   QuarantineRow.raw)
            .join(SourceFile, QuarantineRow.file_id == SourceFile.id).join(IngestRun, QuarantineRow.run_id == IngestRun.id)
            .order_by(IngestRun.id.desc(), SourceFile.name, QuarantineRow.line).limit(limit)).all()
    return [{"dataset": d, "file": f, "line": line, "field": fld, "reason": r, "row": raw} for d, f, line, fld, r, raw in rows]
