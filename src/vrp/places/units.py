"""Counting located events in units of place: the step every place analysis starts from."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vrp.errors import NothingToShow, VrpError
from vrp.places.events import Events, area_polygons, study_area
from vrp.places.grid import Units, grid_units, lsoa_units, suggest_cell_size

UNIT_KINDS = ("square", "hex", "lsoa")


@dataclass(frozen=True)
class PlaceCounts:
    """Events counted per unit: `count` (crimes) and `value` (crimes, or harm when weighted)."""
    units: Units
    events: Events
    unit_of_event: np.ndarray   # unit index of each event, -1 outside the study area
    count: np.ndarray
    value: np.ndarray

    @property
    def outside(self) -> int:
        return int((self.unit_of_event < 0).sum())

    def provenance(self) -> dict:
        u = self.units
        return {**self.events.provenance(), "unit": u.kind, "cell_metres": u.size, "units": int(u.n),
                "study_area": u.study_area, "study_area_km2": round(float(u.area_km2.sum()), 3),
                "events_outside_study_area": self.outside}

    def records(self) -> list[dict]:
        """One row per unit, zero-count units included."""
        u = self.units
        return [{"cell_id": u.ids[i], "x": round(float(u.x[i]), 1), "y": round(float(u.y[i]), 1),
                 "area_km2": round(float(u.area_km2[i]), 6), "count": int(self.count[i]),
                 "value": round(float(self.value[i]), 6)} for i in range(u.n)]


def build_units(ws, con, kind: str, cell: float | None, events: Events) -> Units:
    """The study grid (or LSOAs): bounded by the partnership boundary when loaded, else the data."""
    if kind not in UNIT_KINDS:
        raise VrpError(f"unknown unit '{kind}' (expected one of {', '.join(UNIT_KINDS)})")
    if kind == "lsoa":
        found, _ = area_polygons(con, level="lsoa")
        if found is None:
            raise VrpError("LSOA units need LSOA boundaries: run `vrp ingest reference boundaries FILE` first")
        return lsoa_units(list(found[0]), found[1])
    area, label = study_area(ws, con)
    if area is not None:
        bounds = area.bounds
    elif events.n:
        bounds = (events.x.min(), events.y.min(), events.x.max(), events.y.max())
    else:
        raise NothingToShow("no located events and no boundaries loaded, so no study area: nothing to build a grid "
                            "over (`vrp ingest reference boundaries FILE` gives the partnership's outline)")
    cell = cell or suggest_cell_size(bounds[2] - bounds[0], bounds[3] - bounds[1])
    return grid_units(kind, cell, bounds, area, study_area=label)


def count_events(units: Units, events: Events) -> PlaceCounts:
    where = units.assign_codes(events.lsoa) if units.kind == "lsoa" else units.assign(events.x, events.y)
    inside = where >= 0
    count = np.bincount(where[inside], minlength=units.n).astype(np.int64)
    value = np.bincount(where[inside], weights=events.weight[inside], minlength=units.n)
    return PlaceCounts(units, events, where, count, value)
