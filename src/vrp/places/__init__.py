"""Place analysis: grids, harm weights, KDE, Gi* and local Moran's I with honest multiple
testing, concentration, stability, hotspot selection, forecast evaluation and near repeats.

Conventions shared by every module here (pure functions over plain numpy arrays, as esda's are):

* Coordinates are British National Grid metres (EPSG:27700).
* A square grid is (x0, y0, cell, nx, ny): x0, y0 the south-west corner, `cell` the side in metres.
  Cell index = row * nx + col, row 0 the southernmost row, col 0 the westernmost column; a cell's
  centre is (x0 + (col + 0.5) * cell, y0 + (row + 0.5) * cell). 2-D surfaces are arrays of shape
  (ny, nx) indexed [row, col], so `surface.ravel()` is in cell-index order (the same order as
  libpysal's `lat2W(ny, nx)`).
* A study area is a boolean mask over cells; statistics run over the cells inside it only, and
  report every one of them, zero-count cells included.
* Spatial weights are scipy.sparse CSR matrices (binary unless stated), rows and columns in the
  order of the value vector they go with, no self-weights (Gi* adds its own).
"""
