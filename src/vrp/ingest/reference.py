"""Reference data: LSOA -> district lookups, boundaries, population by age band, deprivation."""
from __future__ import annotations

import re
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vrp.errors import InputError
from vrp.ingest.checks import Check, apply_checks, blank, null_if_blank, parse_number
from vrp.ingest.files import expand_paths, read_header, sha256_file
from vrp.ingest.load import ingest_files, summarise
from vrp.lake import FileLoad, Load
from vrp.lake.write import known_hashes

KINDS = ("lsoa-lookup", "boundaries", "population", "deprivation")
LSOA_CODE = r"^[EW]0\d{7}$"
AREA_CODE = r"^[EWSN]\d{8}$"


def _find(header: list[str], patterns: list[str]) -> str | None:
    for pattern in patterns:
        for name in header:
            if re.fullmatch(pattern, name.strip(), flags=re.IGNORECASE):
                return name
    return None


def _require(path: Path, header: list[str], wanted: dict[str, list[str]]) -> dict[str, str]:
    found = {}
    for role, patterns in wanted.items():
        name = _find(header, patterns)
        if name is None:
            raise InputError(path, f"no {role} column (looked for {', '.join(patterns)}); header: {', '.join(header)}", line=1)
        found[role] = name
    return found


def _unique_rows(table: pa.Table, keys: list[str]) -> np.ndarray:
    """Mask of rows whose key has not been seen earlier in the table."""
    index = pa.table({k: table.column(k) for k in keys}).append_column("_i", pa.array(np.arange(table.num_rows)))
    first = index.group_by(keys).aggregate([("_i", "min")]).column("_i_min").to_numpy()
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[first] = True
    return mask


# ---- LSOA -> district lookup -----------------------------------------------------------------

LOOKUP_SCHEMA = pa.schema([("lsoa_code", pa.string()), ("lsoa_name", pa.string()), ("district_code", pa.string()),
                           ("district_name", pa.string()), ("vintage", pa.string()), ("source_file", pa.string()),
                           ("ingest_run", pa.string()), ("as_at", pa.date32())])
LOOKUP_COLUMNS = {"LSOA code": [r"LSOA\d\dCD", "lsoa\\d\\d_code", "lsoa_code"],
                  "LSOA name": [r"LSOA\d\dNM", "lsoa\\d\\d_name", "lsoa_name"],
                  "district code": ["LADCD", r"LAD\d\dCD", "LAD_CODE", "district_code"],
                  "district name": ["LADNM", r"LAD\d\dNM", "LAD_NAME", "district_name"]}


def lookup_vintage(header_name: str, override: str | None) -> str:
    if override:
        return override
    match = re.search(r"(\d\d)", header_name)
    if not match:
        return "2021"
    return "20" + match.group(1)


def _normalise_lookup(batch: pa.RecordBatch, as_at: date, cols: dict[str, str], vintage: str):
    table = pa.table({"lsoa_code": pc.utf8_upper(null_if_blank(batch.column(cols["LSOA code"]))),
                      "lsoa_name": null_if_blank(batch.column(cols["LSOA name"])),
                      "district_code": pc.utf8_upper(null_if_blank(batch.column(cols["district code"]))),
                      "district_name": null_if_blank(batch.column(cols["district name"])),
                      "vintage": pa.array([vintage] * batch.num_rows, pa.string())})
    checks = [Check(cols["LSOA code"], pc.invert(pc.fill_null(pc.match_substring_regex(table["lsoa_code"], LSOA_CODE), False)),
                    "{value!r} is not an LSOA code"),
              Check(cols["district code"], pc.invert(pc.fill_null(pc.match_substring_regex(table["district_code"], AREA_CODE), False)),
                    "{value!r} is not a local authority code"),
              Check(cols["LSOA code"], pa.array(~_unique_rows(table, ["lsoa_code"])), "LSOA code {value!r} appears twice")]
    good, failures = apply_checks(batch, checks)
    return table.filter(pa.array(good)), good, failures


