"""Parameters of a coverage run: life circles, walking speed, snapping and display.

A foundation module (it needs only :mod:`geo_service.errors`): the settings take their
coverage defaults from it, and data, analysis and delivery all read it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

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


#: How the life circles are drawn: GB 50180-2018's walking **distances** (300 / 500 /
#: 1000 m, labelled 5 / 10 / 15 minutes), or walking **time** at the stated speed
#: (minutes × 60 × speed metres).
CRITERIA = ("distance", "time")


def circles_for(
    criterion: str, walking_speed_mps: float, distances_m: tuple[float, ...] | None = None
) -> tuple[LifeCircle, ...]:
    """The 5-, 10- and 15-minute circles under ``criterion``: ``distance`` takes
    ``distances_m`` (default GB 50180-2018's 300 / 500 / 1000 m), ``time`` the metres walked
    in that many minutes at ``walking_speed_mps``."""
    if criterion not in CRITERIA:
        raise InvalidParameter(f"criterion must be one of {', '.join(CRITERIA)}")
    minutes = tuple(c.minutes for c in DEFAULT_CIRCLES)
    if criterion == "time":
        return tuple(LifeCircle(m, m * 60.0 * walking_speed_mps) for m in minutes)
    distances = distances_m or tuple(c.distance_m for c in DEFAULT_CIRCLES)
    return tuple(LifeCircle(m, float(d)) for m, d in zip(minutes, distances, strict=True))


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
    criterion: str = "distance"
    #: The dissolved circle polygons are built for a walking network of at most this many
    #: segments (None: always); above it only the reached streets draw the coverage.
    circle_polygons_max_segments: int | None = None

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
        if self.criterion not in CRITERIA:
            raise InvalidParameter(f"criterion must be one of {', '.join(CRITERIA)}")
        if self.circle_polygons_max_segments is not None and self.circle_polygons_max_segments < 0:
            raise InvalidParameter("circle_polygons_max_segments must be 0 or more")

    def circle_polygons_for(self, segments: int) -> bool:
        """Whether to build the dissolved circle polygons for a network of ``segments``."""
        limit = self.circle_polygons_max_segments
        return limit is None or segments <= limit

    def varied(
        self,
        *,
        criterion: str | None = None,
        speed_mps: float | None = None,
        circle_15_m: float | None = None,
    ) -> CoverageParams:
        """These parameters with another criterion, walking speed (m/s) or 15-minute
        circle (metres; distance criterion only). :class:`InvalidParameter` if they clash."""
        criterion = criterion or self.criterion
        speed = speed_mps or self.walking_speed_mps
        # Distance circles stay as set; coming from time circles, GB 50180-2018's.
        drawn = self.circles if self.criterion == "distance" else DEFAULT_CIRCLES
        distances = [c.distance_m for c in drawn]
        if circle_15_m is not None:
            if criterion == "time":
                raise InvalidParameter("circle_15_m is for the distance criterion")
            if circle_15_m <= distances[1]:
                raise InvalidParameter(
                    f"circle_15_m must be beyond the 10-minute circle ({distances[1]:g} m)"
                )
            distances[2] = circle_15_m
        return replace(
            self,
            criterion=criterion,
            walking_speed_mps=speed,
            circles=circles_for(criterion, speed, tuple(distances)),
        )

    def circle_m(self, minutes: int) -> float:
        """The distance (metres) of the ``minutes`` life circle under this criterion."""
        for circle in self.circles:
            if circle.minutes == minutes:
                return circle.distance_m
        raise InvalidParameter(f"no {minutes}-minute life circle in {self.circles}")

    def describe(self) -> dict:
        """The criterion in words and numbers, to state beside every figure."""
        circles = {c.minutes: round(c.distance_m, 1) for c in self.circles}
        if self.criterion == "time":
            text_en = (
                f"walking time at {self.walking_speed_mps:.2f} m/s along the network: "
                + ", ".join(f"{m} min = {d:g} m" for m, d in circles.items())
            )
            text_zh = f"按步行时间（{self.walking_speed_mps:.2f}米/秒，沿步行路网）：" + "，".join(
                f"{m}分钟={d:g}米" for m, d in circles.items()
            )
        else:
            text_en = "walking distance along the network (GB 50180-2018): " + ", ".join(
                f"{m}-minute circle = {d:g} m" for m, d in circles.items()
            )
            text_zh = "按步行距离（GB 50180-2018，沿步行路网）：" + "，".join(
                f"{m}分钟生活圈={d:g}米" for m, d in circles.items()
            )
        return {
            "criterion": self.criterion,
            "circles_m": circles,
            "walking_speed_mps": self.walking_speed_mps,
            "measured": "along the walking network",
            "text_zh": text_zh,
            "text_en": text_en,
        }

    @property
    def widest_m(self) -> float:
        """The largest life-circle distance (metres)."""
        return self.circles[-1].distance_m

    def minutes(self, distance_m):
        """Walking minutes for a distance in metres (array or scalar)."""
        return distance_m / self.walking_speed_mps / 60.0
