"""Units of place: square cells and hexagons in British National Grid metres, and LSOAs.

Hotspot work needs equal-sized places (College of Policing hot spot guide, step 1), so the grid
shapes are the default units; LSOAs are offered because partners plan and report by them. Every
unit carries the area that lies inside the study area, so that a cell cut by the coast or the
partnership boundary is not credited with land it does not have (PAI and "share of area" use it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely

from vrp.errors import VrpError

# Cell sizes a suggestion snaps to: round numbers analysts recognise and can say out loud.
NICE_SIZES = (25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 5000)
# Largest grid we build: beyond this a stray point or a tiny cell has almost certainly crept in.
MAX_CELLS = 4_000_000
SQRT3 = math.sqrt(3.0)


def suggest_cell_size(width: float, height: float) -> float:
    """Shorter side of the study area / 150, snapped to the nearest nice size.

    Chainey's rule of thumb for hotspot grids (Chainey 2013, "Examining the influence of cell size
    and bandwidth size on kernel density estimation crime hotspot maps", Geomatica 67(4)). For the
    whole of HIPS (shorter side ~70 km) it gives 500 m: a strategic map. Patrol hotspots are
    usually chosen on 150 m cells (the Essex Grip trial), which analysts ask for with --cell 150.
    """
    side = min(width, height)
    if not side > 0:
        raise VrpError("cannot suggest a cell size: the study area has no width or height")
    target = side / 150.0
    return float(min(NICE_SIZES, key=lambda s: abs(math.log(s / target))))


@dataclass(frozen=True)
class _Lattice:
    """nx x ny cells of size `cell` from the origin (x0, y0), numbered row * nx + col."""
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int

    @property
    def n(self) -> int:
        return self.nx * self.ny


def _check_cell(cell: float) -> None:
    if not cell > 0:
        raise VrpError(f"cell size must be a positive number of metres, not {cell}")


@dataclass(frozen=True)
class SquareGrid(_Lattice):
    """A square grid (x0, y0, cell, nx, ny) in the convention of vrp.places (row 0 is south)."""

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell: float) -> "SquareGrid":
        """The grid of `cell`-metre squares covering bounds, its origin snapped to a multiple of the
        cell size so that the same cell has the same id in every run and every period."""
        _check_cell(cell)
        minx, miny, maxx, maxy = bounds
        x0, y0 = math.floor(minx / cell) * cell, math.floor(miny / cell) * cell
        nx = max(1, math.ceil((maxx - x0) / cell + 1e-9))
        ny = max(1, math.ceil((maxy - y0) / cell + 1e-9))
        if nx * ny > MAX_CELLS:
            raise VrpError(f"a {cell:g} m grid over {(maxx - minx) / 1000:.0f} x {(maxy - miny) / 1000:.0f} km "
                           f"has {nx * ny:,} cells (limit {MAX_CELLS:,}): use a larger --cell, or check for "
                           "points far outside the area")
        return cls(float(x0), float(y0), float(cell), nx, ny)

    def centres(self, cells: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        cells = np.arange(self.n) if cells is None else np.asarray(cells)
        row, col = np.divmod(cells, self.nx)
        return self.x0 + (col + 0.5) * self.cell, self.y0 + (row + 0.5) * self.cell

    def index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Cell index of each point, -1 outside the grid. A point on a shared edge goes to the cell
        to its north-east (cells are half-open: [x0, x0 + cell))."""
        col = np.floor((np.asarray(x, float) - self.x0) / self.cell)
        row = np.floor((np.asarray(y, float) - self.y0) / self.cell)
        inside = (col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny)
        return np.where(inside, row * self.nx + col, -1).astype(np.int64)

    def polygons(self, cells: np.ndarray) -> np.ndarray:
        x, y = self.centres(cells)
        half = self.cell / 2
        return shapely.box(x - half, y - half, x + half, y + half)


