"""Writing place tables for GIS: CSV (cell centres), GeoJSON (WGS84, as RFC 7946 requires) and
GeoPackage (British National Grid, EPSG:27700), all of which QGIS opens as they are."""
from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import numpy as np

from vrp.errors import VrpError

FORMATS = {".csv": "CSV", ".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG"}


def write_table(rows: list[dict], path: Path, polygons: np.ndarray | None = None, layer: str = "hotspots") -> Path:
    """Write rows to path in the format its suffix names. The file appears whole or not at all:
    it is written beside the target and renamed into place."""
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise VrpError(f"{path}: unknown output format '{path.suffix}' (expected .csv, .geojson or .gpkg)")
    if kind != "CSV" and polygons is None:
        raise VrpError(f"{path}: this table has no geometry; write it as .csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        if kind == "CSV":
            _write_csv(rows, Path(tmp))
        else:
            _write_geo(rows, polygons, Path(tmp), kind, layer)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        if not rows:
            return
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _write_geo(rows: list[dict], polygons: np.ndarray, path: Path, kind: str, layer: str) -> None:
    import geopandas as gpd
    import pandas as pd

    frame = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=list(polygons), crs=27700)
    if kind == "GeoJSON":
        path.unlink()  # the GeoJSON driver will not overwrite the empty placeholder
        frame.to_crs(4326).to_file(path, driver="GeoJSON", engine="pyogrio")
    else:
        path.unlink()
        frame.to_file(path, driver="GPKG", layer=layer, engine="pyogrio")
