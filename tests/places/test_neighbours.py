"""Spatial weights: equal to libpysal's where libpysal has the same notion, and exact by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from scipy import sparse

from vrp.errors import VrpError
from vrp.places.neighbours import distance_band, grid_neighbours, polygon_contiguity

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")
libpysal = pytest.importorskip("libpysal")

POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)


def same(a, b) -> bool:
    """Same sparsity pattern and values, whatever the sparse type."""
    a, b = sparse.csr_array(a), sparse.csr_array(b)
    return a.shape == b.shape and abs(a - b).max() == 0 if a.nnz or b.nnz else a.shape == b.shape


def neighbour_lists(w) -> list[list[int]]:
    w = sparse.csr_array(w)
    return [sorted(w.indices[w.indptr[i]:w.indptr[i + 1]].tolist()) for i in range(w.shape[0])]


def check_canonical(w, n: int) -> None:
    assert isinstance(w, sparse.csr_array) and w.shape == (n, n)
    assert w.has_sorted_indices and w.dtype == np.float64
    assert (w.data == 1).all() and not w.diagonal().any()
    assert abs(w - w.T).max() == 0 if w.nnz else True


# ------------------------------------------------------------------------------------ grids

@pytest.mark.parametrize("nx, ny", [(5, 1), (1, 4), (2, 2), (7, 4), (30, 20)])
@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_grid_neighbours_equal_libpysal_lat2w(nx, ny, kind):
    w = grid_neighbours(nx, ny, kind)
    check_canonical(w, nx * ny)
    assert same(w, libpysal.weights.lat2W(ny, nx, rook=(kind == "rook")).sparse)


def test_single_cell_grid_has_no_neighbours():
    # (libpysal's lat2W(1, 1) degenerates to a 0 x 0 matrix)
    w = grid_neighbours(1, 1)
    check_canonical(w, 1)
    assert w.nnz == 0


def test_grid_neighbours_follow_the_cell_index_convention():
    # 4 columns x 3 rows; cell = row * nx + col, row 0 south
    w = grid_neighbours(4, 3, "queen")
    lists = neighbour_lists(w)
    assert lists[0] == [1, 4, 5]                      # south-west corner
    assert lists[5] == [0, 1, 2, 4, 6, 8, 9, 10]      # row 1, col 1: all eight
    assert lists[11] == [6, 7, 10]                    # north-east corner
    assert neighbour_lists(grid_neighbours(4, 3, "rook"))[5] == [1, 4, 6, 9]
    assert np.diff(w.indptr).tolist() == [3, 5, 5, 3, 5, 8, 8, 5, 3, 5, 5, 3]


def test_grid_mask_keeps_masked_cells_in_cell_index_order():
    rng = np.random.default_rng(3)
    mask = rng.random((9, 11)) < 0.7
    full = grid_neighbours(11, 9, "queen")
    inside = np.flatnonzero(mask.ravel())
    w = grid_neighbours(11, 9, "queen", mask=mask)
    check_canonical(w, inside.size)
    assert same(w, full[inside][:, inside])
    assert same(grid_neighbours(11, 9, "queen", mask=mask.ravel()), w)


def test_grid_mask_cut_off_cell_has_no_neighbours():
    mask = np.zeros((5, 5), dtype=bool)
    mask[0, :3] = True          # cells 0, 1, 2 in a row
    mask[4, 4] = True           # a lone cell in the far corner
    w = grid_neighbours(5, 5, "rook", mask=mask)
    assert neighbour_lists(w) == [[1], [0, 2], [1], []]


@pytest.mark.parametrize("args, message", [
    ((0, 5), "at least one cell"), ((5, -1), "at least one cell"), ((2.5, 3), "at least one cell"),
    (("a", 3), "whole numbers"),
])
def test_grid_neighbours_reject_empty_or_bad_sizes(args, message):
    with pytest.raises(VrpError, match=message):
        grid_neighbours(*args)


def test_grid_neighbours_reject_bad_kind_and_masks():
    with pytest.raises(VrpError, match="queen' or 'rook"):
        grid_neighbours(3, 3, "bishop")
    with pytest.raises(VrpError, match="shape"):
        grid_neighbours(3, 4, mask=np.ones((3, 4), dtype=bool))
    with pytest.raises(VrpError, match="boolean"):
        grid_neighbours(3, 3, mask=np.ones((3, 3)))
    with pytest.raises(VrpError, match="no cells"):
        grid_neighbours(3, 3, mask=np.zeros((3, 3), dtype=bool))


# ------------------------------------------------------------------------------------ distance bands

def test_distance_band_equals_libpysal_on_the_esda_fixture():
    w = distance_band(POINTS[:, 0], POINTS[:, 1], 15)
    check_canonical(w, 6)
    assert same(w, libpysal.weights.DistanceBand(POINTS, threshold=15).sparse)
    # 15 exactly (points 3 and 4) is in: the band is inclusive
    assert neighbour_lists(w) == [[1, 3], [0, 3, 4], [4], [0, 1, 4], [1, 2, 3, 5], [4]]


def test_distance_band_on_grid_centres_gives_rook_and_queen():
    cell = 250.0
    rows, cols = np.divmod(np.arange(6 * 7), 7)
    x, y = 400_000 + (cols + 0.5) * cell, 100_000 + (rows + 0.5) * cell
    assert same(distance_band(x, y, cell), grid_neighbours(7, 6, "rook"))
    assert same(distance_band(x, y, cell * math.sqrt(2) * 1.000001), grid_neighbours(7, 6, "queen"))


def test_distance_band_just_over_the_spacing_gives_hexagons_six_neighbours():
    spacing = 200.0
    r, c = np.divmod(np.arange(9 * 9), 9)
    x = c * spacing + (r % 2) * spacing / 2
    y = r * spacing * math.sqrt(3) / 2
    w = distance_band(x, y, spacing * 1.01)
    counts = np.diff(w.indptr).reshape(9, 9)
    assert (counts[1:-1, 1:-1] == 6).all()
    assert counts.max() == 6 and counts[0, 0] in (2, 3)


def test_distance_band_coincident_points_neighbour_each_other_not_themselves():
    w = distance_band([0, 0, 5], [0, 0, 0], 1)
    assert neighbour_lists(w) == [[1], [0], []]


@pytest.mark.parametrize("x, y, threshold, message", [
    ([0, 1], [0, 1], 0, "greater than 0"), ([0, 1], [0, 1], -5, "greater than 0"),
    ([0, 1], [0, 1], float("nan"), "greater than 0"), ([0, 1], [0], 5, "same length"),
    ([], [], 5, "no points"), ([0, np.nan], [0, 1], 5, "finite"),
])
def test_distance_band_rejects_bad_input(x, y, threshold, message):
    with pytest.raises(VrpError, match=message):
        distance_band(x, y, threshold)


# ------------------------------------------------------------------------------------ polygons

def boxes(nx: int, ny: int, size: float = 100.0) -> list:
    rows, cols = np.divmod(np.arange(nx * ny), nx)
    return list(shapely.box(cols * size, rows * size, (cols + 1) * size, (rows + 1) * size))


@pytest.mark.parametrize("kind", ["queen", "rook"])
def test_polygon_contiguity_on_squares_equals_the_grid(kind):
    w = polygon_contiguity(boxes(6, 5), kind)
    check_canonical(w, 30)
    assert same(w, grid_neighbours(6, 5, kind))


def test_polygon_contiguity_equals_libpysal_queen_on_shared_vertices():
    geopandas = pytest.importorskip("geopandas")
    frame = geopandas.GeoDataFrame(geometry=boxes(5, 4))
    expected = libpysal.weights.Queen.from_dataframe(frame, use_index=False).sparse
    assert same(polygon_contiguity(frame.geometry), expected)


def test_polygon_contiguity_is_geometric_at_t_junctions():
    # a wide box on top of two narrow ones: the wide one has no vertex at x = 100
    polys = [shapely.box(0, 0, 100, 100), shapely.box(100, 0, 200, 100), shapely.box(0, 100, 200, 200)]
    assert neighbour_lists(polygon_contiguity(polys, "queen")) == [[1, 2], [0, 2], [0, 1]]
    assert neighbour_lists(polygon_contiguity(polys, "rook")) == [[1, 2], [0, 2], [0, 1]]
    # corner-only contact is queen but not rook
    corner = [shapely.box(0, 0, 1, 1), shapely.box(1, 1, 2, 2)]
    assert neighbour_lists(polygon_contiguity(corner, "queen")) == [[1], [0]]
    assert neighbour_lists(polygon_contiguity(corner, "rook")) == [[], []]


def test_polygon_contiguity_tolerance_bridges_slivers():
    polys = [shapely.box(0, 0, 100, 100), shapely.box(100.5, 0, 200, 100), shapely.box(300, 0, 400, 100)]
    assert neighbour_lists(polygon_contiguity(polys)) == [[], [], []]
    assert neighbour_lists(polygon_contiguity(polys, tolerance=1.0)) == [[1], [0], []]


def test_polygon_contiguity_rejects_bad_input():
    with pytest.raises(VrpError, match="no geometry"):
        polygon_contiguity([shapely.box(0, 0, 1, 1), None])
    with pytest.raises(VrpError, match="no polygons"):
        polygon_contiguity([])
    with pytest.raises(VrpError, match="queen only|only supported for queen"):
        polygon_contiguity(boxes(2, 2), "rook", tolerance=1)
    with pytest.raises(VrpError, match="tolerance"):
        polygon_contiguity(boxes(2, 2), tolerance=-1)
    with pytest.raises(VrpError, match="queen' or 'rook"):
        polygon_contiguity(boxes(2, 2), "king")
