"""What a run noticed and repaired, kept for the manifest and the user."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

log = logging.getLogger("landplan")


@dataclass(frozen=True)
class Repair:
    """One repaired feature: what was wrong and its area before and after, in m²."""

    layer: str
    feature: str
    kind: str
    area_before_m2: float
    area_after_m2: float


@dataclass
class RunReport:
    """Repairs and warnings collected during a run (written to ``manifest.json``)."""

    repairs: list[Repair] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Record a warning and log it."""
        self.warnings.append(message)
        log.warning(message)

    def repaired(self, repair: Repair) -> None:
        """Record one repair."""
        self.repairs.append(repair)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {"repairs": [asdict(r) for r in self.repairs], "warnings": list(self.warnings)}
