"""Kernel density estimation (KDE) of events on a square grid, and a bandwidth rule for hotspot maps.

`kde_surface` returns the density of events (or of harm, when weighted) per square kilometre at
every cell centre of a grid (x0, y0, cell, nx, ny), as an (ny, nx) array:

    f(c) = 1e6 * sum_i w_i K(|c - p_i|)          (K in 1/m^2, so f in events or harm per km^2)

with the quartic (biweight) kernel K(d) = 3/(pi h^2) (1 - d^2/h^2)^2 for d < h (h = search
radius, the kernel of ArcGIS Kernel Density, CrimeStat and QGIS Heatmap), or the Gaussian
K(d) = exp(-d^2 / 2h^2) / (2 pi h^2) (h = standard deviation, as scikit-learn's `bandwidth`),
truncated at 4h (it holds 1 - exp(-8) = 99.97% of its mass; the dropped tail is below 0.034% of
the kernel's peak). Both integrate to 1, so the surface integrates to the number of events (or
the total weight) that lie well inside the grid.

Two exact-to-a-stated-tolerance methods, picked by cost (`method="auto"`):

* "fft": linear binning (Wand & Jones 1995, "Kernel Smoothing", appendix D; Silverman 1982,
  Applied Statistics 31: 93-99) of the points onto a lattice through the cell centres refined
  `s` times (spacing delta = cell / s), convolution with the kernel sampled at the lattice
  offsets (`scipy.signal.fftconvolve`, which computes the full linear convolution, so nothing
  wraps round), and the result read at the cell centres. Linear binning moves each point's
  mass to the 4 lattice nodes around it with bilinear weights. To leading order the error this
  makes in one point's contribution is delta^2/2 [fx(1-fx) K_xx + fy(1-fy) K_yy] (fx, fy its
  fractional position between nodes), largest for a point midway between 4 nodes at the
  kernel's centre: delta^2/8 |laplacian K(0)| = (delta/h)^2 / 4 of the kernel's peak K(0) for
  the Gaussian and (delta/h)^2 K(0) for the quartic (checked numerically over all positions and
  offsets: the worst error stays under these, at 97-99% of them for delta <= h/5). `s` is the
  smallest refinement that brings that bound under `tolerance` (default 1% of K(0)). The
  transform runs in single precision: 3x faster, and its round-off (~3e-7 of the surface's
  peak) is far below the binning tolerance; values under 1e-6 of the peak are set to 0.
* "direct": every point's exact kernel value at every cell centre within the kernel's reach,
  summed with `np.bincount`. No approximation at all; its cost is points x cells in reach, so
  it wins for small bandwidths (where the lattice would need a large refinement) and few points.

Edge treatment: the surface is the plain sum over all points, with no edge correction. Points
outside the grid still contribute to the cells within the kernel's reach of them (their mass
falls in a padding margin that is convolved and then cut off); mass that spills over the grid's
edge, or over the study-area boundary, is lost rather than pushed back inside (no edge
correction, as in scikit-learn's KernelDensity). Pass the events of a margin around the study area (at
least one bandwidth wide) to avoid a dip along a boundary that is not a real edge of activity.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from vrp.errors import VrpError

KERNELS = ("quartic", "gaussian")
GAUSSIAN_TRUNCATE = 4.0      # Gaussian kernel cut at this many standard deviations
DEFAULT_TOLERANCE = 0.01     # binning error bound, as a fraction of one point's kernel peak
MAX_REFINE = 16              # finest lattice: cell / 16
MAX_LATTICE = 40_000_000     # lattice nodes the FFT path may allocate (~1.5 GB in all at the limit)
NN_K = 10                    # suggest_bandwidth: the k of the k-th nearest neighbour distance
FFT_FLOOR = 1e-6             # FFT path: values below this fraction of the peak are set to 0
PER_KM2 = 1e6                # square metres in a square kilometre


def kernel_value(d2: np.ndarray, bandwidth: float, kernel: str = "quartic") -> np.ndarray:
    """The kernel K at squared distance d2 (m^2), in 1/m^2: it integrates to 1 over the plane.

    quartic: 3/(pi h^2) (1 - d^2/h^2)^2 for d < h, else 0 (h is the search radius);
    gaussian: exp(-d^2/(2 h^2)) / (2 pi h^2) for d <= 4h, else 0 (h is the standard deviation).
    """
    d2 = np.asarray(d2, dtype=float)
    h2 = float(bandwidth) ** 2
    if kernel == "quartic":
        q = np.clip(1.0 - d2 / h2, 0.0, None)
        return (3.0 / (math.pi * h2)) * q * q
    if kernel == "gaussian":
        inside = d2 <= (GAUSSIAN_TRUNCATE ** 2) * h2
        return np.where(inside, np.exp(-d2 / (2.0 * h2)) / (2.0 * math.pi * h2), 0.0)
    raise VrpError(f"unknown kernel '{kernel}': use one of {', '.join(KERNELS)}")


def kernel_reach(bandwidth: float, kernel: str = "quartic") -> float:
    """Distance (m) beyond which the kernel is zero: h (quartic) or 4h (truncated Gaussian)."""
    if kernel not in KERNELS:
        raise VrpError(f"unknown kernel '{kernel}': use one of {', '.join(KERNELS)}")
    return float(bandwidth) * (1.0 if kernel == "quartic" else GAUSSIAN_TRUNCATE)


def binning_error_bound(bandwidth: float, spacing: float, kernel: str = "quartic") -> float:
    """Worst-case error that linear binning on a lattice of `spacing` metres makes in one point's
    contribution at any node, as a fraction of that kernel's peak K(0).

    The leading-order error for a point midway between 4 nodes at the kernel's centre,
    delta^2/8 |laplacian K(0)|: (delta/h)^2 for the quartic, (delta/h)^2 / 4 for the Gaussian.
    tests/places/test_kde.py checks that no position and offset does worse.
    """
    r = float(spacing) / float(bandwidth)
    return r * r if kernel == "quartic" else r * r / 4.0


def check_bandwidth(bandwidth: float, cell: float) -> str | None:
    """Raise VrpError for a bandwidth that is not a positive number of metres; return a warning
    message (else None) when it is smaller than the cell: the surface then shows individual
    points rather than a density, and a cell's value depends on where in it the point fell."""
    try:
        h = float(bandwidth)
    except (TypeError, ValueError):
        raise VrpError(f"bandwidth must be a positive number of metres, not {bandwidth!r}") from None
    if not (h > 0 and math.isfinite(h)):
        raise VrpError(f"bandwidth must be a positive number of metres, not {bandwidth!r}")
    if h < float(cell):
        return (f"bandwidth {h:g} m is smaller than the {float(cell):g} m cell: the map will show single "
                "events, not a density; use a bandwidth of at least one cell")
    return None


