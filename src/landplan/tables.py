"""Summary tables built from the take table: per project × administrative unit × land use, and totals."""

from __future__ import annotations

import pandas as pd

from . import landuse

SUMMARY_COLUMNS = ["project", "admin_layer", "admin_unit", "landuse", "landuse_group", "is_rice", "area_m2", "area_ha"]
TOTALS_COLUMNS = ["landuse", "landuse_group", "is_rice", "area_m2", "area_ha", "sum_over_projects_m2", "counted_once_saving_m2"]



def summary(split: pd.DataFrame) -> pd.DataFrame:
    """Sum the admin-split table to one row per project × admin layer × unit × land use.

    ``split`` has ``project``, ``admin_layer``, ``admin_unit``, ``landuse``, ``area_m2``.
    """
    keys = ["project", "admin_layer", "admin_unit", "landuse"]
    out = split.groupby(keys, sort=True)["area_m2"].sum().reset_index()
    return _finish(out, SUMMARY_COLUMNS)


def totals(union_pieces: pd.DataFrame, project_pieces: pd.DataFrame) -> pd.DataFrame:
    """All projects together, land use by land use, overlaps counted once.

    ``union_pieces`` is the take table against the union of every footprint; ``project_pieces`` the
    per-project take table. ``counted_once_saving_m2`` is what summing projects would double count.
    A last row ``landuse = "TOTAL"`` sums every land use.
    """
    once = union_pieces.groupby("landuse")["take_m2"].sum()
    summed = project_pieces.groupby("landuse")["take_m2"].sum()
    codes = sorted(set(once.index) | set(summed.index))
    out = pd.DataFrame({
        "landuse": codes,
        "area_m2": [float(once.get(c, 0.0)) for c in codes],
        "sum_over_projects_m2": [float(summed.get(c, 0.0)) for c in codes],
    })
    out["counted_once_saving_m2"] = out["sum_over_projects_m2"] - out["area_m2"]
    out = _finish(out, TOTALS_COLUMNS)
    total = {
        "landuse": "TOTAL", "landuse_group": "", "is_rice": False,
        "area_m2": float(out["area_m2"].sum()), "area_ha": float(out["area_m2"].sum()) / landuse.M2_PER_HA,
        "sum_over_projects_m2": float(out["sum_over_projects_m2"].sum()),
        "counted_once_saving_m2": float(out["counted_once_saving_m2"].sum()),
    }
    rice = out[out["is_rice"]]
    rice_row = {
        "landuse": "RICE", "landuse_group": "rice", "is_rice": True,
        "area_m2": float(rice["area_m2"].sum()), "area_ha": float(rice["area_m2"].sum()) / landuse.M2_PER_HA,
        "sum_over_projects_m2": float(rice["sum_over_projects_m2"].sum()),
        "counted_once_saving_m2": float(rice["counted_once_saving_m2"].sum()),
    }
    return pd.concat([out, pd.DataFrame([rice_row, total])], ignore_index=True)[TOTALS_COLUMNS]


def _finish(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    df = df.copy()
    df["landuse_group"] = df["landuse"].map(landuse.group)
    df["is_rice"] = df["landuse"].isin(landuse.RICE_CODES)
    df["area_ha"] = df["area_m2"] / landuse.M2_PER_HA
    return df[columns].reset_index(drop=True)


#: Land-use groups in the order report tables print them.
GROUP_ORDER: tuple[str, ...] = ("rice", "other_agriculture", "residential", "infrastructure", "water", "other")


def admin_pivot(summary: pd.DataFrame, admin_layer: str) -> pd.DataFrame:
    """Land taken (m²) per project and unit of one admin layer, land-use groups as columns.

    One row per (``project``, ``admin_unit``) of ``summary`` rows whose ``admin_layer`` is
    ``admin_layer`` (never two layers mixed, so a column sums to each project's take once); the
    columns are :data:`GROUP_ORDER` then ``total_m2`` (their sum). Projects keep the order they first
    appear in; units sort by name.
    """
    rows = summary[summary["admin_layer"] == admin_layer]
    if rows.empty:
        return pd.DataFrame(columns=["project", "admin_unit", *GROUP_ORDER, "total_m2"])
    wide = rows.pivot_table(index=["project", "admin_unit"], columns="landuse_group", values="area_m2", aggfunc="sum",
                            fill_value=0.0, sort=False)
    wide = wide.reindex(columns=list(GROUP_ORDER), fill_value=0.0)
    wide["total_m2"] = wide[list(GROUP_ORDER)].sum(axis=1)
    order = {p: i for i, p in enumerate(dict.fromkeys(rows["project"]))}
    out = wide.reset_index()
    out["_o"] = out["project"].map(order)
    return out.sort_values(["_o", "admin_unit"], kind="stable").drop(columns="_o").reset_index(drop=True)
