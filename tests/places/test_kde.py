"""KDE surface against a brute-force sum, scikit-learn, and its own stated error bounds."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from vrp.errors import VrpError
from vrp.places.kde import (binning_error_bound, check_bandwidth, kde_surface, kernel_reach, kernel_value,
                            suggest_bandwidth)

X0, Y0, CELL, NX, NY = 1000.0, 2000.0, 100.0, 40, 30


def centres(x0=X0, y0=Y0, cell=CELL, nx=NX, ny=NY):
    cx = x0 + (np.arange(nx) + 0.5) * cell
    cy = y0 + (np.arange(ny) + 0.5) * cell
    return np.meshgrid(cx, cy)


def brute_force(x, y, w, h, kernel, x0=X0, y0=Y0, cell=CELL, nx=NX, ny=NY, truncate=True):
    """Independent reference: every point's kernel at every cell centre, per km^2."""
    cx, cy = centres(x0, y0, cell, nx, ny)
    d2 = (cx.ravel()[:, None] - x[None, :]) ** 2 + (cy.ravel()[:, None] - y[None, :]) ** 2
    if kernel == "quartic":
        k = np.where(d2 < h * h, 3 / (math.pi * h * h) * (1 - d2 / (h * h)) ** 2, 0.0)
    else:
        k = np.exp(-d2 / (2 * h * h)) / (2 * math.pi * h * h)
        if truncate:
            k = np.where(d2 <= 16 * h * h, k, 0.0)
    return (k * w[None, :]).sum(axis=1).reshape(ny, nx) * 1e6