def _check_grid(x0: float, y0: float, cell: float, nx: int, ny: int) -> None:
    if not (float(cell) > 0 and math.isfinite(float(cell))):
        raise VrpError(f"cell size must be a positive number of metres, not {cell!r}")
    if int(nx) != nx or int(ny) != ny or nx < 1 or ny < 1:
        raise VrpError(f"the grid has no cells ({nx!r} x {ny!r}): nx and ny must be whole numbers >= 1")
    if not (math.isfinite(float(x0)) and math.isfinite(float(y0))):
        raise VrpError("the grid origin (x0, y0) must be finite BNG metres")


def _points(x, y, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise VrpError(f"x and y differ in length ({x.size} and {y.size})")
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise VrpError(f"weights have {w.size} values for {x.size} points")
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise VrpError(f"{int(bad.sum())} points have no finite coordinates: drop unlocated events first")
    if not np.isfinite(w).all() or (w < 0).any():
        raise VrpError("weights must be finite and not negative (a count of 1, or a harm score)")
    return x, y, w


def _refinement(bandwidth: float, cell: float, kernel: str, tolerance: float) -> int:
    """Smallest s with binning_error_bound(h, cell / s) <= tolerance, capped at MAX_REFINE."""
    c = 1.0 if kernel == "quartic" else 0.25
    s = math.ceil(cell / bandwidth * math.sqrt(c / tolerance) - 1e-9)
    return int(min(max(s, 1), MAX_REFINE))


def _fft_plan(nx: int, ny: int, cell: float, reach: float, s: int) -> tuple[int, int, int]:
    """(pad, lattice rows, lattice cols) for refinement s: the pad covers the kernel's reach plus
    one node, so a point that can touch any cell centre has all 4 of its nodes on the lattice."""
    delta = cell / s
    pad = int(math.ceil(reach / delta)) + 1
    return pad, (ny - 1) * s + 1 + 2 * pad, (nx - 1) * s + 1 + 2 * pad


def _kde_fft(x, y, w, x0, y0, cell, nx, ny, h, kernel, s) -> np.ndarray:
    from scipy.signal import fftconvolve  # imported here: scipy.signal takes seconds to import

    delta = cell / s
    reach = kernel_reach(h, kernel)
    pad, rows, cols = _fft_plan(nx, ny, cell, reach, s)
    # lattice coordinates: node (i, j) at (x0 + cell/2 + (j - pad) delta, y0 + cell/2 + (i - pad) delta)
    u = (x - (x0 + 0.5 * cell)) / delta + pad
    v = (y - (y0 + 0.5 * cell)) / delta + pad
    j, i = np.floor(u), np.floor(v)
    keep = (j >= 0) & (j < cols - 1) & (i >= 0) & (i < rows - 1)
    u, v, j, i, w = u[keep], v[keep], j[keep].astype(np.int64), i[keep].astype(np.int64), w[keep]
    fu, fv = u - j, v - i
    node = i * cols + j
    lattice = np.bincount(node, w * (1 - fu) * (1 - fv), minlength=rows * cols)
    lattice += np.bincount(node + 1, w * fu * (1 - fv), minlength=rows * cols)
    lattice += np.bincount(node + cols, w * (1 - fu) * fv, minlength=rows * cols)
    lattice += np.bincount(node + cols + 1, w * fu * fv, minlength=rows * cols)
    lattice = lattice.reshape(rows, cols)
    r = int(math.ceil(reach / delta))
    off = np.arange(-r, r + 1) * delta
    kern = kernel_value(off[:, None] ** 2 + off[None, :] ** 2, h, kernel)
    # single precision: 3x faster than double, and its round-off (~3e-7 of the peak, measured on
    # bench/kde.py data) is five orders of magnitude below the binning tolerance
    dens = fftconvolve(lattice.astype(np.float32), kern.astype(np.float32), mode="same").astype(float)
    out = dens[pad:pad + (ny - 1) * s + 1:s, pad:pad + (nx - 1) * s + 1:s]
    # Single-precision FFT round-off is ~3e-7 of the peak (far below the binning tolerance): zero
    # what is below FFT_FLOOR of the peak, so that empty cells are exactly 0 (rankings then tie
    # them and break the tie by cell index) and none is negative.
    peak = float(out.max()) if out.size else 0.0
    out = np.where(out > peak * FFT_FLOOR, out, 0.0)
    return np.ascontiguousarray(out)


def _kde_direct(x, y, w, x0, y0, cell, nx, ny, h, kernel) -> np.ndarray:
    reach = kernel_reach(h, kernel)
    m = int(math.ceil(reach / cell)) + 1
    col = np.floor((x - x0) / cell)
    row = np.floor((y - y0) / cell)
    keep = (col >= -m) & (col < nx + m) & (row >= -m) & (row < ny + m)
    x, y, w = x[keep], y[keep], w[keep]
    col, row = col[keep].astype(np.int64), row[keep].astype(np.int64)
    out = np.zeros(nx * ny)
    dj = np.arange(-m, m + 1)
    chunk = max(1, 4_000_000 // dj.size)
    for start in range(0, x.size, chunk):
        sl = slice(start, start + chunk)
        c = col[sl, None] + dj[None, :]
        dx2 = (x0 + (c + 0.5) * cell - x[sl, None]) ** 2
        for di in range(-m, m + 1):
            r = row[sl] + di
            dy2 = (y0 + (r + 0.5) * cell - y[sl]) ** 2
            val = kernel_value(dx2 + dy2[:, None], h, kernel) * w[sl, None]
            ok = (c >= 0) & (c < nx) & ((r >= 0) & (r < ny))[:, None] & (val > 0)
            out += np.bincount((r[:, None] * nx + c)[ok], val[ok], minlength=nx * ny)
    return out.reshape(ny, nx)


def kde_surface(x, y, weights, x0: float, y0: float, cell: float, nx: int, ny: int, bandwidth: float,
                kernel: str = "quartic", *, method: str = "auto", tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """Density of events (or harm, with `weights`) per square kilometre at each cell centre of the
    grid, shape (ny, nx), row 0 south. See the module docstring for the kernels, the two methods
    and the edge treatment.

    `method`: "auto" (the cheaper of the two for these points and this grid), "fft" (linear
    binning on a lattice refined until the per-point error bound is <= `tolerance` x K(0), then
    FFT convolution) or "direct" (exact). Warns (UserWarning) when the bandwidth is under a cell.
    """
    _check_grid(x0, y0, cell, nx, ny)
    nx, ny, cell = int(nx), int(ny), float(cell)
    message = check_bandwidth(bandwidth, cell)
    if message:
        warnings.warn(message, stacklevel=2)
    if kernel not in KERNELS:
        raise VrpError(f"unknown kernel '{kernel}': use one of {', '.join(KERNELS)}")
    if not 0 < tolerance < 1:
        raise VrpError(f"tolerance must be between 0 and 1, not {tolerance!r}")
    x, y, w = _points(x, y, weights)
    h = float(bandwidth)
    if x.size == 0:
        return np.zeros((ny, nx))
    if method == "auto":
        method = _cheaper_method(x.size, nx, ny, cell, h, kernel, tolerance)
    if method == "direct":
        dens = _kde_direct(x, y, w, float(x0), float(y0), cell, nx, ny, h, kernel)
    elif method == "fft":
        s = _refinement(h, cell, kernel, tolerance)
        while s > 1 and math.prod(_fft_plan(nx, ny, cell, kernel_reach(h, kernel), s)[1:]) > MAX_LATTICE:
            s -= 1
        bound = binning_error_bound(h, cell / s, kernel)
        if bound > tolerance * (1 + 1e-9):
            warnings.warn(f"KDE lattice limited to cell/{s}: binning error up to {bound:.1%} of one event's peak "
                          f"(asked for {tolerance:.1%}); use method='direct' for exact values", stacklevel=2)
        dens = _kde_fft(x, y, w, float(x0), float(y0), cell, nx, ny, h, kernel, s)
    else:
        raise VrpError(f"unknown KDE method '{method}': use auto, fft or direct")
    return dens * PER_KM2


def _cheaper_method(n: int, nx: int, ny: int, cell: float, h: float, kernel: str, tolerance: float) -> str:
    """Estimated time of each method: direct ~ points x (2m+1)^2 kernel evaluations at ~35 ns
    each; fft ~ 3 single-precision transforms of the padded lattice at ~1.2 ns per node and
    log2(nodes) (both measured on a 2-core x86 machine, numpy 2.4 / scipy 1.17). The FFT path
    is refused when its lattice would exceed MAX_LATTICE nodes."""
    reach = kernel_reach(h, kernel)
    m = int(math.ceil(reach / cell)) + 1
    direct = n * (2 * m + 1) ** 2 * 35.0
    s = _refinement(h, cell, kernel, tolerance)
    _, rows, cols = _fft_plan(nx, ny, cell, reach, s)
    nodes = rows * cols
    if nodes > MAX_LATTICE:
        return "direct"
    fft = nodes * 3 * max(math.log2(nodes), 1.0) * 1.2
    return "direct" if direct <= fft else "fft"


@dataclass(frozen=True)
class BandwidthChoice:
    """A suggested KDE bandwidth and how it was reached (for the provenance line of a map)."""
    bandwidth: float         # metres, rounded to 10 m, never below one cell
    rule: str                # the rule in words
    k: int                   # the k of the k-th nearest neighbour
    knn_distance: float      # median distance (m) from a distinct location to its k-th nearest other
    locations: int           # distinct event locations used
    floored_to_cell: bool    # the rule gave less than one cell, so one cell was used
    message: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def suggest_bandwidth(x, y, cell: float, k: int = NN_K) -> BandwidthChoice:
    """A bandwidth for hotspot maps: the median, over distinct event locations, of the distance to
    the k-th nearest other location (k = 10), rounded to 10 m and never less than one cell.

    After Williamson, McLafferty, Goldsmith, Mollenkopf & McGuire (1998, "Smoothing crime incident
    data: new methods for determining the bandwidth in kernel estimation", ESRI User Conference),
    who set the bandwidth from k-nearest-neighbour distances so that it follows how tightly the
    events cluster, not how big the area is. Our choices: distinct locations, because police
    data are snapped to map points and repeat addresses would make near-zero distances; the
    median rather than Williamson's mean, so isolated rural events do not widen the kernels over
    the town centres where hotspots are; k = 10, so a quartic kernel centred on a typical event
    reaches about 10 other locations (smaller k gives spiky single-address maps).

    Why not sfhotspot's default (MASS::bandwidth.nrd over the x coordinates; the R call
    `mean(nrd(x), nrd(y))` passes the y value as `trim`, so only x counts): a normal-reference
    rule (4 x 1.06 min(sd, IQR/1.34) n^-1/5, Scott/Silverman) treats the whole pattern as one
    Gaussian blob. Over a county the coordinates' standard deviation is tens of kilometres, so
    the radius comes out at several kilometres: it smooths street-level hotspots away, and
    normal-reference rules are known to oversmooth multimodal patterns (Silverman 1986, 3.4.2).
    """
    if not (float(cell) > 0 and math.isfinite(float(cell))):
        raise VrpError(f"cell size must be a positive number of metres, not {cell!r}")
    x, y, _ = _points(x, y, None)
    if int(k) != k or k < 1:
        raise VrpError(f"k must be a whole number >= 1, not {k!r}")
    from scipy.spatial import cKDTree

    pts = np.unique(np.round(np.column_stack([x, y]), 1), axis=0)
    if len(pts) < 2:
        raise VrpError(f"cannot suggest a bandwidth from {len(pts)} distinct event location(s): give one with --bandwidth")
    k_used = int(min(k, len(pts) - 1))
    dist, _ = cKDTree(pts).query(pts, k=k_used + 1)
    knn = float(np.median(dist[:, k_used]))
    cell = float(cell)
    h = round(knn / 10.0) * 10.0
    floored = h < cell
    h = max(h, cell)
    message = None
    if k_used < k:
        message = (f"only {len(pts)} distinct locations: used the {_ordinal(k_used)} nearest neighbour, "
                   f"not the {_ordinal(int(k))}")
    rule = (f"median distance from each of {len(pts):,} distinct event locations to its {_ordinal(k_used)} nearest "
            f"other location ({knn:,.0f} m), rounded to 10 m" + (f", raised to one cell ({cell:g} m)" if floored else ""))
    return BandwidthChoice(float(h), rule, k_used, knn, int(len(pts)), bool(floored), message)


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"
