"""Who must approve: rice area taken per project against the approval thresholds and the declared figure."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import landuse
from .landuse import RICE_CODES
from .scenario import ProjectSpec, Rules
from .tolerance import DEFAULT_TOLERANCE, Tolerance


def approval_level(rice_m2: float, rules: Rules, tolerance: Tolerance = DEFAULT_TOLERANCE) -> tuple[int, str]:
    """The band index and authority for ``rice_m2`` of rice land under ``rules`` (thresholds in ha,
    lower-inclusive), decided on the area rounded by ``tolerance``'s rounding rule.

    With thresholds (10, 500): 99,999.99 m² → band 0; 99,999.999999917 m² (rounds to 100,000.00 m²,
    10 ha) → band 1; 5,000,000 m² → band 2.
    """
    rice_ha = float(tolerance.round_m2(rice_m2)) / landuse.M2_PER_HA
    band = bisect.bisect_right(list(rules.approval_thresholds_ha), rice_ha)
    return band, rules.approval_authorities[band]


def approvals(pieces: pd.DataFrame, projects: Sequence[ProjectSpec], footprints: pd.DataFrame, rules: Rules, *,
              tolerance: Tolerance = DEFAULT_TOLERANCE, noise: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per project: footprint, land taken, rice (LUC/LUK/LUN), declared vs measured, approval level.

    ``footprints`` has ``project`` and ``footprint_m2``; ``pieces`` is the take table without noise
    and ``noise`` the pieces set aside as noise (:func:`landplan.takes.split_noise`), so that
    ``footprint_m2 = take_m2 + noise_m2 + not_in_parcels_m2``.
    """
    rows = []
    fp = footprints.set_index("project")["footprint_m2"]
    cols = [c for c in ("project", "parcel_id", "landuse", "take_m2", "take_ellipsoidal_m2") if c in pieces]
    table = pd.DataFrame(pieces[cols])  # plain columns: no geometry carried along
    by_code = table.groupby(["project", "landuse"])["take_m2"].sum()
    grouped = table.groupby("project")
    take_of = grouped["take_m2"].sum().to_dict()
    parcels_of = grouped["parcel_id"].nunique().to_dict()
    ell_of = grouped["take_ellipsoidal_m2"].sum().to_dict() if "take_ellipsoidal_m2" in table else None
    noise_of = noise.groupby("project")["area_m2"].sum().to_dict() if noise is not None and len(noise) else {}
    for p in projects:
        rice_m2 = {c: float(by_code.get((p.id, c), 0.0)) for c in sorted(RICE_CODES)}
        rice_total = sum(rice_m2.values())
        take = float(take_of.get(p.id, 0.0))
        ell = float(ell_of.get(p.id, 0.0)) if ell_of is not None else np.nan
        band, authority = approval_level(rice_total, rules, tolerance)
        noise_m2 = float(noise_of.get(p.id, 0.0))
        declared = p.declared_rice_ha
        diff_ha = rice_total / landuse.M2_PER_HA - declared if declared is not None else np.nan
        rows.append({
            "project": p.id,
            "name": p.name_vi,
            "name_en": p.name_en,
            "hub": p.hub,
            "footprint_m2": float(fp.get(p.id, 0.0)),
            "take_m2": take,
            "noise_m2": noise_m2,
            "not_in_parcels_m2": max(float(fp.get(p.id, 0.0)) - take - noise_m2, 0.0),
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
            "luc_obligation": bool(tolerance.round_m2(rice_m2["LUC"]) > 0),
            "take_ellipsoidal_m2": ell,
            "ellipsoidal_ratio": ell / take if take > 0 else np.nan,
        })
    return pd.DataFrame(rows)
