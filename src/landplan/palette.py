"""One palette for every output: the HTML map, the static maps and the QGIS styles use these colours."""

from __future__ import annotations

from . import landuse

#: Project footprint outlines, in scenario order (the hub has its own colour).
PROJECT_COLORS: tuple[str, ...] = ("#c0392b", "#8e44ad", "#d35400", "#1f618d", "#b03a2e", "#6c3483", "#a04000", "#117864")
HUB_COLOR = "#1e8449"
#: What remains of a parcel: above every minimum, and below one (flagged).
REMNANT_OK = "#7f8c8d"
REMNANT_BAD = "#e74c3c"
#: Rice land around the projects (context).
CONTEXT_RICE = "#f7e98e"
CONTEXT_RICE_OUTLINE = "#c9b458"
#: Administrative boundaries and parcel outlines.
ADMIN_LINE = "#4d4d4d"
PARCEL_LINE = "#333333"
#: Land-use fill colours come from the code table (landuse.LANDUSE_TABLE); unknown codes are grey.
UNKNOWN_LANDUSE = "#cccccc"


def landuse_color(code: str) -> str:
    """Fill colour of a land-use code."""
    return landuse.color(code)


def project_colors(projects: list[tuple[str, bool]]) -> dict[str, str]:
    """Outline colour per project id, given ``(id, is_hub)`` in scenario order."""
    return {pid: (HUB_COLOR if hub else PROJECT_COLORS[i % len(PROJECT_COLORS)]) for i, (pid, hub) in enumerate(projects)}
