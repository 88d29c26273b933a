"""Land cover from a classified raster: class areas inside footprints with exact partial-pixel coverage.

A pixel half inside a corridor counts half (exactextract's coverage fractions), not the pixel-centre
rule of QGIS zonal statistics and rasterstats. Footprints are transformed into the raster's CRS; the
raster is never resampled, and only the windows the footprints touch are read (footprints are cut
into tiles first, so a long diagonal corridor never asks for the whole raster at once).

Areas: each pixel's area in the raster's own CRS (constant for a projected raster; on the ellipsoid,
row by row, for a raster in degrees) times its coverage, then scaled by the polygon's
working-CRS / raster-CRS area ratio, so the figures are in the same m² as the parcel figures.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import landuse
from .errors import InputFileError, LayerError
from .tolerance import DEFAULT_TOLERANCE, Tolerance

log = logging.getLogger("landplan")

#: Tiles (m, working CRS) that footprints are cut into before extraction.
RASTER_TILE_M = 2_000.0


@dataclass(frozen=True)
class LandcoverClass:
    """One class of the land-cover raster: its pixel value, land-use code (or group) and names."""

    value: int
    code: str
    group: str
    name_vi: str
    name_en: str

    @property
    def is_rice(self) -> bool:
        """True for rice classes (code LUC/LUK/LUN, or group rice)."""
        return self.code in landuse.RICE_CODES or self.group == "rice"


@dataclass(frozen=True)
class LandcoverSpec:
    """A classified land-cover raster: file, band, nodata override and class table."""

    path: Path
    band: int
    nodata: float | None
    classes: tuple[LandcoverClass, ...]
    #: memory the measurement may use for one tile's pixels (MB): fine rasters are cut into smaller tiles
    memory_mb: float = 512.0

    def by_value(self) -> dict[int, LandcoverClass]:
        """Classes keyed by pixel value."""
        return {c.value: c for c in self.classes}


@dataclass(frozen=True)
class RasterInfo:
    """What landplan needs to know about the raster before measuring."""

    crs: pyproj.CRS
    transform: tuple[float, ...]
    width: int
    height: int
    nodata: float | None
    bounds: tuple[float, float, float, float]


def inspect_raster(spec: LandcoverSpec) -> RasterInfo:
    """Open the raster and check it: readable, has a CRS, has the band. One clear error otherwise."""
    import rasterio
    from rasterio.errors import RasterioIOError

    label = str(spec.path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with rasterio.open(spec.path) as ds:
                if not 1 <= spec.band <= ds.count:
                    raise LayerError(f"{label}: band {spec.band} does not exist; the raster has {ds.count} band(s)")
                # a file cut short first (it can also have lost its georeferencing): its blocks must lie within it,
                # and its first and last pixels must read
                _check_complete(ds, spec.path, spec.band)
                ds.read(spec.band, window=((0, 1), (0, 1)))
                ds.read(spec.band, window=((ds.height - 1, ds.height), (ds.width - 1, ds.width)))
                if ds.crs is None:
                    raise LayerError(f"{label}: the raster has no coordinate reference system; set it (QGIS: Layer ▸ Set CRS, "
                                     f"then Export ▸ Save As) or with `gdal_edit.py -a_srs EPSG:5897 {spec.path.name}`")
                nodata = spec.nodata if spec.nodata is not None else ds.nodatavals[spec.band - 1]
                if ds.transform.b != 0 or ds.transform.d != 0:
                    raise LayerError(f"{label}: the raster is rotated or sheared; landplan measures north-up rasters only "
                                     f"(warp it first: gdalwarp -t_srs EPSG:5897 {spec.path.name} north_up.tif)")
                if nodata is not None and int(nodata) == nodata and int(nodata) in spec.by_value():
                    raise LayerError(f"{label}: the nodata value {nodata:g} is also class {int(nodata)} in [[landcover.classes]]; "
                                     f"its pixels cannot be both: set `nodata` in [landcover] or fix the class table")
                return RasterInfo(pyproj.CRS.from_wkt(ds.crs.to_wkt()), tuple(ds.transform)[:6], ds.width, ds.height,
                                  nodata, tuple(ds.bounds))
    except RasterioIOError as exc:
        raise InputFileError(f"{label}: cannot be read as a raster ({str(exc).splitlines()[0]}); check the file is a complete GeoTIFF") from exc


def _band_source(ds: Any, band: int, nodata: float | None) -> Any:
    """The band exactextract reads, with ``nodata`` as its nodata value: the scenario's override when
    given (the file's own nodata value is then ordinary data), else the file's."""
    from exactextract.raster import RasterioRasterSource
    from rasterio.windows import Window

    class _Band(RasterioRasterSource):
        def nodata_value(self) -> float | int | None:
            if nodata is None or not np.isfinite(nodata):
                return None
            return float(nodata) if self.isfloat else int(nodata)

        def read_window(self, x0: int, y0: int, nx: int, ny: int) -> np.ndarray:
            # the pixels as stored: no mask from the file's own nodata value
            return np.asarray(self.ds.read(self.band_idx, window=Window(x0, y0, nx, ny), masked=False))

    return _Band(ds, band)


def _check_complete(ds: Any, path: Path, band: int) -> None:
    """Raise :class:`InputFileError` when the GeoTIFF's last block (GDAL's ``TIFF`` metadata gives each
    block's offset and size) reaches past the end of the file: it was cut short."""
    if ds.driver != "GTiff":
        return
    try:
        bh, bw = ds.block_shapes[band - 1]
        x, y = (ds.width - 1) // bw, (ds.height - 1) // bh
        off = ds.get_tag_item(f"BLOCK_OFFSET_{x}_{y}", "TIFF", band)
        n = ds.get_tag_item(f"BLOCK_SIZE_{x}_{y}", "TIFF", band)
    except Exception:  # noqa: BLE001 - no block table to check: reading the pixels decides
        return
    if not off or not n:
        return
    end, size = int(off) + int(n), Path(path).stat().st_size
    if end > size:
        raise InputFileError(f"{path}: cannot be read as a raster: it is cut short ({size:,} bytes, but its pixels reach byte "
                             f"{end:,}); check the file is a complete GeoTIFF (copy it again)")


def _ellipsoidal_row_area(lat_c: np.ndarray, dlat: float, dlon: float, geod: pyproj.Geod) -> np.ndarray:
    """Area in m² of lat/lon cells centred at ``lat_c`` (degrees) of size dlat × dlon, on the ellipsoid.

    Notes
    -----
    A cell between latitudes φ1 < φ2 spanning Δλ radians has area (Δλ / 2π) · (S(φ2) − S(φ1)), where
    S(φ) is the area of the ellipsoid from the equator to φ; S is evaluated with pyproj's geodesic
    polygon area of a thin band, so no series is written here.
    """
    lats = np.unique(np.round(lat_c, 12))
    out = {}
    for lat in lats:
        lat1, lat2 = lat - abs(dlat) / 2, lat + abs(dlat) / 2
        area, _ = geod.polygon_area_perimeter([0, abs(dlon), abs(dlon), 0], [lat1, lat1, lat2, lat2])
        out[lat] = abs(area)
    return np.array([out[v] for v in np.round(lat_c, 12)])


def measure(polys: gpd.GeoDataFrame, spec: LandcoverSpec, info: RasterInfo, *, crs: pyproj.CRS,
            tolerance: Tolerance = DEFAULT_TOLERANCE) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Class areas inside each polygon (rows of ``polys``, working CRS).

    Returns ``(classes, cover)``: ``classes`` has one row per polygon row × class value
    (``row``, ``value``, ``area_m2``); ``cover`` has one row per polygon (``row``, ``polygon_m2``,
    ``classified_m2``, ``nodata_m2``, ``outside_m2``), areas in working-CRS m², so that
    classified + nodata + outside = polygon.
    """
    import rasterio
    from exactextract import exact_extract

    geoms = np.asarray(polys.geometry.values)
    n = len(geoms)
    if n == 0:
        return (pd.DataFrame({"row": [], "value": [], "area_m2": []}),
                pd.DataFrame({"row": [], "polygon_m2": [], "classified_m2": [], "nodata_m2": [], "outside_m2": []}))
    # cut into tiles so each extraction reads a small window
    from .footprints import polygonal

    tiles, rows = _tiles(geoms, tile_side_m(info, spec.memory_mb, crs))
    if info.crs.equals(crs):  # the raster's own CRS: the tiles as they are (no vertices added)
        tiles_r = tiles
    else:  # edges densified so they stay true when transformed
        to_r = pyproj.Transformer.from_crs(crs, info.crs, always_xy=True)
        tiles_r = shapely.transform(shapely.segmentize(tiles, 10.0), lambda xy: np.column_stack(to_r.transform(xy[:, 0], xy[:, 1])))
        tiles_r = polygonal(shapely.make_valid(tiles_r))
    rb = shapely.box(*info.bounds)
    inside_r = shapely.intersection(tiles_r, rb)
    geographic = info.crs.is_geographic
    geod = info.crs.get_geod()
    if geographic:
        assert geod is not None
        native = np.array([abs(geod.geometry_area_perimeter(g)[0]) for g in tiles_r])
        native_in = np.array([abs(geod.geometry_area_perimeter(g)[0]) if not g.is_empty else 0.0 for g in inside_r])
    else:
        native = shapely.area(tiles_r)
        native_in = shapely.area(inside_r)
    working = shapely.area(tiles)
    scale = np.divide(working, native, out=np.ones_like(working), where=native > 0)

    a, b, _, d, e, _ = info.transform
    pixel_native = abs(a * e - b * d)
    gdf_r = gpd.GeoDataFrame(geometry=inside_r, crs=info.crs)
    hit = ~shapely.is_empty(inside_r)
    records = []
    classified = np.zeros(len(tiles))
    if hit.any():
        # tiles in batches whose pixels fit the memory budget: exactextract returns every pixel of a batch
        # at once, and each batch is reduced to class areas before the next is read
        bbox = shapely.bounds(inside_r)
        px = (bbox[:, 2] - bbox[:, 0]) * (bbox[:, 3] - bbox[:, 1]) / pixel_native
        budget = spec.memory_mb * 1e6 / BYTES_PER_PIXEL
        idx = np.flatnonzero(hit).tolist()
        batches: list[list[int]] = []
        cur: list[int] = []
        used = 0.0
        for k in idx:
            if cur and used + px[k] > budget:
                batches.append(cur)
                cur, used = [], 0.0
            cur.append(k)
            used += px[k]
        batches.append(cur)
        with warnings.catch_warnings(), rasterio.open(spec.path) as ds:
            warnings.simplefilter("ignore")
            source = _band_source(ds, spec.band, info.nodata)
            for batch in batches:
                if not (geographic and geod is not None):
                    # a projected raster's pixels all have one area: exactextract's own class fractions and
                    # coverage-weighted count say it all, with no pixel handed to Python
                    df = exact_extract(source, gdf_r.iloc[batch], ["unique", "frac", "count"], output="pandas")
                    for k, uniq, frac, count in zip(batch, df["unique"], df["frac"], df["count"]):
                        total = float(count) * pixel_native * scale[k]
                        classified[k] = total
                        records += [(int(rows[k]), int(v), float(f) * total) for v, f in zip(np.asarray(uniq), np.asarray(frac))]
                    continue
                df = exact_extract(source, gdf_r.iloc[batch], ["coverage", "values", "center_y"], output="pandas")
                for k, (cov, val, cy) in zip(batch, zip(df["coverage"], df["values"], df["center_y"])):
                    cov = np.asarray(cov, dtype="float64")
                    val = np.asarray(val)
                    if info.nodata is not None and np.isfinite(info.nodata):
                        keep = val != info.nodata
                        cov, val, cy = cov[keep], val[keep], np.asarray(cy)[keep]
                    # a raster in degrees: each row of pixels has its own area on the ellipsoid
                    area = cov * _ellipsoidal_row_area(np.asarray(cy, dtype="float64"), e, a, geod) * scale[k]
                    classified[k] = area.sum()
                    if len(val):
                        uniq, inv = np.unique(val.astype("int64"), return_inverse=True)
                        sums = np.bincount(inv, weights=area, minlength=len(uniq))
                        records += [(int(rows[k]), int(v), float(x)) for v, x in zip(uniq, sums)]
                del df
    cls = pd.DataFrame(records, columns=["row", "value", "area_m2"]).groupby(["row", "value"])["area_m2"].sum().reset_index()
    inside_w = native_in * scale
    nodata = inside_w - classified
    outside = working - inside_w
    cover = pd.DataFrame({
        "row": rows, "polygon_m2": working, "classified_m2": classified,
        # differences that are noise under the tolerance are rounding of the coverage sums, not land
        "nodata_m2": np.where(tolerance.is_noise_area(nodata), 0.0, nodata),
        "outside_m2": np.where(tolerance.is_noise_area(outside), 0.0, outside),
    }).groupby("row", as_index=False).sum()
    return cls, cover


#: Bytes a pixel costs while a tile is measured: its value, its coverage fraction and its row's centre (float64 each).
BYTES_PER_PIXEL = 24.0


def tile_side_m(info: RasterInfo, memory_mb: float, crs: pyproj.CRS) -> float:
    """Side (working-CRS metres) of the tiles footprints are cut into: :data:`RASTER_TILE_M`, or less, so
    that the pixels of one tile (on each of the cores) stay within ``memory_mb``. A 0.1 m raster is
    measured in tiles of about 100 m rather than of 2 km (40 × fewer pixels at once: 90 MB, not 9 GB)."""
    from .parallel import workers

    a, b, _, d, e, _ = info.transform
    pixel = float(np.sqrt(abs(a * e - b * d)))
    if info.crs.is_geographic:  # degrees: about 110 km to a degree
        pixel *= 110_000.0
    else:
        pixel *= float(info.crs.axis_info[0].unit_conversion_factor) / float(crs.axis_info[0].unit_conversion_factor)
    pixels = memory_mb * 1e6 / BYTES_PER_PIXEL / max(1, workers())
    return float(min(RASTER_TILE_M, max(np.sqrt(pixels) * pixel, 10.0 * pixel)))


def _tiles(geoms: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Cut each polygon wider or taller than ``size`` by a grid of ``size`` squares."""
    from .footprints import cut_by_grid

    b = shapely.bounds(geoms)
    return cut_by_grid(geoms, size, np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]) > size)


