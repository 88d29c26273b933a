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


@dataclass(frozen=True)
class SetAside:
    """One input feature a run did not measure: why, and the land it held (m²; NaN when unknown)."""

    layer: str
    feature: str
    reason: str
    area_m2: float


@dataclass
class RunReport:
    """Repairs, features set aside and warnings collected during a run (written to ``manifest.json``)."""

    repairs: list[Repair] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    set_aside: list[SetAside] = field(default_factory=list)
    #: collect without logging: a second reading of an input (the map's surroundings) would repeat the run's warnings
    quiet: bool = False

    def warn(self, message: str) -> None:
        """Record a warning and log it."""
        self.warnings.append(message)
        if not self.quiet:
            log.warning(message)

    def repaired(self, repair: Repair) -> None:
        """Record one repair."""
        self.repairs.append(repair)

    def aside(self, item: SetAside) -> None:
        """Record one feature set aside."""
        self.set_aside.append(item)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (NaN areas as null)."""
        def clean(d: dict[str, Any]) -> dict[str, Any]:
            return {k: (None if isinstance(v, float) and v != v else v) for k, v in d.items()}

        return {"repairs": [clean(asdict(r)) for r in self.repairs], "set_aside": [clean(asdict(r)) for r in self.set_aside],
                "warnings": list(self.warnings)}
