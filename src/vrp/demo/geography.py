"""Fictional geography of the Wessex partnership: districts, LSOAs, polygons, people, deprivation.

The LSOAs are the cells of a jittered grid in British National Grid: every cell is a convex
quadrilateral that shares its corners with its neighbours, so the polygons tile the area exactly and
a random point can be placed inside a cell by bilinear interpolation (no rejection sampling).
Districts are blocks of cells. Codes use a 9xxxxx series that no real ONS code uses, so the demo
can never be joined to real areas by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pyproj import Transformer
from scipy.special import ndtr

PARTNERSHIP = "Wessex Violence Reduction Partnership"
FORCE = "Wessex Constabulary"

# Area covered: inland central southern England (BNG metres).
EAST0, EAST1 = 415_000, 455_000
NORTH0, NORTH1 = 118_000, 158_000
NCOLS, NROWS = 16, 13
JITTER = 0.2  # max corner displacement as a share of the cell size; < 0.25 keeps cells convex
DEPRIVATION_EFFECT = 0.6  # log crime rate per unit of latent deprivation

ENGLAND_LSOAS = 32_844  # IMD 2019 ranks run 1..32,844 (1 = most deprived)
AGE_GROUPS = ("Aged 15 years and under", "Aged 16 to 24 years", "Aged 25 to 34 years",
              "Aged 35 to 49 years", "Aged 50 to 64 years", "Aged 65 years and over")
_AGE_BASE = np.array([.185, .105, .125, .19, .20, .195])
_AGE_URBAN = np.array([0, .06, .05, 0, -.04, -.07])


@dataclass(frozen=True)
class District:
    """A local authority: a block of grid cells with its town-centre cells."""

    code: str
    name: str
    cols: tuple[int, int]       # grid columns [start, stop)
    rows: tuple[int, int]       # grid rows [start, stop), row 0 is the northern edge
    urban: float                # 0 (rural) .. 1 (city): raises deprivation
    centres: tuple[tuple[int, int], ...]  # (col, row) of town-centre cells (crime hotspots)
    hotspot: float              # crime-rate multiplier of the town centre cells


DISTRICTS: tuple[District, ...] = (
    District("E06900001", "Portwell", (5, 11), (5, 13), 1.0, ((8, 10), (7, 9), (9, 8)), 6.0),
    District("E06900002", "Kingsmere", (11, 16), (4, 13), .8, ((13, 8), (14, 10)), 5.0),
    District("E07900001", "Sellbury", (0, 5), (6, 13), .5, ((2, 9),), 4.5),
    District("E07900002", "Harrowdown", (5, 11), (0, 5), .4, ((8, 2),), 4.0),
    District("E07900003", "Eldon Vale", (11, 16), (0, 4), .3, ((13, 1),), 4.0),
    District("E07900004", "Wyvern Downs", (0, 5), (0, 6), .2, ((2, 3),), 3.5),
)

_TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def to_wgs84(easting: np.ndarray, northing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """BNG metres -> (longitude, latitude) degrees, vectorised."""
    lon, lat = _TO_WGS84.transform(np.asarray(easting, float), np.asarray(northing, float))
    return np.asarray(lon), np.asarray(lat)


@dataclass
class Geography:
    """All LSOAs as parallel arrays (index = LSOA number in code order)."""

    code: np.ndarray            # "E01900001", ...
    name: np.ndarray            # "Portwell 001A", ...
    district: np.ndarray        # index into DISTRICTS
    corners: np.ndarray         # (n, 4, 2) BNG corners SW, SE, NE, NW (anticlockwise)
    centrality: np.ndarray      # 0..1, closeness to a town centre
    hotspot: np.ndarray         # crime-rate multiplier (1 outside town centres)
    population: np.ndarray      # (n, 6) usual residents by AGE_GROUPS
    deprivation: np.ndarray     # latent deprivation score (higher = more deprived)
    crime_weight: np.ndarray    # relative rate of general crime

    @property
    def n(self) -> int:
        return len(self.code)

    def district_codes(self) -> np.ndarray:
        return np.array([DISTRICTS[d].code for d in self.district])

    def district_names(self) -> np.ndarray:
        return np.array([DISTRICTS[d].name for d in self.district])

    def points(self, lsoa: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """BNG point at unit-square position (u, v) inside each given LSOA (bilinear map)."""
        c = self.corners[lsoa]
        w = np.stack([(1 - u) * (1 - v), u * (1 - v), u * v, (1 - u) * v], axis=1)
        xy = np.einsum("nk,nkd->nd", w, c)
        return xy[:, 0], xy[:, 1]


def build_geography(rng: np.random.Generator) -> Geography:
    """Lay out cells, assign them to districts, name them, and give them people and deprivation."""
    cells = _district_cells()
    vertices = _jittered_vertices(rng)
    order = _name_order(cells)
    cols, rows, dist = (np.array([cells[i][k] for i in order]) for k in range(3))
    names = _lsoa_names(rng, dist)
    corners = np.stack([vertices[rows + 1, cols], vertices[rows + 1, cols + 1],
                        vertices[rows, cols + 1], vertices[rows, cols]], axis=1)
    centrality, hotspot = _centrality(cols, rows, dist)
    urban = np.array([DISTRICTS[d].urban for d in dist])
    deprivation = 0.9 * urban + 1.4 * centrality + rng.normal(0, 0.6, len(cols)) - 1.0
    population = _population(rng, centrality)
    crime_weight = population.sum(1) * np.exp(DEPRIVATION_EFFECT * deprivation) * hotspot ** 0.7
    codes = np.array([f"E019{i + 1:05d}" for i in range(len(cols))])
    return Geography(codes, names, dist, corners, centrality, hotspot, population, deprivation,
                     crime_weight)


def _district_cells() -> list[tuple[int, int, int]]:
    """(col, row, district index) for every grid cell; every cell belongs to one district."""
    cells = []
    for d, dist in enumerate(DISTRICTS):
        cells += [(c, r, d) for r in range(*dist.rows) for c in range(*dist.cols)]
    assert len({(c, r) for c, r, _ in cells}) == NCOLS * NROWS == len(cells)
    return cells


def _jittered_vertices(rng: np.random.Generator) -> np.ndarray:
    """(NROWS+1, NCOLS+1, 2) grid corners in BNG; interior corners jittered, the rim kept straight."""
    w, h = (EAST1 - EAST0) / NCOLS, (NORTH1 - NORTH0) / NROWS
    col = np.arange(NCOLS + 1)[None, :].repeat(NROWS + 1, 0).astype(float)
    row = np.arange(NROWS + 1)[:, None].repeat(NCOLS + 1, 1).astype(float)
    jitter = rng.uniform(-JITTER, JITTER, (2, NROWS + 1, NCOLS + 1))
    jitter[:, [0, -1], :] = 0
    jitter[:, :, [0, -1]] = 0
    x = EAST0 + (col + jitter[0]) * w
    y = NORTH1 - (row + jitter[1]) * h
    return np.round(np.stack([x, y], axis=-1), 1)


def _name_order(cells: list[tuple[int, int, int]]) -> list[int]:
    """Cells in code order: district by district, north to south, west to east within each."""
    return sorted(range(len(cells)), key=lambda i: (cells[i][2], cells[i][1], cells[i][0]))


def _lsoa_names(rng: np.random.Generator, dist: np.ndarray) -> np.ndarray:
    """police.uk-style names: "<District> <MSOA number><letter>", 3-6 LSOAs per MSOA."""
    names = []
    for d in range(len(DISTRICTS)):
        n = int((dist == d).sum())
        sizes = rng.integers(3, 7, n)
        msoa = np.repeat(np.arange(1, n + 1), sizes)[:n]
        letter = np.concatenate([np.arange(s) for s in sizes])[:n]
        names += [f"{DISTRICTS[d].name} {m:03d}{chr(65 + k)}" for m, k in zip(msoa, letter)]
    return np.array(names)


def _centrality(cols: np.ndarray, rows: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closeness to the nearest town centre (1 at the centre) and the hotspot crime multiplier."""
    centres = np.array([c for d in DISTRICTS for c in d.centres], float)
    d2 = (cols[:, None] - centres[None, :, 0]) ** 2 + (rows[:, None] - centres[None, :, 1]) ** 2
    centrality = np.exp(-d2.min(1) / (2 * 1.5 ** 2))
    hotspot = np.ones(len(cols))
    for d, district in enumerate(DISTRICTS):
        for c, r in district.centres:
            hotspot[(cols == c) & (rows == r)] = district.hotspot
    return centrality, hotspot