def check_classes(cls: pd.DataFrame, spec: LandcoverSpec) -> None:
    """Every pixel value met must be in the class table; one message lists those that are not."""
    known = set(spec.by_value())
    missing = sorted(set(cls["value"].astype(int)) - known)
    if missing:
        area = cls[cls["value"].isin(missing)].groupby("value")["area_m2"].sum()
        shown = ", ".join(f"{v} ({area[v]:,.1f} m²)" for v in missing[:10])
        raise LayerError(f"{spec.path}: pixel value(s) not in the scenario's [[landcover.classes]] table: {shown}; "
                         f"add a class for each (value, code, name)")


LANDCOVER_COLUMNS = ["project", "admin_layer", "admin_unit", "class_value", "landuse", "class_name", "is_rice", "area_m2", "area_ha"]


def _by_admin(footprints: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame], tolerance: Tolerance) -> gpd.GeoDataFrame:
    """Footprints split by each administrative layer's units (land in no unit kept as its own piece)."""
    from .takes import OUTSIDE_ADMIN

    parts = [footprints[["project"]].assign(admin_layer="", admin_unit="", geometry=footprints.geometry.values)]
    for key, units in admin.items():
        fg, ug = np.asarray(footprints.geometry.values), np.asarray(units.geometry.values)
        fi, ui = shapely.STRtree(ug).query(fg, predicate="intersects") if len(ug) else (np.zeros(0, int), np.zeros(0, int))
        inter = shapely.intersection(fg[fi], ug[ui])
        rest = [shapely.difference(g, shapely.union_all(ug[ui[fi == i]])) for i, g in enumerate(fg)]
        parts.append(gpd.GeoDataFrame({"project": footprints["project"].to_numpy()[fi], "admin_layer": key,
                                       "admin_unit": units["admin_unit"].to_numpy()[ui]}, geometry=inter, crs=footprints.crs))
        parts.append(gpd.GeoDataFrame({"project": footprints["project"].to_numpy(), "admin_layer": key, "admin_unit": OUTSIDE_ADMIN},
                                      geometry=rest, crs=footprints.crs))
    out = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=footprints.crs)
    from .footprints import polygonal

    out["geometry"] = polygonal(np.asarray(out.geometry.values))
    keep = ~tolerance.is_noise(np.asarray(out.geometry.values)) | (out["admin_layer"] == "")
    return out[keep].reset_index(drop=True)


