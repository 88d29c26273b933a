"""One palette for every output: the HTML map, the static maps and the QGIS styles use these colours.

The map's colours are chosen so that what a planner must tell apart stays apart on the plain
background: a remaining piece below a minimum, land taken of each land use, and rice land around
the projects (a test checks a minimum CIEDE2000 distance between them as drawn, opacity included).
"""

from __future__ import annotations

from typing import Any

from . import landuse

#: Project footprint outlines, in scenario order (the hub has its own colour).
PROJECT_COLORS: tuple[str, ...] = ("#c0392b", "#8e44ad", "#d35400", "#1f618d", "#b03a2e", "#6c3483", "#a04000", "#117864")
HUB_COLOR = "#1e8449"
#: What remains of a parcel: a piece above every minimum (outline; a light, see-through fill on the
#: map), and a piece below one (flagged): a dark red no land-use colour comes near.
REMNANT_OK = "#5f6b6d"
REMNANT_OK_FILL = "#ffffff"
REMNANT_OK_OPACITY = 0.55
REMNANT_BAD = "#b80f0a"
REMNANT_BAD_LINE = "#4a0000"
REMNANT_BAD_OPACITY = 0.95
#: Land taken is filled with its land use's colour at this opacity.
TAKE_OPACITY = 0.9
#: Rice land around the projects (context): paler than any rice taken, with a rice-coloured outline.
CONTEXT_RICE = "#f3f0d8"
CONTEXT_RICE_OUTLINE = "#c9b458"
#: Rivers and canals, and roads, drawn to orient a reader (paler than the same land uses taken).
WATER = "#cfe3f0"
ROAD = "#ffffff"
ROAD_OUTLINE = "#9e9e9e"
#: Administrative boundaries and parcel outlines.
ADMIN_LINE = "#4d4d4d"
PARCEL_LINE = "#333333"
#: The map's plain background (no network needed).
PLAIN_BACKGROUND_RGB: tuple[int, int, int] = (242, 242, 238)
#: Land-use fill colours come from the code table (landuse.LANDUSE_TABLE); unknown codes are grey.
UNKNOWN_LANDUSE = "#cccccc"

#: The HTML map's styles, under the names its page script uses.
MAP_STYLE: dict[str, Any] = {
    "context": CONTEXT_RICE, "contextOutline": CONTEXT_RICE_OUTLINE, "water": WATER, "road": ROAD, "roadOutline": ROAD_OUTLINE,
    "remnantOk": REMNANT_OK_FILL, "remnantOkOpacity": REMNANT_OK_OPACITY, "remnantOkLine": REMNANT_OK,
    "remnantBad": REMNANT_BAD, "remnantBadOpacity": REMNANT_BAD_OPACITY, "remnantBadLine": REMNANT_BAD_LINE,
    "takeOpacity": TAKE_OPACITY, "parcelLine": PARCEL_LINE, "admin": ADMIN_LINE,
}


def landuse_color(code: str) -> str:
    """Fill colour of a land-use code."""
    return landuse.color(code)


def project_colors(projects: list[tuple[str, bool]]) -> dict[str, str]:
    """Outline colour per project id, given ``(id, is_hub)`` in scenario order."""
    return {pid: (HUB_COLOR if hub else PROJECT_COLORS[i % len(PROJECT_COLORS)]) for i, (pid, hub) in enumerate(projects)}