def _population(rng: np.random.Generator, centrality: np.ndarray) -> np.ndarray:
    """Census-style usual residents by six age groups, ~1,500 per LSOA, younger in town centres."""
    total = np.clip(rng.normal(1550, 180, len(centrality)), 1100, 2400).astype(np.int64)
    shares = _AGE_BASE[None, :] + centrality[:, None] * _AGE_URBAN[None, :]
    return rng.multinomial(total, shares / shares.sum(1, keepdims=True))


def imd_ranks(rng: np.random.Generator, geo: Geography) -> dict[str, np.ndarray]:
    """IMD 2019-style ranks (1 = most deprived in England) for the overall index and 7 domains.

    Domain scores are noisy copies of the latent deprivation; the crime domain follows the simulated
    crime rate, and barriers to housing and services runs the other way (worst in rural areas)."""
    z = geo.deprivation
    crime_rate = np.log(geo.crime_weight / geo.population.sum(1))
    crime_z = (crime_rate - crime_rate.mean()) / crime_rate.std()
    noise = lambda s: rng.normal(0, s, geo.n)  # noqa: E731
    scores = {
        "index_of_multiple_deprivation_imd": z,
        "income": 0.9 * z + noise(0.3),
        "employment": 0.85 * z + noise(0.35),
        "education_skills_and_training": 0.8 * z + noise(0.45),
        "health_deprivation_and_disability": 0.75 * z + noise(0.5),
        "crime": 0.9 * crime_z + noise(0.3),
        "barriers_to_housing_and_services": -0.6 * geo.centrality + noise(0.6),
        "living_environment": 0.5 * z + 0.4 * geo.centrality + noise(0.5),
    }
    return {k: np.clip(np.ceil(ndtr(-s) * ENGLAND_LSOAS), 1, ENGLAND_LSOAS).astype(np.int64)
            for k, s in scores.items()}


def decile(rank: np.ndarray) -> np.ndarray:
    """IMD decile (1 = most deprived 10% of England) from a rank."""
    return np.clip(np.ceil(rank * 10 / ENGLAND_LSOAS), 1, 10).astype(np.int64)
