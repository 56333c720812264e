"""A small partnership built from partner files: two districts in the area and one outside,
police.uk months with a gap, a force extract, and a Census-style population. Expected figures are
tallied independently from the generated rows."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pytest

from tests.conftest import write_csv
from vrp.ingest.extract import ingest_police_extract
from vrp.ingest.police_uk import HEADER, ingest_police_uk
from vrp.ingest.reference import ingest_lsoa_lookup, ingest_population
from vrp.workspace import init_workspace

DISTRICTS = {"E06000001": "Alpha", "E06000002": "Beta", "E06000009": "Outside"}
LSOAS = {"E01000001": "E06000001", "E01000002": "E06000001", "E01000003": "E06000001",
         "E01000004": "E06000002", "E01000005": "E06000002", "E01000009": "E06000009"}
BANDS = {"Aged 15 years and under": (0, 15), "Aged 16 to 24 years": (16, 24), "Aged 25 years and over": (25, 120)}
MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13) if f"{y}-{m:02d}" != "2025-04"]
GAP = "2025-04"


@dataclass
class Partnership:
    ws: object
    population: dict = field(default_factory=dict)  # (lsoa, band) -> residents
    robbery: Counter = field(default_factory=Counter)  # (lsoa, month) -> police.uk robberies
    knife: list = field(default_factory=list)  # (lsoa, month, age, knife_flag, offence) of extract rows


@pytest.fixture(scope="package")
def partnership(tmp_path_factory) -> Partnership:
    root = tmp_path_factory.mktemp("partnership")
    ws = init_workspace(root / "ws", "Test VRP")
    config = (root / "ws" / "vrp.toml").read_text().replace("districts = []", 'districts = ["E06000001", "E06000002"]')
    (root / "ws" / "vrp.toml").write_text(config)
    from vrp.workspace import open_workspace
    ws = open_workspace(root / "ws")
    rng = np.random.default_rng(7)
    p = Partnership(ws)
    lookup = "LSOA21CD,LSOA21NM,LAD22CD,LAD22NM\n" + "".join(
        f"{l},{DISTRICTS[d]} 00{i}A,{d},{DISTRICTS[d]}\n" for i, (l, d) in enumerate(LSOAS.items()))
    ingest_lsoa_lookup(ws, write_csv(root / "lookup.csv", lookup))
    pop_lines = ["lsoa21_code,lsoa21_name,age_group,usual_residents"]
    for lsoa in LSOAS:
        for band in BANDS:
            n = int(rng.integers(200, 900))
            p.population[(lsoa, band)] = n
            pop_lines.append(f"{lsoa},x,{band},{n}")
    ingest_population(ws, write_csv(root / "population.csv", "\n".join(pop_lines) + "\n"))
    files = []
    for month in MONTHS:
        lines = [",".join(HEADER)]
        for lsoa in LSOAS:
            for _ in range(int(rng.poisson(3 if lsoa != "E01000005" else 0.4))):
                p.robbery[(lsoa, month)] += 1
                lines.append(f"r{len(lines)}{month},{month},Test Police,Test Police,-1.4,50.9,On or near X,{lsoa},{lsoa} name,Robbery,,")
            lines.append(f"b{len(lines)}{month},{month},Test Police,Test Police,-1.4,50.9,On or near X,{lsoa},{lsoa} name,Burglary,,")
        files.append(write_csv(root / "pu" / f"{month}-test-street.csv", "\n".join(lines) + "\n"))
    ingest_police_uk(ws, files, as_at=date(2026, 1, 31))
    extract = ["crime_ref,recorded_date,offence_code,knife_flag,victim_age,lsoa_code,crime_status"]
    for i in range(4000):
        month = MONTHS[int(rng.integers(len(MONTHS)))]
        lsoa = list(LSOAS)[int(rng.integers(len(LSOAS)))]
        offence = ["8N", "5D", "34B", "10D", "105A"][int(rng.integers(5))]
        knife = "" if offence in ("10D", "105A") else ["yes", "no", ""][int(rng.integers(3))]
        age = int(rng.integers(5, 70)) if rng.random() > 0.05 else None
        status = "confirmed" if rng.random() > 0.1 else "cancelled"
        extract.append(f"C{i},{month}-{int(rng.integers(1, 28)):02d},{offence},{knife},{'' if age is None else age},{lsoa},{status}")
        if status == "confirmed":
            p.knife.append((lsoa, month, age, knife, offence))
    ingest_police_extract(ws, [write_csv(root / "extract.csv", "\n".join(extract) + "\n")], as_at=date(2026, 1, 31))
    return p


def residents(p: Partnership, lsoas, ages=(0, 120)) -> int:
    return sum(n for (lsoa, band), n in p.population.items()
               if lsoa in lsoas and BANDS[band][0] >= ages[0] and BANDS[band][1] <= ages[1])


def in_district(district: str) -> list[str]:
    return [l for l, d in LSOAS.items() if d == district]
