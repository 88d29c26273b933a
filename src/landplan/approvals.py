"""Who must approve: rice area taken per project against the approval thresholds and the declared figure."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import landuse
from .landuse import RICE_CODES
from .scenario import ProjectSpec, Rules


def approval_level(rice_ha: float, rules: Rules) -> tuple[int, str]:
    """The band index and authority for ``rice_ha`` under ``rules`` (thresholds are lower-inclusive).

    With thresholds (10, 500): 9.99 ha → band 0; 10 ha → band 1; 500 ha → band 2.
    """
    band = bisect.bisect_right(list(rules.approval_thresholds_ha), rice_ha)
    return band, rules.approval_authorities[band]


def approvals(pieces: pd.DataFrame, projects: Sequence[ProjectSpec], footprints: pd.DataFrame, rules: Rules) -> pd.DataFrame:
    """One row per project: footprint, land taken, rice (LUC/LUK/LUN), declared vs measured, approval level.

    ``footprints`` has ``project`` and ``footprint_m2``; ``pieces`` is the take table.
    """
    rows = []
    fp = footprints.set_index("project")["footprint_m2"]
    cols = [c for c in ("project", "parcel_id", "landuse", "take_m2", "take_ellipsoidal_m2") if c in pieces]
    table = pd.DataFrame({c: pieces[c].to_numpy() for c in cols})  # plain columns: no geometry carried along
    by_code = table.groupby(["project", "landuse"])["take_m2"].sum()
    grouped = table.groupby("project")
    take_of = grouped["take_m2"].sum().to_dict()
    parcels_of = grouped["parcel_id"].nunique().to_dict()
    ell_of = grouped["take_ellipsoidal_m2"].sum().to_dict() if "take_ellipsoidal_m2" in table else None
    for p in projects:
        rice_m2 = {c: float(by_code.get((p.id, c), 0.0)) for c in sorted(RICE_CODES)}
        rice_total = sum(rice_m2.values())
        take = float(take_of.get(p.id, 0.0))
        ell = float(ell_of.get(p.id, 0.0)) if ell_of is not None else np.nan
        band, authority = approval_level(rice_total / landuse.M2_PER_HA, rules)
        declared = p.declared_rice_ha
        diff_ha = rice_total / landuse.M2_PER_HA - declared if declared is not None else np.nan
        rows.append({
            "project": p.id,
            "name": p.name_vi,
            "name_en": p.name_en,
            "hub": p.hub,
            "footprint_m2": float(fp.get(p.id, 0.0)),
            "take_m2": take,
            "not_in_parcels_m2": max(float(fp.get(p.id, 0.0)) - take, 0.0),
            "parcels_affected": int(parcels_of.get(p.id, 0)),
            "rice_luc_m2": rice_m2["LUC"],
            "rice_luk_m2": rice_m2["LUK"],
            "rice_lun_m2": rice_m2["LUN"],
            "rice_m2": rice_total,
            "rice_ha": rice_total / landuse.M2_PER_HA,
            "declared_rice_ha": declared if declared is not None else np.nan,
            "rice_diff_ha": diff_ha,
            "rice_diff_pct": (100.0 * diff_ha / declared) if declared else np.nan,
            "approval_band": band,
            "approval_authority": authority,
            "luc_obligation": rice_m2["LUC"] > 0,
            "take_ellipsoidal_m2": ell,
            "ellipsoidal_ratio": ell / take if take > 0 else np.nan,
        })
    return pd.DataFrame(rows)
