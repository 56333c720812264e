"""Who neighbours whom: binary spatial weights for grids, point sets and polygons.

Every function returns a ``scipy.sparse.csr_array`` of float64 ones, n x n, rows and columns in
the order of the cells (or points, or polygons) given, symmetric, with no self-weights and sorted
column indices, so that ``w @ y`` is the sum of the neighbours' values. The local statistics in
:mod:`vrp.places.local_stats` take these directly; Gi* adds its own self-weight.

The three builders answer three kinds of place:

* :func:`grid_neighbours` - square grid cells in the package's cell-index convention (row-major,
  row 0 south), queen (8 around) or rook (4 around), optionally restricted to a study-area mask.
  Unmasked it is exactly libpysal's ``lat2W(ny, nx, rook=...)``, built with array arithmetic
  instead of a Python loop over cells (a 300 x 300 grid takes milliseconds).
* :func:`distance_band` - points within a fixed distance (centre to centre, ``<=``), as libpysal's
  binary ``DistanceBand``; used for ``--neighbourhood distance:METRES`` on grid centres and for
  hexagon grids (a threshold just over the centre spacing gives each hexagon its 6 neighbours).
* :func:`polygon_contiguity` - polygons (LSOAs) that touch, tested geometrically with a shapely
  STRtree rather than by shared vertex coordinates as libpysal does (see the function).
"""
from __future__ import annotations

import numpy as np
import shapely
from scipy import sparse

from vrp.errors import VrpError

KINDS = ("queen", "rook")

# (row step, column step) to the neighbours "ahead" of a cell; the mirror images come from symmetry.
_ROOK_STEPS = ((0, 1), (1, 0))
_QUEEN_STEPS = ((0, 1), (1, 0), (1, 1), (1, -1))


def grid_neighbours(nx: int, ny: int, kind: str = "queen", mask=None) -> sparse.csr_array:
    """Binary contiguity of the cells of an ``nx`` x ``ny`` square grid.

    ``kind="queen"`` joins cells sharing an edge or a corner (up to 8 neighbours), ``"rook"`` those
    sharing an edge (up to 4). Cells are numbered ``row * nx + col`` (row 0 the southernmost), the
    same order as ``surface.ravel()`` and libpysal's ``lat2W(ny, nx)``, which this equals exactly.

    ``mask`` (boolean, shape ``(ny, nx)`` or ``nx * ny``) restricts the weights to the study area:
    the matrix is then over the masked cells only, in increasing cell-index order (the order of
    ``surface[mask]``), and a cell outside the mask neighbours nothing. Cells cut off by the mask
    keep no neighbours (islands); the statistics report and warn about them.

    Built from the handful of neighbour directions with whole-array index arithmetic: no loop over
    cells, so the cost is a few array passes even for 10^6 cells.
    """
    nx, ny = _grid_size(nx, ny)
    if kind not in KINDS:
        raise VrpError(f"neighbourhood kind must be 'queen' or 'rook', got {kind!r}")
    rows, cols = [], []
    for dr, dc in (_QUEEN_STEPS if kind == "queen" else _ROOK_STEPS):
        r = np.arange(ny - dr)
        c = np.arange(max(0, -dc), nx - max(0, dc))
        if r.size == 0 or c.size == 0:
            continue
        src = (r[:, None] * nx + c[None, :]).ravel()
        dst = src + dr * nx + dc
        rows += [src, dst]
        cols += [dst, src]
    rows = np.concatenate(rows) if rows else np.empty(0, np.int64)
    cols = np.concatenate(cols) if cols else np.empty(0, np.int64)
    n = nx * ny
    if mask is not None:
        inside = _grid_mask(mask, nx, ny)
        keep = inside[rows] & inside[cols]
        new_index = np.cumsum(inside) - 1
        rows, cols, n = new_index[rows[keep]], new_index[cols[keep]], int(inside.sum())
    return _binary_csr(rows, cols, n)