@pytest.fixture(scope="module")
def points():
    """Clusters plus background, some points off the grid (within and beyond the kernels' reach)."""
    rng = np.random.default_rng(42)
    cx = rng.uniform(X0, X0 + NX * CELL, 6)
    cy = rng.uniform(Y0, Y0 + NY * CELL, 6)
    x = np.concatenate([rng.normal(c, 150, 40) for c in cx] + [rng.uniform(X0 - 1500, X0 + NX * CELL + 1500, 60)])
    y = np.concatenate([rng.normal(c, 150, 40) for c in cy] + [rng.uniform(Y0 - 1500, Y0 + NY * CELL + 1500, 60)])
    w = rng.uniform(0.5, 4.0, x.size)
    return x, y, w


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("h", [200.0, 250.0, 400.0])
def test_fft_within_one_percent_of_peak_of_brute_force(points, kernel, h):
    x, y, w = points
    exact = brute_force(x, y, w, h, kernel)
    ours = kde_surface(x, y, w, X0, Y0, CELL, NX, NY, h, kernel, method="fft")
    assert ours.shape == (NY, NX)
    assert np.abs(ours - exact).max() <= 0.01 * exact.max()


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("h", [60.0, 150.0, 300.0])
def test_direct_is_exact(points, kernel, h):
    x, y, w = points
    exact = brute_force(x, y, w, h, kernel)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = kde_surface(x, y, w, X0, Y0, CELL, NX, NY, h, kernel, method="direct")
    np.testing.assert_allclose(ours, exact, rtol=1e-12, atol=1e-12 * exact.max())


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_auto_matches_brute_force(points, kernel):
    x, y, w = points
    exact = brute_force(x, y, w, 300.0, kernel)
    ours = kde_surface(x, y, w, X0, Y0, CELL, NX, NY, 300.0, kernel)
    assert np.abs(ours - exact).max() <= 0.01 * exact.max()


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_single_point_error_within_stated_bound(kernel):
    """The worst place for linear binning (midway between lattice nodes); the error at every
    cell is within the bound the refinement was chosen for, as a share of the kernel's peak."""
    h = 230.0
    x, y = np.array([X0 + 20 * CELL + 0.5 * CELL + 7.0]), np.array([Y0 + 15 * CELL + 11.0])
    for tolerance in (0.05, 0.01, 0.003):
        ours = kde_surface(x, y, None, X0, Y0, CELL, NX, NY, h, kernel, method="fft", tolerance=tolerance)
        exact = brute_force(x, y, np.ones(1), h, kernel)
        k0 = kernel_value(0.0, h, kernel) * 1e6
        assert np.abs(ours - exact).max() <= tolerance * k0


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_binning_bound_holds_over_positions_and_offsets(kernel):
    """Numerical check of binning_error_bound: bilinear weights of one point to its 4 nodes,
    against the exact kernel at every node in reach, for a grid of positions in a lattice cell."""
    h, delta = 1.0, 0.25
    reach = kernel_reach(h, kernel)
    nodes = np.arange(-int(reach / delta) - 2, int(reach / delta) + 3) * delta
    nx_, ny_ = np.meshgrid(nodes, nodes)
    worst = 0.0
    for fx in np.linspace(0, 1, 11):
        for fy in np.linspace(0, 1, 11):
            px, py = fx * delta, fy * delta
            exact = kernel_value((nx_ - px) ** 2 + (ny_ - py) ** 2, h, kernel)
            binned = sum(wx * wy * kernel_value((nx_ - a * delta) ** 2 + (ny_ - b * delta) ** 2, h, kernel)
                         for a, wx in ((0, 1 - fx), (1, fx)) for b, wy in ((0, 1 - fy), (1, fy)))
            worst = max(worst, float(np.abs(binned - exact).max()))
    bound = binning_error_bound(h, delta, kernel) * float(kernel_value(0.0, h, kernel))
    assert worst <= bound
    assert worst >= 0.9 * bound  # and the bound is not loose


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_kernel_integrates_to_one(kernel):
    h = 3.0
    r = np.linspace(0, kernel_reach(h, kernel), 200_001)
    f = kernel_value(r * r, h, kernel) * 2 * math.pi * r
    integral = float(np.sum((f[1:] + f[:-1]) / 2 * np.diff(r)))
    expected = 1.0 if kernel == "quartic" else 1 - math.exp(-8)
    assert integral == pytest.approx(expected, abs=1e-9)
    assert float(kernel_value(0.0, h, "quartic")) == pytest.approx(3 / (math.pi * 9))
    assert float(kernel_value(h * h, h, "quartic")) == 0.0


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
@pytest.mark.parametrize("method", ["fft", "direct"])
def test_surface_integrates_to_number_of_points(kernel, method):
    rng = np.random.default_rng(3)
    n = 200
    x = rng.uniform(X0 + 1500, X0 + NX * CELL - 1500, n)
    y = rng.uniform(Y0 + 1200, Y0 + NY * CELL - 1200, n)
    w = rng.uniform(0, 3, n)
    h = 250.0 if kernel == "quartic" else 200.0
    for weights, total in ((None, n), (w, w.sum())):
        dens = kde_surface(x, y, weights, X0, Y0, CELL, NX, NY, h, kernel, method=method)
        mass = dens.sum() * CELL * CELL / 1e6      # density per km^2 x cell area in km^2
        expected = total * (1.0 if kernel == "quartic" else 1 - math.exp(-8))
        assert mass == pytest.approx(expected, rel=2e-3)


def test_gaussian_agrees_with_sklearn(points):
    KernelDensity = pytest.importorskip("sklearn.neighbors").KernelDensity
    x, y, _ = points
    h = 250.0
    cx, cy = centres()
    kd = KernelDensity(kernel="gaussian", bandwidth=h, rtol=0, atol=0).fit(np.column_stack([x, y]))
    # score_samples: log of (density per m^2) / n, untruncated Gaussian
    theirs = np.exp(kd.score_samples(np.column_stack([cx.ravel(), cy.ravel()]))).reshape(NY, NX) * x.size * 1e6
    ours = kde_surface(x, y, None, X0, Y0, CELL, NX, NY, h, "gaussian")
    assert np.abs(ours - theirs).max() <= 0.01 * theirs.max()
    exact = kde_surface(x, y, None, X0, Y0, CELL, NX, NY, h, "gaussian", method="direct")
    assert np.abs(exact - theirs).max() <= 4e-4 * theirs.max()   # the 4h truncation only


def test_weight_two_is_two_points():
    x, y = np.array([X0 + 1234.0, X0 + 2000.0]), np.array([Y0 + 1500.0, Y0 + 900.0])
    once = kde_surface(np.r_[x, x[:1]], np.r_[y, y[:1]], None, X0, Y0, CELL, NX, NY, 300.0)
    weighted = kde_surface(x, y, [2.0, 1.0], X0, Y0, CELL, NX, NY, 300.0)
    np.testing.assert_allclose(weighted, once, rtol=1e-9, atol=1e-12)


