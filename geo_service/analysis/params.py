"""Parameters of a coverage run: life circles, walking speed, snapping and display."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geo_service.errors import InvalidParameter


@dataclass(frozen=True)
class LifeCircle:
    """A life circle of GB 50180-2018: a label in minutes and a walking distance in metres."""

    minutes: int
    distance_m: float


#: GB 50180-2018: 5-minute 300 m, 10-minute 500 m, 15-minute 800-1000 m (1000 m here).
DEFAULT_CIRCLES = (LifeCircle(5, 300.0), LifeCircle(10, 500.0), LifeCircle(15, 1000.0))
#: 1000 m in 15 minutes.
DEFAULT_WALKING_SPEED_MPS = 1000.0 / 900.0


@dataclass(frozen=True)
class CoverageParams:
    """Everything a coverage run depends on besides the data.

    Raises :class:`InvalidParameter` for non-positive or non-finite values.
    """

    circles: tuple[LifeCircle, ...] = DEFAULT_CIRCLES
    walking_speed_mps: float = DEFAULT_WALKING_SPEED_MPS
    max_snap_m: float = 250.0
    circle_buffer_m: float = 40.0
    life_circle_min_share: float = 0.5

    def __post_init__(self) -> None:
        if not self.circles:
            raise InvalidParameter("at least one life circle is needed")
        for circle in self.circles:
            if not (math.isfinite(circle.distance_m) and circle.distance_m > 0):
                raise InvalidParameter(
                    f"life-circle distance must be a positive number of metres, "
                    f"got {circle.distance_m} for the {circle.minutes}-minute circle"
                )
        distances = [c.distance_m for c in self.circles]
        if distances != sorted(distances) or len(set(distances)) != len(distances):
            raise InvalidParameter("life circles must have increasing distances")
        for name in ("walking_speed_mps", "max_snap_m", "circle_buffer_m"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidParameter(f"{name} must be a positive number, got {value}")
        if not 0 < self.life_circle_min_share <= 1:
            raise InvalidParameter("life_circle_min_share must be in (0, 1]")

    @property
    def widest_m(self) -> float:
        """The largest life-circle distance (metres)."""
        return self.circles[-1].distance_m

    def minutes(self, distance_m):
        """Walking minutes for a distance in metres (array or scalar)."""
        return distance_m / self.walking_speed_mps / 60.0