def ingest_lsoa_lookup(ws, path: Path, vintage: str | None = None, as_at: date | None = None) -> dict:
    header = read_header(path)
    cols = _require(path, header, LOOKUP_COLUMNS)
    vintage = lookup_vintage(cols["LSOA code"], vintage)
    return ingest_files(ws, "lsoa_lookup", LOOKUP_SCHEMA, [path], columns=header, check_header=lambda p, h: None,
                        normalise=partial(_normalise_lookup, cols=cols, vintage=vintage),
                        partition=lambda t: [("lookup", vintage, t)], as_at=as_at,
                        command=f"ingest reference lsoa-lookup (LSOA {vintage})")


# ---- Population by LSOA and age band (Census 2021 layout) ------------------------------------

POPULATION_SCHEMA = pa.schema([("lsoa_code", pa.string()), ("lsoa_name", pa.string()), ("age_band", pa.string()),
                               ("age_min", pa.int16()), ("age_max", pa.int16()), ("population", pa.int64()),
                               ("year", pa.int16()), ("source_file", pa.string()), ("ingest_run", pa.string()),
                               ("as_at", pa.date32())])
POPULATION_COLUMNS = {"LSOA code": [r"lsoa\d\d_code", r"LSOA\d\dCD", "lsoa_code"],
                      "LSOA name": [r"lsoa\d\d_name", r"LSOA\d\dNM", "lsoa_name"],
                      "age group": ["age_group", "age_band", "age"],
                      "population": ["usual_residents", "population", "count", "observation"]}


def parse_age_band(label: str) -> tuple[int, int]:
    """'Aged 16 to 24 years' -> (16, 24); 'Aged 15 years and under' -> (0, 15); 'Aged 65 years and over' -> (65, 120)."""
    text = label.lower()
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    if len(numbers) == 2 and ("to" in text or "-" in text):
        return numbers[0], numbers[1]
    if len(numbers) == 1 and ("under" in text or "less" in text):
        return 0, numbers[0] - (0 if "and under" in text else 1)
    if len(numbers) == 1 and ("over" in text or "+" in text or "more" in text):
        return numbers[0] + (0 if "and over" in text or "+" in text else 1), 120
    raise ValueError(label)


def _normalise_population(batch: pa.RecordBatch, as_at: date, cols: dict[str, str], year: int):
    labels = pc.utf8_trim_whitespace(batch.column(cols["age group"]))
    bands = {}
    for label in pc.unique(labels).to_pylist():
        try:
            bands[label] = parse_age_band(label)
        except ValueError:
            pass
    index = pc.index_in(labels, value_set=pa.array(list(bands), pa.string()))
    known = pc.is_valid(index)
    lows = pc.take(pa.array([b[0] for b in bands.values()], pa.int16()), index)
    highs = pc.take(pa.array([b[1] for b in bands.values()], pa.int16()), index)
    count, bad = parse_number(batch.column(cols["population"]))
    code = pc.utf8_upper(null_if_blank(batch.column(cols["LSOA code"])))
    checks = [Check(cols["LSOA code"], pc.invert(pc.fill_null(pc.match_substring_regex(code, LSOA_CODE), False)), "{value!r} is not an LSOA code"),
              Check(cols["age group"], pc.invert(known), "age group {value!r} has no recognisable age range"),
              Check(cols["population"], pc.or_(bad, blank(batch.column(cols["population"]))), "population {value!r} is not a number"),
              Check(cols["population"], pc.fill_null(pc.or_(pc.less(count, 0), pc.not_equal(count, pc.floor(count))), False),
                    "population {value!r} is not a whole number of people")]
    good, failures = apply_checks(batch, checks)
    band_text = pc.binary_join_element_wise(pc.cast(lows, pa.string()), pc.cast(highs, pa.string()), "-")
    table = pa.table({"lsoa_code": code, "lsoa_name": null_if_blank(batch.column(cols["LSOA name"])),
                      "age_band": band_text, "age_min": lows, "age_max": highs,
                      "population": pc.cast(pc.fill_null(count, 0), pa.int64()),
                      "year": pa.array(np.full(batch.num_rows, year, dtype=np.int16))})
    return table.filter(pa.array(good)), good, failures