def distance_band(x, y, threshold: float) -> sparse.csr_array:
    """Binary weights joining points whose centres are at most ``threshold`` apart (``<=``).

    Pairs come from a k-d tree (``scipy.spatial.cKDTree.query_pairs``), so memory grows with the
    number of neighbour pairs, never with n x n. Equals libpysal's ``DistanceBand(points,
    threshold, binary=True)``. Coincident points (distance 0) are neighbours of each other, never
    of themselves. Units are those of ``x`` and ``y`` (BNG metres).
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise VrpError(f"x and y must have the same length, got {x.size} and {y.size}")
    if x.size == 0:
        raise VrpError("no points to build distance-band neighbours for")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise VrpError("point coordinates must be finite numbers (found NaN or infinity)")
    threshold = _positive(threshold, "distance-band threshold")
    from scipy.spatial import cKDTree  # here: scipy.spatial is slow to import

    pairs = cKDTree(np.column_stack([x, y])).query_pairs(threshold, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    return _binary_csr(np.concatenate([i, j]), np.concatenate([j, i]), x.size)


def polygon_contiguity(geometries, kind: str = "queen", tolerance: float = 0.0) -> sparse.csr_array:
    """Binary contiguity of polygons (e.g. LSOAs): queen = touch at least at a point, rook = share
    a stretch of boundary of positive length.

    Candidate pairs come from a shapely ``STRtree``; queen keeps pairs whose geometries intersect
    (for a clean partition that means their boundaries meet), rook further needs the intersection
    of the two boundaries to have positive length. This is a geometric test: libpysal's Queen/Rook
    instead match identical vertex coordinates, so two polygons meeting at a T-junction without a
    shared vertex are neighbours here but not there; on boundaries that share vertices (ONS LSOA
    files, grid squares) the two agree.

    ``tolerance`` (metres, queen only) also joins polygons within that distance of each other, for
    generalised boundary files with slivers between neighbours; 0 (the default) means touching.
    Rows follow the order of ``geometries`` (a GeoSeries, list or array of shapely polygons).
    """
    if kind not in KINDS:
        raise VrpError(f"contiguity kind must be 'queen' or 'rook', got {kind!r}")
    geoms = np.asarray(getattr(geometries, "values", geometries), dtype=object).ravel()
    if geoms.size == 0:
        raise VrpError("no polygons to build contiguity for")
    missing = np.flatnonzero(shapely.is_missing(geoms))
    if missing.size:
        raise VrpError(f"polygon {missing[0]} has no geometry ({missing.size} missing in all)")
    tolerance = float(tolerance)
    if not np.isfinite(tolerance) or tolerance < 0:
        raise VrpError(f"contiguity tolerance must be 0 or more metres, got {tolerance!r}")
    if tolerance > 0 and kind == "rook":
        raise VrpError("a contiguity tolerance is only supported for queen contiguity")
    tree = shapely.STRtree(geoms)
    if tolerance > 0:
        i, j = tree.query(geoms, predicate="dwithin", distance=tolerance)
    else:
        i, j = tree.query(geoms, predicate="intersects")
    ahead = i < j
    i, j = i[ahead], j[ahead]
    if kind == "rook" and i.size:
        boundaries = shapely.boundary(geoms)
        shared = shapely.length(shapely.intersection(boundaries[i], boundaries[j])) > 0
        i, j = i[shared], j[shared]
    return _binary_csr(np.concatenate([i, j]), np.concatenate([j, i]), geoms.size)


def _binary_csr(rows: np.ndarray, cols: np.ndarray, n: int) -> sparse.csr_array:
    """CSR of ones at (rows, cols), canonical (sorted column indices, no duplicates)."""
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    if rows.size > 1:
        fresh = np.ones(rows.size, dtype=bool)
        fresh[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols = rows[fresh], cols[fresh]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    w = sparse.csr_array((np.ones(cols.size), cols, indptr), shape=(n, n))
    w.has_sorted_indices = True
    return w


def _grid_size(nx, ny) -> tuple[int, int]:
    try:
        nx_i, ny_i = int(nx), int(ny)
    except (TypeError, ValueError):
        raise VrpError(f"grid size must be whole numbers of cells, got nx={nx!r}, ny={ny!r}") from None
    if nx_i != nx or ny_i != ny or nx_i < 1 or ny_i < 1:
        raise VrpError(f"grid must have at least one cell each way, got nx={nx!r}, ny={ny!r}")
    return nx_i, ny_i


def _grid_mask(mask, nx: int, ny: int) -> np.ndarray:
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise VrpError(f"study-area mask must be boolean, got {mask.dtype}")
    if mask.shape not in ((ny, nx), (nx * ny,)):
        raise VrpError(f"study-area mask has shape {mask.shape}, expected ({ny}, {nx}) for this grid")
    mask = mask.ravel()
    if not mask.any():
        raise VrpError("study-area mask selects no cells")
    return mask


def _positive(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise VrpError(f"{what} must be a number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise VrpError(f"{what} must be greater than 0, got {value!r}")
    return v
