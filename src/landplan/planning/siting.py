"""Hub siting: where a hub of a given area and shape takes the least rice land, near a road, measured exactly.

The hub is a rectangle of a given area and proportions (or a given polygon shape) turned to each
orientation asked for. For each orientation the land-use shares (:mod:`.costsurface`) are resampled
onto a grid turned with it, and every placement on that grid is evaluated at once with summed-area
tables (a rectangle's rice land, residential land, land inside the search area and inside parcels
are four look-ups each; a polygon shape uses FFT convolution instead), and its distance to the road
with a distance transform and a sliding minimum. Placements that break a constraint (residential
share, outside the search area or the named units, too close to the road) are dropped; of the rest
the Pareto front of rice land vs distance to the road is kept, a few placements spread along it are
measured exactly with the engine (:func:`landplan.planning.alternatives.compare`) and their
constraints checked again on the exact geometry.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import affinity
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from ..errors import LandplanError
from . import costsurface as cs

if TYPE_CHECKING:
    from ..scenario import Scenario
    from .alternatives import Comparison

log = logging.getLogger("landplan")


class SiteError(LandplanError, ValueError):
    """Raised when a site cannot be searched: a hub larger than the search area, no placement that fits."""


@dataclass(frozen=True)
class SiteSettings:
    """How hub sites are searched.

    The hub is ``area_m2`` in a rectangle ``aspect`` times as long as deep, or ``shape`` (a polygon,
    placed by its centroid; its own area). ``orientations_deg`` are the turns tried (degrees
    anticlockwise from east). ``resolution_m`` is the grid's cell and ``step_m`` the spacing of
    placements (default: one cell). A placement may be at most ``max_residential_share`` residential
    and must lie inside parcels for at least ``min_known_share`` of its area; it keeps
    ``clearance_m`` from the road (e.g. half the road's right-of-way). ``candidates`` placements are
    measured exactly.
    """

    area_m2: float = 2_500_000.0
    aspect: float = 1.5
    shape: Polygon | None = None
    orientations_deg: tuple[float, ...] = (0.0, 45.0, 90.0, 135.0)
    resolution_m: float = 10.0
    step_m: float | None = None
    max_residential_share: float = 0.05
    min_known_share: float = 0.95
    clearance_m: float = 0.0
    candidates: int = 4
    supersample: int = 4

    def footprint(self) -> Polygon:
        """The hub's outline centred on (0, 0), unturned."""
        if self.shape is not None:
            c = self.shape.centroid
            return affinity.translate(self.shape, -c.x, -c.y)
        length = math.sqrt(self.area_m2 * self.aspect)
        depth = self.area_m2 / length
        return shapely.box(-length / 2, -depth / 2, length / 2, depth / 2)

    def check(self) -> None:
        """Refuse settings that cannot describe a hub, every problem at once."""
        problems = []
        if self.shape is None and not (self.area_m2 > 0 and math.isfinite(self.area_m2)):
            problems.append(f"the hub's area must be positive, got {self.area_m2!r} m²")
        if self.shape is None and not (self.aspect >= 1 and math.isfinite(self.aspect)):
            problems.append(f"the aspect (length ÷ depth) must be at least 1, got {self.aspect!r}")
        if not self.orientations_deg:
            problems.append("give at least one orientation")
        if not (self.resolution_m > 0 and math.isfinite(self.resolution_m)):
            problems.append(f"the resolution must be a positive number of metres, got {self.resolution_m!r}")
        if not 0 <= self.max_residential_share <= 1:
            problems.append(f"the residential share must be between 0 and 1, got {self.max_residential_share!r}")
        if self.candidates < 1:
            problems.append(f"at least one candidate must be asked for, got {self.candidates}")
        if problems:
            raise SiteError("site settings: " + "; ".join(problems))


@dataclass(frozen=True)
class Placement:
    """A placement the grid search kept: the hub's outline, its orientation (deg), and what the grid
    estimates: rice land (m²), residential share (0–1), distance to the road (m)."""

    polygon: Polygon
    orientation_deg: float
    estimated_rice_m2: float
    residential_share: float
    distance_m: float


@dataclass(frozen=True)
class SiteSearch:
    """What a site search found: the chosen placements (least rice first), the whole Pareto front, and how
    many placements were evaluated and how many met the constraints."""

    candidates: list[Placement]
    front: pd.DataFrame
    evaluated: int
    feasible: int
    timings_s: dict[str, float] = field(default_factory=dict)


def window_sums(values: np.ndarray, h: int, w: int) -> np.ndarray:
    """Sum of ``values`` over every h × w window (top-left corner at each index), by a summed-area table.

    >>> window_sums(np.ones((3, 4)), 2, 2)
    array([[4., 4., 4.],
           [4., 4., 4.]])
    """
    s = np.zeros((values.shape[0] + 1, values.shape[1] + 1), dtype="float64")
    np.cumsum(np.cumsum(values, axis=0, dtype="float64"), axis=1, out=s[1:, 1:])
    return s[h:, w:] - s[:-h, w:] - s[h:, :-w] + s[:-h, :-w]


def _rect_sums(h: int, w: int) -> Callable[[np.ndarray], np.ndarray]:
    """Window sums over every h × w rectangle (:func:`window_sums`)."""
    return lambda a: window_sums(a, h, w)


def _shape_sums(kernel: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Window sums over a shape's cells (``kernel``, 0/1) at every placement, by FFT convolution."""
    from scipy.signal import fftconvolve

    return lambda a: np.asarray(fftconvolve(a, kernel[::-1, ::-1], mode="valid"))


def _window_min(values: np.ndarray, h: int, w: int) -> np.ndarray:
    """Minimum of ``values`` over every h × w window (top-left corner at each index)."""
    from scipy.ndimage import minimum_filter1d

    a = minimum_filter1d(values, size=h, axis=0, mode="nearest")[h // 2: h // 2 + values.shape[0] - h + 1]
    return minimum_filter1d(a, size=w, axis=1, mode="nearest")[:, w // 2: w // 2 + values.shape[1] - w + 1]


def _rotated_grid(area: BaseGeometry, angle_deg: float, res_m: float, pad_m: float) -> tuple[cs.Grid, tuple[float, float]]:
    """A grid in a frame turned by ``angle_deg`` about the search area's centroid, covering the area."""
    c = area.centroid
    turned = affinity.rotate(area, -angle_deg, origin=c)
    return cs.grid_for(turned.bounds, res_m, margin_m=pad_m), (c.x, c.y)


def _to_world(xy: np.ndarray, angle_deg: float, origin: tuple[float, float]) -> np.ndarray:
    """Points of the turned frame back in the working CRS."""
    a = math.radians(angle_deg)
    x, y = xy[:, 0] - origin[0], xy[:, 1] - origin[1]
    return np.column_stack([origin[0] + x * math.cos(a) - y * math.sin(a), origin[1] + x * math.sin(a) + y * math.cos(a)])


def _resample(shares: cs.Shares, grid: cs.Grid, angle_deg: float, origin: tuple[float, float]) -> dict[str, np.ndarray]:
    """The base grid's shares (rice, residential, known) at the turned grid's cell centres (bilinear)."""
    from scipy.ndimage import map_coordinates

    rr, cc = np.mgrid[0:grid.rows, 0:grid.cols]
    xy = _to_world(grid.centres(rr.ravel(), cc.ravel()), angle_deg, origin)
    base = shares.grid
    fr = (base.y0 - xy[:, 1]) / base.res_m - 0.5
    fc = (xy[:, 0] - base.x0) / base.res_m - 0.5
    out = {}
    for name, arr in (("rice", shares.groups["rice"]), ("residential", shares.groups["residential"]), ("known", shares.known)):
        out[name] = map_coordinates(arr, [fr, fc], order=1, mode="constant", cval=0.0).reshape(grid.shape)
    return out


def search_sites(parcels: gpd.GeoDataFrame, area: BaseGeometry, settings: SiteSettings, *,
                 road: BaseGeometry | None = None) -> SiteSearch:
    """Evaluate every placement of the hub inside ``area`` (working CRS) over ``parcels`` (``landuse`` and
    geometry) at each orientation; keep those that meet the constraints, their Pareto front of rice
    land vs distance to ``road``, and ``settings.candidates`` placements spread along it."""
    import time

    from rasterio.features import rasterize

    settings.check()
    hub = settings.footprint()
    if area.is_empty:
        raise SiteError("the search area is empty")
    if hub.area > area.area:
        raise SiteError(f"the hub ({hub.area / 10_000:,.1f} ha) is larger than the search area ({area.area / 10_000:,.1f} ha): "
                        f"widen the search area or name more units")
    t0 = time.perf_counter()
    res = settings.resolution_m
    radius = math.hypot(*np.ptp(np.asarray(hub.exterior.coords), axis=0)) / 2.0
    base = cs.grid_for(area.bounds, res, margin_m=res)
    shares = cs.rasterise_shares(parcels, base, supersample=settings.supersample)
    timings = {"rasterise": time.perf_counter() - t0}
    step = max(1, round((settings.step_m or res) / res))
    rows: list[pd.DataFrame] = []
    evaluated = feasible = 0
    inner = area.buffer(-res * math.sqrt(0.5))  # a cell whose centre is in here lies wholly inside the area
    for angle in settings.orientations_deg:
        t1 = time.perf_counter()
        grid, origin = _rotated_grid(area, angle, res, res)
        sh = _resample(shares, grid, angle, origin)
        turned_area = affinity.rotate(inner, -angle, origin=origin) if not inner.is_empty else inner
        inside = (rasterize([(turned_area, 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8")
                  if not turned_area.is_empty else np.zeros(grid.shape, dtype="uint8")).astype("float64")
        rect = settings.shape is None
        if rect:
            length = math.sqrt(settings.area_m2 * settings.aspect)
            h, w = max(1, round((settings.area_m2 / length) / res)), max(1, round(length / res))
            if h > grid.rows or w > grid.cols:
                continue
            centre_cell = ((h - 1) / 2.0, (w - 1) / 2.0)

            wsum = _rect_sums(h, w)

            n_cells = float(h * w)
        else:
            n = math.ceil(radius / res)
            kernel = np.asarray(rasterize([(hub, 1)], out_shape=(2 * n + 1, 2 * n + 1), fill=0, dtype="uint8",
                                          transform=cs.Grid(-(n + 0.5) * res, (n + 0.5) * res, res, 1, 1).transform), dtype="float64")
            ys, xs = np.nonzero(kernel)
            kernel = kernel[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
            h, w = kernel.shape
            centre_cell = (float(n - ys.min()), float(n - xs.min()))
            if h > grid.rows or w > grid.cols:
                continue

            wsum = _shape_sums(kernel)

            n_cells = float(kernel.sum())
        scale = hub.area / (n_cells * res * res)  # the grid window's area → the hub's own
        rice = wsum(sh["rice"]) * res * res * scale
        resid = wsum(sh["residential"]) / n_cells
        known = wsum(sh["known"]) / n_cells
        ins = wsum(inside) / n_cells
        if road is not None:
            turned_road = affinity.rotate(road, -angle, origin=origin)
            on = rasterize([(turned_road, 1)], out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8", all_touched=True)
            dist = _road_distance(grid, turned_road, on)
            dmin = np.maximum(_window_min(dist, h, w) - res * math.sqrt(0.5), 0.0)
        else:
            dmin = np.zeros(rice.shape)
        sl = (slice(None, None, step), slice(None, None, step))
        rice, resid, known, ins, dmin = rice[sl], resid[sl], known[sl], ins[sl], dmin[sl]
        evaluated += rice.size
        ok = (ins >= 1.0 - 1e-9) & (resid <= settings.max_residential_share) & (known >= settings.min_known_share)
        if settings.clearance_m > 0 and road is not None:
            ok &= dmin >= settings.clearance_m
        feasible += int(ok.sum())
        r, c = np.nonzero(ok)
        if len(r):
            top = grid.centres(r * step, c * step)  # centre of the window's top-left cell
            centre_turned = top + np.array([centre_cell[1] * res, -centre_cell[0] * res])
            centre = _to_world(centre_turned, angle, origin)
            rows.append(pd.DataFrame({"orientation_deg": angle, "x": centre[:, 0], "y": centre[:, 1], "estimated_rice_m2": rice[r, c],
                                      "residential_share": resid[r, c], "distance_m": dmin[r, c]}))
        timings[f"orientation {angle:g}°"] = time.perf_counter() - t1
    if not rows:
        raise SiteError(f"no placement of the hub ({hub.area / 10_000:,.1f} ha) fits inside the search area at orientations "
                        f"{', '.join(f'{a:g}°' for a in settings.orientations_deg)} while meeting the constraints (at most "
                        f"{settings.max_residential_share:.0%} residential land, {settings.min_known_share:.0%} inside parcels"
                        f"{f', {settings.clearance_m:,.0f} m from the road' if settings.clearance_m else ''}): widen the search area, "
                        f"change the shape or relax the constraints")
    allp = pd.concat(rows, ignore_index=True)
    front = pareto_front(allp, "estimated_rice_m2", "distance_m")
    chosen = _spread(front, settings.candidates, min_gap_m=radius / 2.0)
    vals = chosen[["x", "y", "orientation_deg", "estimated_rice_m2", "residential_share", "distance_m"]].to_numpy(dtype=float)
    cands = [Placement(_place(hub, x, y, ang), ang, rice, resid, dist) for x, y, ang, rice, resid, dist in vals]
    timings["total"] = time.perf_counter() - t0
    return SiteSearch(cands, front, evaluated, feasible, timings)


def _road_distance(grid: cs.Grid, road: shapely.Geometry, on: np.ndarray, coarse: int = 8) -> np.ndarray:
    """Distance (m) from each cell centre to ``road``: a distance transform where the road crosses the grid
    (``on``, its cells), else exact distances on every ``coarse``-th cell interpolated (distance is
    1-Lipschitz, so the error stays below a coarse cell)."""
    from scipy.ndimage import distance_transform_edt, map_coordinates

    if on.any():
        return np.asarray(distance_transform_edt(on == 0), dtype="float64") * grid.res_m
    rr, cc = np.mgrid[0:grid.rows + coarse:coarse, 0:grid.cols + coarse:coarse]
    d = shapely.distance(shapely.points(grid.centres(rr.ravel(), cc.ravel())), road).reshape(rr.shape)
    fr, fc = np.mgrid[0:grid.rows, 0:grid.cols]
    return np.asarray(map_coordinates(d, [fr / coarse, fc / coarse], order=1, mode="nearest"), dtype="float64")


def _place(hub: Polygon, x: float, y: float, angle_deg: float) -> Polygon:
    """The hub (centred on the origin) turned by ``angle_deg`` and centred at (x, y)."""
    return affinity.translate(affinity.rotate(hub, angle_deg, origin=(0, 0)), x, y)


def pareto_front(df: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    """Rows of ``df`` no other row beats on both ``a`` and ``b`` (lower is better), sorted by ``a``."""
    d = df.sort_values([a, b], kind="stable").reset_index(drop=True)
    best = np.minimum.accumulate(d[b].to_numpy())
    prev = np.concatenate([[np.inf], best[:-1]])
    return d[d[b].to_numpy() < prev].reset_index(drop=True)


def _spread(front: pd.DataFrame, n: int, *, min_gap_m: float) -> pd.DataFrame:
    """Up to ``n`` placements spread along the front (the least rice and the nearest always), no two whose
    centres are closer than ``min_gap_m`` (the front holds many near-copies of one site)."""
    if len(front) == 0:
        return front
    order = [0, len(front) - 1] + [round(i * (len(front) - 1) / max(n - 1, 1)) for i in range(1, max(n - 1, 1))]
    order += list(range(len(front)))
    picked: list[int] = []
    xy = front[["x", "y"]].to_numpy()
    for i in order:
        if len(picked) >= n:
            break
        if i in picked:
            continue
        if picked and np.min(np.hypot(*(xy[picked] - xy[i]).T)) < min_gap_m:
            continue
        picked.append(i)
    return front.iloc[sorted(picked)].reset_index(drop=True)


# --- from a scenario ---------------------------------------------------------------------------------


def units_area(scenario: Scenario, key: str, names: Sequence[str]) -> BaseGeometry:
    """The union of the named units of the administrative layer ``key``."""
    import unicodedata

    from .. import layers
    from ..report import RunReport

    spec = next((a for a in scenario.admin if a.key == key), None)
    if spec is None:
        raise SiteError(f"no administrative layer {key!r} in the scenario; layers are {', '.join(a.key for a in scenario.admin) or 'none'}")
    units = layers.read_admin(spec, scenario.crs, mask=None, report=RunReport())
    want = [unicodedata.normalize("NFC", n).strip() for n in names]
    have = set(units["admin_unit"])
    missing = [n for n in want if n not in have]
    if missing:
        raise SiteError(f"administrative layer {key!r} has no unit named {', '.join(repr(m) for m in missing)}; "
                        f"it has {', '.join(sorted(have)[:30])}")
    out: BaseGeometry = shapely.union_all(np.asarray(units[units["admin_unit"].isin(want)].geometry.values))
    return out


def site(scenario: Scenario | str | Path, area: BaseGeometry, *, settings: SiteSettings | None = None,
         road: BaseGeometry | None = None, road_project: str | None = None, project: str | None = None,
         folder: Path | None = None) -> Comparison:
    """Search hub sites inside ``area`` (working CRS) and measure the chosen ones exactly with the engine.

    The road is a geometry or the centreline of ``road_project``; ``project`` (the scenario's own hub)
    is measured first, for comparison. Returns a
    :class:`~landplan.planning.alternatives.Comparison` (sites ``site_1`` …, each a layer of
    ``candidates.gpkg`` and a scenario file of its own) whose table also says whether each placement
    meets the constraints on its exact geometry (``meets_constraints``) and lies on the Pareto front
    of exact rice land vs distance to the road (``pareto``).
    """
    import tempfile

    from .. import layers
    from ..report import RunReport
    from ..scenario import load_scenario
    from .alternatives import Alternative, Alternatives, compare, project_table, write_candidates

    sc = load_scenario(scenario) if isinstance(scenario, (str, Path)) else scenario
    settings = settings or SiteSettings()
    settings.check()
    if road is None and road_project is not None:
        spec = next((p for p in sc.projects if p.id == road_project), None)
        if spec is None:
            raise SiteError(f"no project {road_project!r} in the scenario; projects are {', '.join(p.id for p in sc.projects)}")
        road = shapely.union_all(np.asarray(layers.read_project(spec, sc.crs).geometry.values))
    hub_area = settings.footprint().area
    if hub_area > area.area:
        raise SiteError(f"the hub ({hub_area / 10_000:,.1f} ha) is larger than the search area ({area.area / 10_000:,.1f} ha): "
                        f"widen the search area or name more units")
    parcels = layers.read_parcels(sc.parcels, sc.crs, mask=area, report=RunReport())
    parcels = parcels[~parcels["neighbour"].to_numpy(dtype=bool)]
    found = search_sites(parcels, area, settings, road=road)
    tmp = None
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="landplan-site-")
        folder = Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    items: list[Alternative] = []
    base_geom = None
    if project is not None:
        items.append(Alternative(project, "Vị trí trong kịch bản", "The scenario's site", project_table(sc, project)))
        spec = next(p for p in sc.projects if p.id == project)
        base_geom = shapely.union_all(np.asarray(layers.read_project(spec, sc.crs).geometry.values))
    frames = {}
    for k, c in enumerate(found.candidates, start=1):
        cid = f"site_{k}"
        frames[cid] = gpd.GeoDataFrame({"candidate": [cid], "orientation_deg": [c.orientation_deg],
                                        "estimated_rice_m2": [c.estimated_rice_m2]}, geometry=[c.polygon], crs=sc.crs)
        items.append(Alternative(cid, f"Vị trí đề xuất {k}", f"Proposed site {k}",
                                 {"kind": "polygon", "path": str((folder / "candidates.gpkg").resolve()), "layer": cid},
                                 {"estimated_rice_ha": c.estimated_rice_m2 / 10_000.0, "orientation_deg": c.orientation_deg}))
    write_candidates(frames, folder)
    comparison = compare(sc, Alternatives(tuple(items), project), folder=folder)
    comparison._tmp = tmp
    t = comparison.table
    geoms = ([base_geom] if base_geom is not None else []) + [c.polygon for c in found.candidates]
    t["distance_road_m"] = [float(shapely.distance(road, g)) if road is not None else np.nan for g in geoms]
    if len(t):
        t["extra_distance_m"] = t["distance_road_m"] - float(t["distance_road_m"].iloc[0])
    t["residential_share"] = (t["residential_ha"] / t["footprint_ha"]).to_numpy(dtype=float)
    t["inside_area"] = [bool(shapely.area(shapely.difference(g, area)) <= 1.0) for g in geoms]
    meets = (t["residential_share"] <= settings.max_residential_share + 1e-9) & t["inside_area"]
    if settings.clearance_m > 0 and road is not None:
        meets &= t["distance_road_m"] >= settings.clearance_m - settings.resolution_m
    t["meets_constraints"] = meets
    is_site = t["alternative"].str.startswith("site_").to_numpy()
    from .routing import _pareto

    front = np.zeros(len(t), dtype=bool)
    front[is_site] = _pareto(t["rice_ha"].to_numpy(dtype=float)[is_site], t["distance_road_m"].to_numpy(dtype=float)[is_site])
    t["pareto"] = front & t["meets_constraints"].to_numpy(dtype=bool)
    comparison.search = found  # type: ignore[attr-defined]
    return comparison