def ingest_population(ws, path: Path, year: int = 2021, as_at: date | None = None) -> dict:
    header = read_header(path)
    cols = _require(path, header, POPULATION_COLUMNS)
    return ingest_files(ws, "population", POPULATION_SCHEMA, [path], columns=header, check_header=lambda p, h: None,
                        normalise=partial(_normalise_population, cols=cols, year=year),
                        partition=lambda t: [("census", str(year), t)], as_at=as_at,
                        command=f"ingest reference population ({year})")


# ---- Deprivation (English IMD 2019 by LSOA 2011) ---------------------------------------------

IMD_DOMAINS = ("imd", "income", "employment", "education_skills_and_training", "health_deprivation_and_disability",
               "crime", "barriers_to_housing_and_services", "living_environment")
DEPRIVATION_SCHEMA = pa.schema([("lsoa_code", pa.string()), ("lsoa_name", pa.string())]
                               + [(f"{d}_{m}", pa.int32()) for d in IMD_DOMAINS for m in ("rank", "decile")]
                               + [("year", pa.int16()), ("source_file", pa.string()), ("ingest_run", pa.string()),
                                  ("as_at", pa.date32())])


def _imd_column(header: list[str], domain: str, measure: str) -> str | None:
    if domain == "imd":
        return _find(header, [rf"(index_of_multiple_deprivation_)?imd_{measure}", rf"index of multiple deprivation \(imd\) {measure}.*"])
    return _find(header, [rf"{domain}_{measure}", rf"{domain.replace('_', '[ ,]+')}.*{measure}.*"])


def _normalise_deprivation(batch: pa.RecordBatch, as_at: date, cols: dict[str, str], measures: dict[str, str], year: int):
    code = pc.utf8_upper(null_if_blank(batch.column(cols["LSOA code"])))
    out = {"lsoa_code": code, "lsoa_name": null_if_blank(batch.column(cols["LSOA name"]))}
    checks = [Check(cols["LSOA code"], pc.invert(pc.fill_null(pc.match_substring_regex(code, LSOA_CODE), False)), "{value!r} is not an LSOA code")]
    for name in DEPRIVATION_SCHEMA.names:
        if name.endswith(("_rank", "_decile")):
            source = measures.get(name)
            if source is None:
                out[name] = pa.nulls(batch.num_rows, pa.int32())
                continue
            values, bad = parse_number(batch.column(source))
            checks.append(Check(source, bad, f"{name.replace('_', ' ')} {{value!r}} is not a number"))
            out[name] = pc.cast(pc.if_else(bad, None, values), pa.int32(), safe=False)
    out["year"] = pa.array(np.full(batch.num_rows, year, dtype=np.int16))
    good, failures = apply_checks(batch, checks)
    return pa.table(out).filter(pa.array(good)), good, failures


def ingest_deprivation(ws, path: Path, year: int = 2019, as_at: date | None = None) -> dict:
    header = read_header(path)
    cols = _require(path, header, {"LSOA code": [r"lsoa\d\d_code", r"LSOA\d\dCD", r"LSOA code.*", "lsoa_code"],
                                   "LSOA name": [r"lsoa\d\d_name", r"LSOA\d\dNM", r"LSOA name.*", "lsoa_name"]})
    measures = {f"{d}_{m}": _imd_column(header, d, m) for d in IMD_DOMAINS for m in ("rank", "decile")}
    if measures["imd_rank"] is None or measures["imd_decile"] is None:
        raise InputError(path, "no IMD rank and decile columns (e.g. index_of_multiple_deprivation_imd_rank)", line=1)
    measures = {k: v for k, v in measures.items() if v}
    return ingest_files(ws, "deprivation", DEPRIVATION_SCHEMA, [path], columns=header, check_header=lambda p, h: None,
                        normalise=partial(_normalise_deprivation, cols=cols, measures=measures, year=year),
                        partition=lambda t: [("imd", str(year), t)], as_at=as_at,
                        command=f"ingest reference deprivation ({year})")