def check_raster(spec: LandcoverSpec, footprints: gpd.GeoDataFrame, *, crs: pyproj.CRS, pixels: bool = False) -> RasterInfo:
    """Check the raster before measuring: its header (:func:`inspect_raster`), that it covers at least
    one footprint, and with ``pixels`` that every pixel value under the footprints is in the class
    table (this reads the pixels, as measuring does). Raises :class:`LayerError` naming the file."""
    info = inspect_raster(spec)
    to_r = pyproj.Transformer.from_crs(crs, info.crs, always_xy=True)
    boxes = [shapely.box(*to_r.transform_bounds(*shapely.bounds(g))) for g in np.asarray(footprints.geometry.values)]
    if not shapely.intersects(np.array(boxes, dtype=object), shapely.box(*info.bounds)).any():
        raise LayerError(f"{spec.path}: every project footprint lies outside the raster (raster extent {np.round(info.bounds, 1).tolist()} "
                         f"in {info.crs.to_string()}); check the raster's CRS and that it covers the projects")
    if pixels:
        cls, _ = measure(footprints, spec, info, crs=crs)
        check_classes(cls, spec)
    return info


def landcover_tables(spec: LandcoverSpec, footprints: gpd.GeoDataFrame, admin: dict[str, gpd.GeoDataFrame],
                     pieces: gpd.GeoDataFrame, approvals: pd.DataFrame, *, crs: pyproj.CRS,
                     warn: Callable[[str], None], tolerance: Tolerance = DEFAULT_TOLERANCE) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The raster's answers beside the parcels'.

    Returns ``landcover`` (project × admin layer × unit × class: ``area_m2``, ``area_ha``; rows with
    ``admin_layer == ""`` are whole projects), ``compare`` (per project: rice by parcels, rice by
    the raster, the difference, and how much of the footprint the raster classifies, leaves nodata
    or does not cover) and ``piece_rice`` (per parcel × project piece: ``raster_rice_m2``).
    """
    info = inspect_raster(spec)
    classes = spec.by_value()
    zones = _by_admin(footprints, admin, tolerance)
    cls, cover = measure(zones, spec, info, crs=crs, tolerance=tolerance)
    check_classes(cls, spec)
    cls = cls.merge(zones[["project", "admin_layer", "admin_unit"]], left_on="row", right_index=True)
    cls["landuse"] = cls["value"].map(lambda v: classes[int(v)].code)
    cls["class_name"] = cls["value"].map(lambda v: classes[int(v)].name_vi)
    cls["is_rice"] = cls["value"].map(lambda v: classes[int(v)].is_rice)
    keys = ["project", "admin_layer", "admin_unit", "class_value", "landuse", "class_name", "is_rice"]
    landcover: pd.DataFrame = cls.rename(columns={"value": "class_value"}).groupby(keys)["area_m2"].sum().reset_index()
    landcover["area_ha"] = landcover["area_m2"] / landuse.M2_PER_HA
    landcover = landcover.sort_values(["project", "admin_layer", "admin_unit", "class_value"]).reset_index(drop=True)[LANDCOVER_COLUMNS]

    whole = cover.merge(zones[["project", "admin_layer"]], left_on="row", right_index=True)
    whole = whole[whole["admin_layer"] == ""].set_index("project")
    if (whole["outside_m2"] >= whole["polygon_m2"] * (1 - 1e-9)).all():
        raise LayerError(f"{spec.path}: every project footprint lies outside the raster (raster extent {np.round(info.bounds, 1).tolist()} "
                         f"in {info.crs.to_string()}); check the raster's CRS and that it covers the projects")
    rice = landcover[(landcover["admin_layer"] == "") & landcover["is_rice"]].groupby("project")["area_m2"].sum()
    rows = []
    for p in footprints["project"]:
        c = whole.loc[p]
        if c["outside_m2"] >= c["polygon_m2"] * (1 - 1e-9):
            warn(f"land-cover raster: project {p} lies entirely outside the raster; its raster figures are empty")
        elif c["outside_m2"] > 0:
            warn(f"land-cover raster: {c['outside_m2']:,.1f} m² of project {p} lies outside the raster (reported, not counted)")
        if c["nodata_m2"] > 0:
            warn(f"land-cover raster: {c['nodata_m2']:,.1f} m² of project {p} is nodata in the raster (reported, not counted)")
        parcels_rice = float(approvals.loc[approvals["project"] == p, "rice_m2"].sum())
        raster_rice = float(rice.get(p, 0.0))
        rows.append({
            "project": p, "footprint_m2": float(c["polygon_m2"]), "raster_classified_m2": float(c["classified_m2"]),
            "raster_nodata_m2": float(c["nodata_m2"]), "raster_outside_m2": float(c["outside_m2"]),
            "parcels_rice_ha": parcels_rice / landuse.M2_PER_HA, "raster_rice_ha": raster_rice / landuse.M2_PER_HA,
            "diff_ha": (raster_rice - parcels_rice) / landuse.M2_PER_HA,
            "diff_pct": 100.0 * (raster_rice - parcels_rice) / parcels_rice if parcels_rice > 0 else np.nan,
        })
    compare = pd.DataFrame(rows)

    if len(pieces):
        pcls, _ = measure(pieces, spec, info, crs=crs, tolerance=tolerance)
        check_classes(pcls, spec)
        rice_values = [v for v, c in classes.items() if c.is_rice]
        r = pcls[pcls["value"].isin(rice_values)].groupby("row")["area_m2"].sum()
        piece_rice = pd.DataFrame({"project": pieces["project"].to_numpy(), "parcel_id": pieces["parcel_id"].to_numpy(),
                                   "raster_rice_m2": r.reindex(np.arange(len(pieces)), fill_value=0.0).to_numpy()})
    else:
        piece_rice = pd.DataFrame({"project": [], "parcel_id": [], "raster_rice_m2": []})
    return landcover, compare, piece_rice
