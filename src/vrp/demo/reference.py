"""Reference files for the synthetic partnership, in the layouts of the real published files.

Each writer copies the layout of the file a partnership would really load (ONS LSOA lookup and
boundaries, Census 2021 age table, IMD 2019 ranks), so `vrp ingest reference` is exercised exactly
as it is with real data.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from vrp.demo.geography import AGE_GROUPS, DISTRICTS, Geography, decile, imd_ranks, to_wgs84
from vrp.demo.table import write_csv

LOOKUP_HEADER = ("LSOA21CD", "LSOA21NM", "LADCD", "LADNM")
POPULATION_HEADER = ("lsoa21_code", "lsoa21_name", "age_group", "usual_residents")
IMD_DOMAINS = ("index_of_multiple_deprivation_imd", "income", "employment",
               "education_skills_and_training", "health_deprivation_and_disability", "crime",
               "barriers_to_housing_and_services", "living_environment")
IMD_HEADER = (("lsoa11_code", "lsoa11_name", "lad19_code", "lad19_name")
              + tuple(f"{d}_rank" for d in IMD_DOMAINS) + tuple(f"{d}_decile" for d in IMD_DOMAINS))


def write_lookup(geo: Geography, path: Path) -> int:
    """LSOA 2021 -> local authority lookup (the first four columns of the ONS/HIPS lookup)."""
    values = (geo.code, geo.name, geo.district_codes(), geo.district_names())
    return write_csv(path, LOOKUP_HEADER, dict(zip(LOOKUP_HEADER, values)))


def write_population(geo: Geography, path: Path) -> int:
    """Census 2021 usual residents, one row per LSOA and age group."""
    n, k = geo.population.shape
    values = (np.repeat(geo.code, k), np.repeat(geo.name, k), np.tile(np.array(AGE_GROUPS), n),
              geo.population.reshape(-1))
    return write_csv(path, POPULATION_HEADER, dict(zip(POPULATION_HEADER, values)))


def write_deprivation(rng: np.random.Generator, geo: Geography, path: Path) -> int:
    """IMD 2019 ranks and deciles (20 columns); the demo's LSOA codes stand in for 2011 codes."""
    ranks = imd_ranks(rng, geo)
    columns = {"lsoa11_code": geo.code, "lsoa11_name": geo.name,
               "lad19_code": geo.district_codes(), "lad19_name": geo.district_names()}
    columns |= {f"{d}_rank": ranks[d] for d in IMD_DOMAINS}
    columns |= {f"{d}_decile": decile(ranks[d]) for d in IMD_DOMAINS}
    return write_csv(path, IMD_HEADER, columns)


def write_boundaries(geo: Geography, path: Path) -> int:
    """LSOA polygons as GeoJSON (WGS84, 6 d.p.), properties LSOA21CD, LSOA21NM, LADCD, LADNM.

    Written by hand rather than through a GIS driver so the bytes depend only on the seed."""
    corners = geo.corners.reshape(-1, 2)
    lon, lat = to_wgs84(corners[:, 0], corners[:, 1])
    ring = np.stack([np.round(lon, 6), np.round(lat, 6)], axis=1).reshape(geo.n, 4, 2)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)  # close each ring
    features = [{
        "type": "Feature",
        "properties": {"LSOA21CD": str(geo.code[i]), "LSOA21NM": str(geo.name[i]),
                       "LADCD": DISTRICTS[geo.district[i]].code, "LADNM": DISTRICTS[geo.district[i]].name},
        "geometry": {"type": "Polygon", "coordinates": [ring[i].tolist()]},
    } for i in range(geo.n)]
    doc = {"type": "FeatureCollection", "name": "wessex_lsoa21", "features": features}
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    return geo.n
