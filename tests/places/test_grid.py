import numpy as np
import pytest
import shapely

from vrp.errors import VrpError
from vrp.places.grid import HexGrid, SquareGrid, grid_units, lsoa_units, suggest_cell_size


def test_square_grid_origin_is_snapped_so_ids_are_stable():
    a = SquareGrid.covering((440_010, 110_020, 441_990, 111_000), 150)
    b = SquareGrid.covering((440_100, 110_200, 442_500, 111_500), 150)
    assert (a.x0, a.y0) == (439_950, 109_950)
    assert (a.x0 - b.x0) % 150 == 0 and (a.y0 - b.y0) % 150 == 0


def test_square_index_and_centres_round_trip_with_half_open_cells():
    g = SquareGrid(0.0, 0.0, 100.0, 4, 3)
    x, y = g.centres()
    assert np.array_equal(g.index(x, y), np.arange(12))
    # row 0 is the southernmost row; index = row * nx + col
    assert g.index(np.array([150.0]), np.array([250.0]))[0] == 2 * 4 + 1
    # a point on an edge belongs to the cell to its north-east; outside is -1
    assert g.index(np.array([100.0, -0.1, 400.0]), np.array([100.0, 5.0, 5.0])).tolist() == [5, -1, -1]


def test_hex_points_go_to_the_nearest_centre():
    g = HexGrid.covering((0, 0, 2_000, 1_500), 200)
    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 2_000, 3_000), rng.uniform(0, 1_500, 3_000)
    cx, cy = g.centres()
    nearest = np.argmin((x[:, None] - cx[None]) ** 2 + (y[:, None] - cy[None]) ** 2, axis=1)
    assert np.array_equal(g.index(x, y), nearest)


def test_hexagons_tile_the_plane_with_the_stated_area():
    g = HexGrid(0.0, 0.0, 100.0, 6, 6)
    polys = g.polygons(np.arange(g.n))
    assert np.allclose(shapely.area(polys), 100.0 ** 2 * np.sqrt(3) / 2)
    # neighbours share an edge and never overlap
    assert shapely.area(shapely.intersection(polys[0], polys[1])) == pytest.approx(0, abs=1e-6)
    assert shapely.length(shapely.intersection(polys[0], polys[1])) == pytest.approx(100.0 / np.sqrt(3))


@pytest.mark.parametrize("kind", ["square", "hex"])
def test_units_clipped_to_the_area_hold_exactly_its_area(kind):
    area = shapely.Polygon([(0, 0), (3_000, 0), (3_000, 1_000), (1_000, 2_500), (0, 2_000)])
    units = grid_units(kind, 250, area.bounds, area, study_area="test")
    assert units.area_km2.sum() == pytest.approx(area.area / 1e6, rel=1e-9)
    assert (units.area_km2 > 0).all() and units.area_km2.max() <= 0.25 * (1 if kind == "square" else 0.87) + 1e-12
    # every point inside the area lands in a unit
    rng = np.random.default_rng(2)
    pts = shapely.points(rng.uniform(0, 3_000, 2_000), rng.uniform(0, 2_500, 2_000))
    inside = shapely.contains(area, pts)
    got = units.assign(shapely.get_x(pts[inside]), shapely.get_y(pts[inside]))
    assert (got >= 0).all()


def test_unclipped_grid_keeps_every_cell_whole():
    units = grid_units("square", 100, (0, 0, 999, 499), None)
    assert units.n == 50 and np.allclose(units.area_km2, 0.01)
    assert units.ids[0] == "50_50"
    assert units.mask().all()


def test_a_point_on_the_far_edge_of_the_extent_still_has_a_cell():
    g = SquareGrid.covering((0, 0, 1_000, 500), 100)
    assert (g.nx, g.ny) == (11, 6) and g.index(np.array([1_000.0]), np.array([500.0]))[0] >= 0


def test_too_many_cells_is_a_clear_error():
    with pytest.raises(VrpError, match="cells"):
        SquareGrid.covering((0, 0, 1_000_000, 1_000_000), 10)
    with pytest.raises(VrpError, match="positive"):
        SquareGrid.covering((0, 0, 10, 10), 0)


def test_cell_size_suggestion_is_shorter_side_over_150_snapped():
    assert suggest_cell_size(85_000, 70_000) == 500     # HIPS: 467 m -> 500 m
    assert suggest_cell_size(20_000, 15_000) == 100     # a city: 100 m
    with pytest.raises(VrpError):
        suggest_cell_size(0, 10)


def test_lsoa_units_are_in_code_order_with_areas():
    polys = np.array([shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 3000, 1000)])
    units = lsoa_units(["E01000002", "E01000001"], polys)
    assert units.ids.tolist() == ["E01000001", "E01000002"]
    assert units.area_km2.tolist() == [2.0, 1.0]
    assert units.assign_codes(["E01000002", "X"]).tolist() == [1, -1]
