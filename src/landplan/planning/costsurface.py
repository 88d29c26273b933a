"""Land-use shares on a grid and the corridor cost surface that guides routing and siting.

The parcels are rasterised once, ``supersample``² sub-cells per cell, and each cell gets the share
(0–1) of it covered by each land-use group. For a corridor of full right-of-way ``width_m`` the
cost of a metre of centreline through a cell is what that metre takes: the mean share of each group
over a disc of diameter ``width_m`` around the cell, times ``width_m`` (m² per m), weighted per
group. The surface is a guide only: every candidate is then measured exactly with the vector engine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from rasterio.features import rasterize
from rasterio.transform import Affine

from .. import landuse

log = logging.getLogger("landplan")

#: The land-use groups shares are kept for (landuse.py's groups).
GROUPS: tuple[str, ...] = ("rice", "other_agriculture", "residential", "infrastructure", "water", "other")
#: Default cost weights per group (m² of cost per m² taken): rice land, and residential land (homes), count.
DEFAULT_WEIGHTS: dict[str, float] = {"rice": 1.0, "residential": 1.0, "other_agriculture": 0.0, "infrastructure": 0.0,
                                     "water": 0.0, "other": 0.0}


@dataclass(frozen=True)
class Grid:
    """A north-up grid of square cells: top-left corner (``x0``, ``y0``) in the working CRS, cell size
    ``res_m`` (m), ``rows`` × ``cols`` cells."""

    x0: float
    y0: float
    res_m: float
    rows: int
    cols: int

    @property
    def transform(self) -> Affine:
        """The grid's affine transform (rasterio)."""
        return Affine(self.res_m, 0.0, self.x0, 0.0, -self.res_m, self.y0)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self.rows, self.cols

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """The (row, col) of the cell holding point (x, y)."""
        return int(np.floor((self.y0 - y) / self.res_m)), int(np.floor((x - self.x0) / self.res_m))

    def centres(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Cell centres (n × 2, working CRS) of cells ``rows``, ``cols``."""
        return np.column_stack([self.x0 + (np.asarray(cols) + 0.5) * self.res_m, self.y0 - (np.asarray(rows) + 0.5) * self.res_m])

    def contains(self, x: float, y: float) -> bool:
        """Whether (x, y) lies on the grid."""
        r, c = self.cell_of(x, y)
        return 0 <= r < self.rows and 0 <= c < self.cols


def grid_for(bounds: tuple[float, float, float, float] | np.ndarray, res_m: float, *, margin_m: float = 0.0) -> Grid:
    """The grid of cells of ``res_m`` covering ``bounds`` (minx, miny, maxx, maxy) plus ``margin_m``,
    its corners on multiples of ``res_m``."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    x0 = np.floor((minx - margin_m) / res_m) * res_m
    y1 = np.floor((miny - margin_m) / res_m) * res_m
    x1 = np.ceil((maxx + margin_m) / res_m) * res_m
    y0 = np.ceil((maxy + margin_m) / res_m) * res_m
    return Grid(float(x0), float(y0), float(res_m), max(1, round((y0 - y1) / res_m)), max(1, round((x1 - x0) / res_m)))


@dataclass(frozen=True)
class Shares:
    """Share (0–1) of each cell of ``grid`` covered by parcels of each land-use group, and by any parcel (``known``)."""

    grid: Grid
    groups: dict[str, np.ndarray] = field(repr=False)
    known: np.ndarray = field(repr=False)


def rasterise_shares(parcels: gpd.GeoDataFrame, grid: Grid, *, supersample: int = 4) -> Shares:
    """The share of each cell covered by each land-use group, from ``parcels`` (columns ``landuse`` and
    geometry, working CRS).

    Each cell is cut into ``supersample`` × ``supersample`` sub-cells, each sub-cell given the group
    of the parcel covering its centre (rasterio's rule), and the shares counted: a multiple of
    1/``supersample``². Where parcels overlap, the one later in the frame wins (a guide only).
    """
    s = int(supersample)
    fine = Affine(grid.res_m / s, 0.0, grid.x0, 0.0, -grid.res_m / s, grid.y0)
    codes = parcels["landuse"].astype(str).to_numpy()
    gid = np.array([GROUPS.index(landuse.group(c)) + 1 if landuse.group(c) in GROUPS else len(GROUPS) for c in codes], dtype="uint8")
    geoms = np.asarray(parcels.geometry.values)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    shape = (grid.rows * s, grid.cols * s)
    if ok.any():
        labels = rasterize(zip(geoms[ok], gid[ok]), out_shape=shape, transform=fine, fill=0, dtype="uint8")
    else:
        labels = np.zeros(shape, dtype="uint8")
    blocks = labels.reshape(grid.rows, s, grid.cols, s)
    n = float(s * s)
    groups = {g: (blocks == k + 1).sum(axis=(1, 3), dtype="int32").astype("float32") / n for k, g in enumerate(GROUPS)}
    known = (blocks != 0).sum(axis=(1, 3), dtype="int32").astype("float32") / n
    return Shares(grid, groups, known)


def disc_kernel(diameter_m: float, res_m: float) -> np.ndarray:
    """A disc of ``diameter_m`` on cells of ``res_m``: each cell's weight is the share of it inside the
    disc (4 × 4 sub-cells), normalised to sum 1."""
    r = diameter_m / 2.0
    n = int(np.ceil(r / res_m))
    sub = (np.arange(4 * (2 * n + 1)) + 0.5) / 4.0 - (n + 0.5)
    xx, yy = np.meshgrid(sub * res_m, sub * res_m)
    inside = (xx ** 2 + yy ** 2 <= r * r).reshape(2 * n + 1, 4, 2 * n + 1, 4).mean(axis=(1, 3))
    if inside.sum() == 0:
        inside[n, n] = 1.0
    return (inside / inside.sum()).astype("float64")


def corridor_mean(share: np.ndarray, grid: Grid, width_m: float) -> np.ndarray:
    """Mean of ``share`` over a disc of diameter ``width_m`` around each cell centre (cells off the grid
    count 0): what a right-of-way of that width centred there covers."""
    from scipy.signal import fftconvolve

    k = disc_kernel(width_m, grid.res_m)
    if k.shape == (1, 1):
        return share.astype("float64")
    out = fftconvolve(share.astype("float64"), k, mode="same")
    return np.clip(out, 0.0, 1.0)


def near_mask(grid: Grid, geoms: np.ndarray | list[shapely.Geometry], distance_m: float) -> np.ndarray:
    """Cells whose centre lies within ``distance_m`` of any of ``geoms`` (points, lines or polygons)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return np.zeros(grid.shape, dtype=bool)
    zone = shapely.union_all(shapely.buffer(geoms, distance_m)) if distance_m > 0 else shapely.union_all(geoms)
    if zone.is_empty:
        return np.zeros(grid.shape, dtype=bool)
    return rasterize([(zone, 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8").astype(bool)


@dataclass(frozen=True)
class CostSettings:
    """How a corridor's cost is built (settings, never buried constants).

    ``width_m`` is the full right-of-way. ``weights`` gives, per land-use group, the cost of a m² of
    it taken (rice 1, residential 1, others 0 by default). A cell is impassable where the right-of-way
    centred on it would be more than ``max_residential_share`` residential land, or less than
    ``min_known_share`` inside parcels (land the parcel layer does not describe).
    """

    width_m: float
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    max_residential_share: float = 0.25
    min_known_share: float = 0.95


@dataclass(frozen=True)
class CorridorCost:
    """The cost surface: ``cost`` (m² of weighted land per m of centreline, the length penalty not
    included), ``rice`` (m² of rice land per m), ``blocked`` (impassable cells) and why each is blocked."""

    grid: Grid
    cost: np.ndarray = field(repr=False)
    rice: np.ndarray = field(repr=False)
    blocked: np.ndarray = field(repr=False)
    reasons: dict[str, np.ndarray] = field(repr=False, default_factory=dict)


def corridor_cost(shares: Shares, settings: CostSettings, *, avoid: np.ndarray | None = None) -> CorridorCost:
    """The cost of a metre of corridor centred on each cell (see :class:`CostSettings`); ``avoid`` marks
    further impassable cells (areas to avoid, already widened by half the right-of-way).

    Notes
    -----
    cost = width_m × Σ_g weight_g × mean_disc(share_g), in m² per m; the rice part alone is
    width_m × mean_disc(share_rice): integrated along a centreline it estimates the rice land taken.
    """
    g = shares.grid
    w = settings.width_m
    rice = w * corridor_mean(shares.groups["rice"], g, w)
    cost = np.zeros(g.shape, dtype="float64")
    for name, weight in settings.weights.items():
        if weight:
            cost += weight * (rice if name == "rice" else w * corridor_mean(shares.groups[name], g, w))
    reasons = {
        "residential": corridor_mean(shares.groups["residential"], g, w) > settings.max_residential_share,
        "unknown": corridor_mean(shares.known, g, w) < settings.min_known_share,
    }
    if avoid is not None:
        reasons["avoid"] = avoid
    blocked = np.zeros(g.shape, dtype=bool)
    for m in reasons.values():
        blocked |= m
    return CorridorCost(g, cost, rice, blocked, reasons)