@dataclass(frozen=True)
class HexGrid(_Lattice):
    """Pointy-topped hexagons `cell` metres across the flats, in rows `cell * sqrt(3) / 2` apart,
    odd rows shifted east by half a cell. Each hexagon is the set of points nearest its centre,
    which is how points are assigned."""

    @property
    def row_step(self) -> float:
        return self.cell * SQRT3 / 2

    @classmethod
    def covering(cls, bounds: tuple[float, float, float, float], cell: float) -> "HexGrid":
        _check_cell(cell)
        minx, miny, maxx, maxy = bounds
        step = cell * SQRT3 / 2
        x0 = math.floor(minx / cell) * cell - cell
        y0 = math.floor(miny / (2 * step)) * 2 * step - step
        nx = math.ceil((maxx - x0) / cell) + 2
        ny = math.ceil((maxy - y0) / step) + 2
        if nx * ny > MAX_CELLS:
            raise VrpError(f"a {cell:g} m hexagon grid has {nx * ny:,} cells (limit {MAX_CELLS:,}): use a larger --cell")
        return cls(float(x0), float(y0), float(cell), nx, ny)

    def centres(self, cells: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        cells = np.arange(self.n) if cells is None else np.asarray(cells)
        row, col = np.divmod(cells, self.nx)
        return self.x0 + (col + 0.5 * (row % 2)) * self.cell, self.y0 + row * self.row_step

    def index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Nearest hexagon centre: the nearer of the nearest centre on even rows and on odd rows."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        best, best_d = None, None
        for parity in (0, 1):
            row = np.round((y - self.y0 - parity * self.row_step) / (2 * self.row_step)) * 2 + parity
            col = np.round((x - self.x0 - 0.5 * parity * self.cell) / self.cell)
            cx = self.x0 + (col + 0.5 * parity) * self.cell
            cy = self.y0 + row * self.row_step
            d = (x - cx) ** 2 + (y - cy) ** 2
            idx = np.where((col >= 0) & (col < self.nx) & (row >= 0) & (row < self.ny), row * self.nx + col, -1)
            if best is None:
                best, best_d = idx, d
            else:
                closer = d < best_d
                best = np.where(closer, idx, best)
        return best.astype(np.int64)

    def polygons(self, cells: np.ndarray) -> np.ndarray:
        x, y = self.centres(cells)
        radius = self.cell / SQRT3
        angles = np.deg2rad(30 + 60 * np.arange(6))
        ring = np.stack([x[:, None] + radius * np.cos(angles), y[:, None] + radius * np.sin(angles)], axis=-1)
        return shapely.polygons(ring)


@dataclass(frozen=True)
class Units:
    """The places an analysis counts in: cells (or LSOAs) inside the study area, in a fixed order.

    `area_km2` is each unit's area inside the study area; `grid` and `cells` tie square cells back
    to the full rectangular grid (KDE and forecasts work on that raster).
    """
    kind: str                      # "square" | "hex" | "lsoa"
    ids: np.ndarray                # stable text ids
    x: np.ndarray                  # centre easting (BNG metres)
    y: np.ndarray                  # centre northing
    area_km2: np.ndarray
    size: float | None = None      # cell size in metres (grids)
    grid: SquareGrid | HexGrid | None = None
    cells: np.ndarray | None = None  # index of each unit in `grid`
    geometries: np.ndarray | None = field(default=None, repr=False)  # LSOA polygons (BNG)
    study_area: str = "data extent"  # what bounded the grid, for the provenance line

    @property
    def n(self) -> int:
        return len(self.ids)

    def assign(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Unit index of each point, -1 where it falls in no unit (outside the study area)."""
        if self.grid is None:
            raise VrpError("LSOA units are assigned by LSOA code, not by coordinates")
        where = np.full(self.grid.n, -1, dtype=np.int64)
        where[self.cells] = np.arange(self.n)
        cell = self.grid.index(x, y)
        return np.where(cell >= 0, where[np.maximum(cell, 0)], -1)

    def assign_codes(self, codes) -> np.ndarray:
        """Unit index of each LSOA code, -1 where the code is not a unit."""
        lookup = {c: i for i, c in enumerate(self.ids)}
        return np.array([lookup.get(c, -1) for c in codes], dtype=np.int64)

    def polygons(self) -> np.ndarray:
        """Each unit's polygon in BNG (whole cells: a cell is patrolled as a square, even where
        the coast cuts it)."""
        if self.geometries is not None:
            return self.geometries
        return self.grid.polygons(self.cells)

    def mask(self) -> np.ndarray:
        """Square grids: which cells of the full grid are units (the study-area mask)."""
        mask = np.zeros(self.grid.n, dtype=bool)
        mask[self.cells] = True
        return mask


def cell_id(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Text id of a cell from its centre in whole metres: stable across runs and periods."""
    xs = np.round(x).astype(np.int64).ravel().tolist()
    ys = np.round(y).astype(np.int64).ravel().tolist()
    ids = np.empty(len(xs), dtype=object)
    ids[:] = [f"{a}_{b}" for a, b in zip(xs, ys)]
    return ids


def grid_units(kind: str, cell: float, bounds: tuple[float, float, float, float],
               area=None, study_area: str = "data extent") -> Units:
    """Square or hexagonal cells covering bounds, kept where they touch `area` (a shapely polygon
    in BNG) and each with the area it has inside it; without an area every cell is kept whole."""
    grid = (SquareGrid if kind == "square" else HexGrid).covering(bounds, cell)
    cells = np.arange(grid.n)
    full = grid.cell ** 2 if kind == "square" else grid.cell ** 2 * SQRT3 / 2
    if area is None:
        areas = np.full(grid.n, full / 1e6)
    else:
        cells, areas = _clip(grid, area, full)
    x, y = grid.centres(cells)
    return Units(kind, cell_id(x, y), x, y, areas, size=float(cell), grid=grid, cells=cells, study_area=study_area)


def _clip(grid, area, full: float) -> tuple[np.ndarray, np.ndarray]:
    """Cells touching the area and the area of each inside it.

    Only cells the boundary may cross are intersected exactly: the boundary is densified to points
    a quarter-cell apart, and the cells holding them and their eight neighbours are the candidates
    (a quarter-cell segment cannot reach further). Every other cell is wholly in or wholly out,
    which its centre tells. Candidates are intersected with small tiles of the area, not the whole
    coastline."""
    shapely.prepare(area)
    ring = shapely.segmentize(shapely.boundary(area), grid.cell / 4)
    coords = shapely.get_coordinates(ring)
    hit = np.unique(grid.index(coords[:, 0], coords[:, 1]))
    row, col = np.divmod(hit[hit >= 0], grid.nx)
    near = np.zeros((grid.ny, grid.nx), dtype=bool)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            r, c = row + dr, col + dc
            ok = (r >= 0) & (r < grid.ny) & (c >= 0) & (c < grid.nx)
            near[r[ok], c[ok]] = True
    edge = np.flatnonzero(near.ravel())
    others = np.flatnonzero(~near.ravel())
    x, y = grid.centres(others)
    inside = others[shapely.intersects_xy(area, x, y)]
    polys = grid.polygons(edge)
    pieces = _tiles(area, max(grid.cell * 20, 2000.0))
    cell_i, piece_i = shapely.STRtree(pieces).query(polys, predicate="intersects")
    parts = shapely.area(shapely.intersection(polys[cell_i], pieces[piece_i]))
    edge_area = np.bincount(cell_i, weights=parts, minlength=len(edge))
    cells = np.concatenate([inside, edge[edge_area > 1e-6]])
    areas = np.concatenate([np.full(len(inside), full), edge_area[edge_area > 1e-6]])
    order = np.argsort(cells)
    return cells[order], areas[order] / 1e6


def _tiles(area, size: float) -> np.ndarray:
    """The area cut into square tiles of `size` metres (non-empty pieces only)."""
    minx, miny, maxx, maxy = area.bounds
    xs, ys = np.meshgrid(np.arange(minx, maxx, size), np.arange(miny, maxy, size))
    boxes = shapely.box(xs.ravel(), ys.ravel(), xs.ravel() + size, ys.ravel() + size)
    pieces = shapely.intersection(boxes, area)
    return pieces[~shapely.is_empty(pieces)]


def lsoa_units(codes: list[str], geometries_bng: np.ndarray | None = None, area_km2: np.ndarray | None = None) -> Units:
    """LSOAs as units (in code order), with their polygons and areas when boundaries are loaded."""
    if geometries_bng is None:
        raise VrpError("LSOA units need LSOA boundaries: run `vrp ingest reference boundaries FILE` first")
    order = np.argsort(np.asarray(codes, dtype=object))
    codes, geometries_bng = np.asarray(codes, dtype=object)[order], np.asarray(geometries_bng)[order]
    centroids = shapely.centroid(geometries_bng)
    areas = np.asarray(area_km2, float)[order] if area_km2 is not None else shapely.area(geometries_bng) / 1e6
    return Units("lsoa", codes, shapely.get_x(centroids), shapely.get_y(centroids), np.asarray(areas, float),
                 geometries=geometries_bng, study_area="LSOA boundaries")