def test_orientation_row_zero_is_south():
    x, y = np.array([X0 + 5.5 * CELL]), np.array([Y0 + 2.5 * CELL])
    dens = kde_surface(x, y, None, X0, Y0, CELL, NX, NY, 300.0)
    assert np.unravel_index(np.argmax(dens), dens.shape) == (2, 5)


def test_points_off_the_grid_count_only_within_reach():
    h = 300.0
    near = kde_surface([X0 - 150.0], [Y0 + 1000.0], None, X0, Y0, CELL, NX, NY, h, method="fft")
    assert near[:, 0].max() > 0 and near[:, 2:].max() == 0    # reaches 1.5 cells in
    far = kde_surface([X0 - 400.0], [Y0 + 1000.0], None, X0, Y0, CELL, NX, NY, h)
    assert far.max() == 0.0
    exact = brute_force(np.array([X0 - 150.0]), np.array([Y0 + 1000.0]), np.ones(1), h, "quartic")
    np.testing.assert_allclose(kde_surface([X0 - 150.0], [Y0 + 1000.0], None, X0, Y0, CELL, NX, NY, h,
                                           method="direct"), exact, rtol=1e-12)


def test_no_points_gives_zeros():
    assert not kde_surface([], [], None, X0, Y0, CELL, NX, NY, 300.0).any()


def test_bad_input():
    with pytest.raises(VrpError, match="bandwidth"):
        kde_surface([X0], [Y0], None, X0, Y0, CELL, NX, NY, 0.0)
    with pytest.raises(VrpError, match="bandwidth"):
        kde_surface([X0], [Y0], None, X0, Y0, CELL, NX, NY, -5.0)
    with pytest.raises(VrpError, match="no cells"):
        kde_surface([X0], [Y0], None, X0, Y0, CELL, 0, NY, 300.0)
    with pytest.raises(VrpError, match="cell size"):
        kde_surface([X0], [Y0], None, X0, Y0, 0.0, NX, NY, 300.0)
    with pytest.raises(VrpError, match="kernel"):
        kde_surface([X0], [Y0], None, X0, Y0, CELL, NX, NY, 300.0, "epanechnikov")
    with pytest.raises(VrpError, match="finite"):
        kde_surface([np.nan], [Y0], None, X0, Y0, CELL, NX, NY, 300.0)
    with pytest.raises(VrpError, match="weights"):
        kde_surface([X0], [Y0], [-1.0], X0, Y0, CELL, NX, NY, 300.0)


def test_bandwidth_under_a_cell_warns():
    assert check_bandwidth(300.0, CELL) is None
    assert "smaller than the 100 m cell" in check_bandwidth(50.0, CELL)
    with pytest.warns(UserWarning, match="smaller than"):
        kde_surface([X0 + 10.0], [Y0 + 10.0], None, X0, Y0, CELL, NX, NY, 50.0)


def test_suggest_bandwidth_on_a_lattice():
    """On a square lattice of spacing 50 m, the 9th-12th nearest neighbours are 100 m away."""
    g = np.arange(40) * 50.0
    x, y = (a.ravel() for a in np.meshgrid(g, g))
    choice = suggest_bandwidth(x, y, 25.0)
    assert choice.bandwidth == 100.0 and choice.k == 10 and choice.locations == 1600
    assert not choice.floored_to_cell
    assert "10th nearest" in choice.rule
    # repeat events at the same address do not shrink it
    assert suggest_bandwidth(np.r_[x, x], np.r_[y, y], 25.0).bandwidth == 100.0
    # never less than a cell
    big = suggest_bandwidth(x, y, 150.0)
    assert big.bandwidth == 150.0 and big.floored_to_cell
    assert suggest_bandwidth(x, y, 25.0, k=4).bandwidth == 50.0
    assert choice.as_dict()["bandwidth"] == 100.0


def test_suggest_bandwidth_few_points():
    with pytest.raises(VrpError, match="distinct"):
        suggest_bandwidth([1.0, 1.0], [2.0, 2.0], 100.0)
    small = suggest_bandwidth([0.0, 300.0, 0.0], [0.0, 0.0, 400.0], 100.0)
    assert small.k == 2 and small.message and small.bandwidth == 500.0