# ---- Boundaries ------------------------------------------------------------------------------

BOUNDARY_SCHEMA = pa.schema([("level", pa.string()), ("code", pa.string()), ("name", pa.string()),
                             ("geometry", pa.binary()), ("area_km2", pa.float64()), ("centroid_easting", pa.float64()),
                             ("centroid_northing", pa.float64()), ("source_file", pa.string()),
                             ("ingest_run", pa.string()), ("as_at", pa.date32())])


def ingest_boundaries(ws, path: Path, level: str | None = None, as_at: date | None = None) -> dict:
    """Polygons from GeoJSON / GeoPackage, stored as WKB in WGS84 with area and centroid in BNG."""
    import geopandas as gpd
    import shapely

    (path,) = expand_paths([path], patterns=("*.geojson", "*.gpkg", "*.json"))
    as_at = as_at or date.today()
    sha = sha256_file(path)
    if sha in known_hashes(ws, "boundaries"):
        return summarise("boundaries", [], [path], None, as_at)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(path, f"cannot be read as GeoJSON or GeoPackage ({str(exc).splitlines()[0]})") from None
    columns = [str(c) for c in frame.columns if c != "geometry"]
    code_col = _find(columns, [r"[A-Z]+\d\dCD", r"[A-Z]+CD", "code"])
    name_col = _find(columns, [r"[A-Z]+\d\dNM", r"[A-Z]+NM", "name"])
    if code_col is None or name_col is None:
        raise InputError(path, f"no code and name properties (e.g. LSOA21CD, LSOA21NM); it has: {', '.join(columns)}")
    level = level or re.sub(r"CD$", "", code_col, flags=re.IGNORECASE).lower()
    if frame.crs is None:
        frame = frame.set_crs(4326)
    file_load = FileLoad(path=path, sha256=sha, size=path.stat().st_size)
    geoms = frame.geometry
    bad = geoms.isna() | geoms.is_empty | ~geoms.is_valid.fillna(False)
    fixable = bad & geoms.notna() & ~geoms.is_empty
    if fixable.any():  # self-intersections from generalisation are common; make_valid keeps the area
        frame.loc[fixable, "geometry"] = shapely.make_valid(geoms[fixable].values)
        bad = frame.geometry.isna() | frame.geometry.is_empty
    codes = frame[code_col].astype("string").str.strip()
    bad = bad | codes.isna() | (codes == "")
    for i in np.flatnonzero(bad.to_numpy()):
        file_load.reject(int(i) + 1, "geometry" if codes.iloc[i] else code_col, "feature has no usable polygon or code",
                         str(frame.iloc[i][code_col]))
    good = frame[~bad.to_numpy()]
    wgs = good.to_crs(4326)
    bng = good.to_crs(27700)
    centroids = bng.geometry.centroid
    table = pa.table({"level": [level] * len(good), "code": good[code_col].astype(str).str.strip().tolist(),
                      "name": good[name_col].astype(str).tolist(), "geometry": shapely.to_wkb(wgs.geometry.values).tolist(),
                      "area_km2": (bng.geometry.area / 1e6).tolist(), "centroid_easting": centroids.x.tolist(),
                      "centroid_northing": centroids.y.tolist(), "source_file": [path.name] * len(good)})
    with Load(ws, "boundaries", BOUNDARY_SCHEMA, as_at, f"ingest reference boundaries ({level})") as load:
        table = table.append_column("ingest_run", pa.array([load.uuid] * len(good), pa.string()))
        table = table.append_column("as_at", pa.array([as_at] * len(good), pa.date32()))
        load.write("boundaries", level, table)
        file_load.rows_loaded = len(good)
        load.add_file(file_load)
        run_id = load.commit()
    return {**summarise("boundaries", [file_load], [], run_id, as_at), "level": level}
