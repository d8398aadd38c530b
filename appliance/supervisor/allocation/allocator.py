"""Load sharing between the stations on the shared supply line (SPEC §5 "Load sharing").

Pure decisions: the caller passes the time, the site and one `StationDemand` per station
about once a second and gets a target current and a reason per station. The caller sends the
targets to the pilot, decreases first (`appliance.supervisor.sequencer.CommandSequencer`).

Accounting is per line phase with the phases the car really uses: a car drawing on n
conductors loads the station's L1..Ln, which the station's `phase_rotation` maps to line
phases (unknown ⇒ all three). Line phase p can carry the line limit minus the house's own
load on p. A car that draws more than it is offered (below the pilot's OverCurrent margin, so
nothing trips) is counted at what it draws: its overdraw loads its phases on top of its target.

The pilot checks every command per line phase too, on the phases its meters saw each car draw
on, so two 1-phase cars on stations rotated onto different line phases each take the full line.

Every station that charges gets at least the 6 A minimum; above that, higher priority first,
then equal shares of the line as the cars load it (max-min fair per phase: an overdrawing car
is offered its share minus its overdraw, alone on the line too). When not all fit at 6 A, the
stations are taken in order of entitlement and those that no longer fit wait: the lower
priority; at equal priority a newcomer rather than a charging station, and the longer-charged
of two charging stations; after `rotate_after_s` of shortage they swap turns.

A car drawing steadily less than offered is counted at its draw within seconds (`_Draw`), so
the rest goes to the other station. It needs room above its draw to show that it wants more:
a car that drew more earlier in this turn gets a margin, and taking more than half of it makes
the car hungry (counted in full) at once. The margin is 1 A when the lower draw holds within
0.25 A, so that noise stays under its half, else 2 A; what the margin holds back is unused line.
A car at its own charger's limit gets none, which leaves the other everything, and is offered its
share again only now and then, so a steady pair stays settled.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from appliance.j1772.duty import MIN_CURRENT_A
from appliance.wiring import line_phases, per_line_phase, triple

EPS = 1e-6

RESPONSE_S = 5.0
"""An EV's time to follow a change of its offer (IEC 61851-1)."""


def floor_tenth(amps: float) -> float:
    """Round down to 0.1 A (targets are never rounded up over a limit); float noise forgiven."""
    return math.floor(amps * 10 + EPS) / 10


def ceil_tenth(amps: float) -> float:
    """Round up to 0.1 A; a reading of 13.004 A still counts as 13.0 A."""
    return math.ceil(amps * 10 - 0.05) / 10


def phases_in_use(measured_a: Sequence[float], threshold_a: float = 1.0) -> int | None:
    """How many conductors (from L1 up) a charging car draws on; None while it draws nothing.

    Counting up to the highest loaded conductor keeps an odd reading on the safe side.
    """
    loaded = [i for i, amps in enumerate(measured_a, 1) if amps > threshold_a]
    return max(loaded) if loaded else None


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


@dataclass(frozen=True)
class Site:
    """The supply line: its per-phase limit and the house's own load per line phase 1..3.

    `external_a` is the grid meter's current minus what the stations draw; a negative value
    (local generation) does not raise the line's limit and counts as 0. `stations_cap_a` is an
    energy manager's limit per line phase on what the stations draw together: it binds beside
    the line (the house's load is the line's business, not the energy manager's).
    """

    line_limit_a: float
    external_a: tuple[float, float, float] = (0.0, 0.0, 0.0)
    stations_cap_a: tuple[float, float, float] | None = None

    def __post_init__(self) -> None:
        _check(
            _finite(self.line_limit_a) and self.line_limit_a >= 0,
            f"line limit {self.line_limit_a!r} A is not a current",
        )
        _check(len(self.external_a) == 3 and _finite(*self.external_a), "external load needs 3 finite currents")
        caps = self.stations_cap_a
        _check(caps is None or (len(caps) == 3 and _finite(*caps) and min(caps) >= 0),
               "the stations' cap needs 3 finite currents of at least 0 A")

    def capacity(self) -> dict[int, float]:
        """What each line phase 1..3 can carry for the stations."""
        caps = {p: max(0.0, self.line_limit_a - max(0.0, ext)) for p, ext in enumerate(self.external_a, 1)}
        if self.stations_cap_a is not None:
            caps = {p: min(amps, self.stations_cap_a[p - 1]) for p, amps in caps.items()}
        return caps


@dataclass(frozen=True)
class StationDemand:
    """One station as the allocator sees it this second.

    active: a car is plugged and its mode allows charging now.
    max_a: the most this station may get (station and cable rating, car and mode caps);
        below 6 A it cannot charge.
    car_phases: conductors the car draws on (see `phases_in_use`); None = not known yet.
    measured_a: the station meter's current on L1..L3; None without a reading.
    offered_a: what the pilot offers now (0 = paused).
    charging_since: when the current charging turn began, for the pause and rotation order.
    """

    station: int
    active: bool
    max_a: float
    priority: int = 0
    phase_rotation: tuple[int, int, int] = (1, 2, 3)
    car_phases: int | None = None
    measured_a: tuple[float, float, float] | None = None
    offered_a: float = 0.0
    charging_since: float | None = None

    def __post_init__(self) -> None:
        _check(
            sorted(self.phase_rotation) == [1, 2, 3],
            f"station {self.station}: phase rotation must be a permutation of 1, 2, 3",
        )
        _check(self.car_phases in (None, 1, 2, 3), f"station {self.station}: a car uses 1 to 3 phases")
        _check(_finite(self.max_a, self.offered_a) and self.max_a >= 0 and self.offered_a >= 0,
               f"station {self.station}: currents must be finite and not negative")
        _check(self.measured_a is None or (len(self.measured_a) == 3 and _finite(*self.measured_a)),
               f"station {self.station}: measured current needs 3 finite values")

    @property
    def line_phases(self) -> tuple[int, ...]:
        return line_phases(self.phase_rotation, self.car_phases)

    @property
    def drawing_a(self) -> float | None:
        """What the car draws now on its most loaded conductor, while it is offered current."""
        if not self.active or self.offered_a <= 0 or self.measured_a is None:
            return None
        return max(self.measured_a)


@dataclass(frozen=True)
class SharingSettings:
    """Tuning of the load sharing.

    underdraw_after_s: a car drawing steadily less than offered (more than
        `underdraw_tolerance_a` below), after its `RESPONSE_S` to follow the offer's last rise,
        is counted at its draw once it did so this long.
    underdraw_tolerance_a: "clearly less" is more than this below; a car counted at its draw
        that takes more than this (or half its margin, when less) above that draw is hungry and
        counted in full again.
    underdraw_margin_a: headroom over the draw of a car that drew more earlier in this charging
        turn: it may want that again, and with room above its draw it shows so at once, by taking
        more than half of the margin (at most `underdraw_tolerance_a`). A car that never drew
        more, though offered more, is at its own charger's limit: counted at its draw exactly,
        and offered its share again every `probe_every_s`.
    steady_margin_a: the margin once the car's lower draw held within `steady_band_a` (lowest to
        highest) for `steady_after_s`, counted from when it began: a draw that holds that still
        does not reach half of this margin by itself, and the other station gets what the wider
        margin held back. A draw that wobbled more keeps the wider margin while it is counted.
    rotate_after_s: equal-priority stations take turns this long while not both fit.
    """

    underdraw_after_s: float = 3.0
    underdraw_tolerance_a: float = 1.0
    underdraw_margin_a: float = 2.0
    steady_margin_a: float = 1.0
    steady_band_a: float = 0.25
    steady_after_s: float = 3.0
    probe_every_s: float = 600.0
    rotate_after_s: float = 1800.0


@dataclass(frozen=True)
class Allocation:
    station: int
    target_a: float
    reason: str


@dataclass
class _Draw:
    """What one station's car really takes, learned while it charges.

    Under-draw is judged only once the car had `RESPONSE_S` to follow the last rise of its
    offer, and only on a steady draw: a car still ramping up is not drawing less.
    """

    peak_a: float = 0.0  # the most it drew in this charging turn
    offer_a: float = 0.0
    follows_from: float = -math.inf  # the car has followed its offer's last rise by then
    low_since: float | None = None
    low_first_a: float = 0.0
    low_a: float = 0.0  # its lowest and highest draw since it began to draw less (`held_since`)
    high_a: float = 0.0
    held_since: float = 0.0
    basis_a: float | None = None  # the draw it is counted at; None = counted at max_a
    capped: bool = False  # at its own charger's limit: counted without margin, probed now and then
    steady: bool = False  # its draw held within `steady_band_a`: the narrower margin
    next_probe: float = math.inf
    probing: bool = False

    def update(self, now: float, d: StationDemand, s: SharingSettings) -> _Draw:
        """The state after this second's reading (a fresh one when the car is not measured)."""
        drawing = d.drawing_a
        if drawing is None:
            return _Draw()
        if d.offered_a > self.offer_a:
            self.follows_from = now + RESPONSE_S
        self.offer_a, self.peak_a = d.offered_a, max(self.peak_a, drawing)
        if self.basis_a is not None and drawing > self.basis_a + self._hunger_a(s):
            return _Draw(self.peak_a, self.offer_a, self.follows_from)  # hungry
        if self.capped and now >= self.next_probe:  # its share again: does it take more now?
            self.basis_a, self.capped, self.probing = None, False, True
        if self.basis_a is not None:
            self._hold(now, drawing, s)
        reference = d.offered_a if self.basis_a is None else min(d.offered_a, self.basis_a)
        if now < self.follows_from or drawing >= reference - s.underdraw_tolerance_a:
            self.low_since = None
            return self
        if self.low_since is None or drawing > self.low_first_a + s.underdraw_tolerance_a:
            self.low_since, self.low_first_a = now, drawing
            self.held_since, self.low_a, self.high_a = now, drawing, drawing
        self._hold(now, drawing, s)
        if now - self.low_since >= s.underdraw_after_s:
            self.basis_a, self.low_since, self.probing = self.high_a, None, False
            self.steady = self._held(now, s)
            self.capped = self.basis_a >= self.peak_a - s.underdraw_tolerance_a
            self.next_probe = now + s.probe_every_s
        return self

    def _hold(self, now: float, drawing: float, s: SharingSettings) -> None:
        """Follow the spread of the lower draw; once it held within the band long enough, it is steady."""
        self.low_a, self.high_a = min(self.low_a, drawing), max(self.high_a, drawing)
        self.steady = self.steady or self._held(now, s)

    def _held(self, now: float, s: SharingSettings) -> bool:
        return self.high_a - self.low_a <= s.steady_band_a + EPS and now - self.held_since >= s.steady_after_s

    def _margin_a(self, s: SharingSettings) -> float:
        if self.capped:
            return 0.0
        return s.steady_margin_a if self.steady else s.underdraw_margin_a

    def _hunger_a(self, s: SharingSettings) -> float:
        """How far above its counted draw a car must go to be hungry: half its margin, so that it
        shows by taking its margin; a capped car, with none, by the tolerance (it shows on a probe)."""
        margin = self._margin_a(s)
        return min(s.underdraw_tolerance_a, margin / 2) if margin > 0 else s.underdraw_tolerance_a

    def counted_a(self, d: StationDemand, s: SharingSettings) -> float:
        if self.basis_a is None:
            return d.max_a
        return min(d.max_a, max(MIN_CURRENT_A, ceil_tenth(self.basis_a + self._margin_a(s))))


@dataclass
class _Overdraw:
    """How much more than offered a car draws, per conductor, learned while it charges.

    A car has `RESPONSE_S` to follow a lower offer: meanwhile a draw up to an offer it had in
    that time is it following, and the overdraw it showed before still counts. A paused car
    keeps its overdraw: it is admitted again only when its draw fits.
    """

    offer_a: float = 0.0
    earlier: tuple[tuple[float, float], ...] = ()  # (until, amps): offers the car may still follow
    excess_a: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def update(self, now: float, d: StationDemand) -> _Overdraw:
        """The state after this second's reading (a fresh one when the station may not charge)."""
        if not d.active:
            return _Overdraw()
        if d.offered_a != self.offer_a:
            self.earlier += ((now + RESPONSE_S, self.offer_a),)
            self.offer_a = d.offered_a
        self.earlier = tuple(e for e in self.earlier if e[0] > now)
        if d.drawing_a is None or d.measured_a is None:
            return self
        may_follow = max([d.offered_a] + [amps for _, amps in self.earlier])
        seen = tuple(max(0.0, ceil_tenth(m - may_follow)) for m in d.measured_a)
        self.excess_a = triple(seen) if not self.earlier else triple(map(max, self.excess_a, seen))
        return self


@dataclass(frozen=True)
class _Line:
    """The constraints: capacity per line phase, which line phases each station loads, and each
    station's overdraw per line phase (on top of its allocation)."""

    capacity: dict[int, float]
    uses: dict[int, tuple[int, ...]]
    priority: dict[int, int]
    excess: dict[int, tuple[float, float, float]]

    def fits(self, stations: Sequence[int]) -> bool:
        """Whether all of them can have the 6 A minimum at once."""
        return min(self.free({sid: MIN_CURRENT_A for sid in stations}).values()) >= -EPS

    def admit(self, ordered: Sequence[int]) -> list[int]:
        """Those that get the 6 A minimum, taken in order: each while all admitted, it too, fit."""
        running: list[int] = []
        for sid in ordered:
            if self.fits(running + [sid]):
                running.append(sid)
        return running

    def over(self, sid: int) -> float:
        """The station's overdraw on its most affected line phase."""
        return max((self.excess[sid][r - 1] for r in self.uses[sid]), default=0.0)

    def fill(
        self, stations: Sequence[int], ceilings: Mapping[int, float], floors: Mapping[int, float]
    ) -> dict[int, float]:
        """Raise the stations from their floors: each priority level in turn, equal shares within it.

        Progressive filling: everyone still rising gets the same step until one reaches its
        ceiling or a resource it uses is full; that gives max-min fair shares per phase. An
        overdrawing car starts higher by its overdraw: the others rise first until they caught up.
        """
        alloc = {sid: floors[sid] for sid in stations}
        free = self.free(alloc)
        for level in sorted({self.priority[sid] for sid in stations}, reverse=True):
            rising = [sid for sid in stations if self.priority[sid] == level]
            while rising := [sid for sid in rising
                             if ceilings[sid] - alloc[sid] > EPS and all(free[r] > EPS for r in self.uses[sid])]:
                height = {sid: alloc[sid] - floors[sid] + self.over(sid) for sid in rising}
                lowest = min(height.values())
                low = [sid for sid in rising if height[sid] <= lowest + EPS]
                users = Counter(r for sid in low for r in self.uses[sid])
                step = min([ceilings[sid] - alloc[sid] for sid in low] + [free[r] / n for r, n in users.items()]
                           + [height[sid] - lowest for sid in rising if sid not in low])
                for sid in low:
                    alloc[sid] += step
                    for r in self.uses[sid]:
                        free[r] -= step
        return alloc

    def free(self, alloc: Mapping[int, float]) -> dict[int, float]:
        free = dict(self.capacity)
        for sid, amps in alloc.items():
            for r in self.uses[sid]:
                free[r] -= amps + self.excess[sid][r - 1]
        return free

    def shares(self, a: int, b: int) -> bool:
        return bool(set(self.uses[a]) & set(self.uses[b]))


def share_surplus(surplus_a: Sequence[float], claims: Sequence[StationDemand]) -> dict[int, float]:
    """One surplus per line phase 1..3 split among stations: by priority, then equally.

    Each gets the 6 A minimum on its phases or nothing; at equal priority the claims are
    admitted in the order given, so the caller puts those already charging first.
    """
    line = _Line({p: max(0.0, amps) for p, amps in enumerate(surplus_a, 1)},
                 {d.station: d.line_phases for d in claims}, {d.station: d.priority for d in claims},
                 {d.station: (0.0, 0.0, 0.0) for d in claims})
    running = line.admit([d.station for d in sorted(claims, key=lambda d: -d.priority)])
    alloc = line.fill(running, {d.station: d.max_a for d in claims}, floors={sid: MIN_CURRENT_A for sid in running})
    return {d.station: floor_tenth(alloc.get(d.station, 0.0)) for d in claims}


def _amps(x: float) -> str:
    return f"{round(x, 1):g} A"


class Allocator:
    """Load sharing with memory: under-drawing cars, probes and turns carry over between calls."""

    def __init__(self, settings: SharingSettings | None = None) -> None:
        self.settings = settings or SharingSettings()
        self._draw: dict[int, _Draw] = {}
        self._overdraw: dict[int, _Overdraw] = {}
        self._waiting_since: dict[int, float] = {}  # eligible, not offered anything, since
        self._offered_since: dict[int, float] = {}  # offered current since (when the caller does not say)

    def allocate(self, now: float, site: Site, stations: Sequence[StationDemand]) -> dict[int, Allocation]:
        """Targets for every station: 0 or 6..max_a, within every line phase."""
        s = self.settings
        ids = [d.station for d in stations]
        _check(len(set(ids)) == len(ids), f"station ids must be unique, got {ids}")
        self._draw = {d.station: self._draw.get(d.station, _Draw()).update(now, d, s) for d in stations}
        self._overdraw = {d.station: self._overdraw.get(d.station, _Overdraw()).update(now, d) for d in stations}
        line = _Line(
            site.capacity(),
            {d.station: d.line_phases for d in stations},
            {d.station: d.priority for d in stations},
            {d.station: per_line_phase(d.phase_rotation, self._overdraw[d.station].excess_a) for d in stations},
        )
        by_id = {d.station: d for d in stations}
        eligible = [d for d in stations if d.active and d.max_a >= MIN_CURRENT_A]
        # turns follow what the pilot offers, not what was decided: a swap takes the caller a few seconds
        self._waiting_since = {d.station: self._waiting_since.get(d.station, now) for d in eligible if d.offered_a <= 0}
        self._offered_since = {d.station: self._offered_since.get(d.station, now) for d in stations if d.offered_a > 0}
        eligible.sort(key=self._entitlement(now, by_id))
        running = line.admit([d.station for d in eligible])
        counted = {d.station: self._draw[d.station].counted_a(d, s) for d in eligible}
        alloc = line.fill(running, counted, floors={sid: MIN_CURRENT_A for sid in running})
        alloc = line.fill(running, {sid: by_id[sid].max_a for sid in running}, floors=alloc)  # what nobody needs
        targets = {d.station: floor_tenth(alloc[d.station]) if d.station in running else 0.0 for d in stations}
        reasons = _Reasons(site, line, by_id, targets, line.free(alloc), counted, self._draw, s)
        return {d.station: Allocation(d.station, targets[d.station], reasons.why(d)) for d in stations}

    def _entitlement(
        self, now: float, by_id: Mapping[int, StationDemand]
    ) -> Callable[[StationDemand], tuple[float, ...]]:
        """Sort key, most entitled first: priority; then, at equal priority, whose turn it is.

        Charging stations keep their turn over waiting ones (the shorter-charged first) until
        they charged, and a rival waited, `rotate_after_s`; then the longest-waiting goes first.
        """

        def key(d: StationDemand) -> tuple[float, ...]:
            if d.station in self._waiting_since:
                return -d.priority, 1, self._waiting_since[d.station], d.station
            started = self._offered_since[d.station] if d.charging_since is None else d.charging_since
            rivals = [w for sid, w in self._waiting_since.items() if by_id[sid].priority == d.priority]
            turn_over = bool(rivals) and now - max(started, min(rivals)) >= self.settings.rotate_after_s
            return -d.priority, 2 if turn_over else 0, -started, d.station

        return key


@dataclass(frozen=True)
class _Reasons:
    """The human-readable why behind each target."""

    site: Site
    line: _Line
    stations: dict[int, StationDemand]
    targets: dict[int, float]
    free: dict[int, float]
    counted: dict[int, float]
    draw: dict[int, _Draw]
    settings: SharingSettings

    def why(self, d: StationDemand) -> str:
        if not d.active:
            return "not charging: no car, or its mode does not allow charging now"
        if d.max_a < MIN_CURRENT_A:
            return f"cannot charge: {_amps(d.max_a)} allowed, below the 6 A minimum"
        if self.targets[d.station] > 0:
            over = self.line.over(d.station)
            return self._charging(d) + (f"; the car draws {_amps(over)} more than offered" if over > 0 else "")
        return self._paused(d)

    def _others(self, sid: int) -> list[int]:
        return [o for o, t in self.targets.items() if o != sid and t > 0 and self.line.shares(o, sid)]

    def _charging(self, d: StationDemand) -> str:
        sid, target, draw = d.station, self.targets[d.station], self.draw[d.station]
        if draw.probing:
            return f"charging at {_amps(target)}: checking whether the car takes more"
        if draw.basis_a is not None and target <= self.counted[sid] + EPS and target < d.max_a:
            given = "".join(f"; {_amps(self.targets[o])} go to station {o}" for o in self._others(sid))
            return f"limited to {_amps(target)}: car draws {_amps(draw.basis_a)}{given}"
        full = [r for r in self.line.uses[sid] if self.free[r] <= 1e-3]
        if target >= d.max_a or not full:
            return f"charging at {_amps(target)}"
        # the bottleneck: a full resource on which nobody else got more (else: any full one, lost to priority)
        users = {r: [o for o in self._others(sid) if r in self.line.uses[o]] for r in full}
        bottleneck = next((r for r in full if all(self.targets[o] <= target + 0.1 for o in users[r])), full[0])
        if users[bottleneck]:
            return f"charging at {_amps(target)}: line shared with station {users[bottleneck][0]}"
        if self.site.external_a[bottleneck - 1] > 0:
            house = _amps(self.site.external_a[bottleneck - 1])
            return f"charging at {_amps(target)}: house load {house} on L{bottleneck}"
        return f"charging at {_amps(target)}: line limit {_amps(self.site.line_limit_a)}"

    def _paused(self, d: StationDemand) -> str:
        sid = d.station
        if self.site.line_limit_a < MIN_CURRENT_A:  # an energy manager's "no charging now": 0 A
            return f"paused: line limit {_amps(self.site.line_limit_a)}"
        alone = self.line.fits([sid])
        ahead = self._others(sid) if alone else []
        higher = [o for o in ahead if self.stations[o].priority > d.priority]
        if higher:
            return f"paused: station {higher[0]} has priority"
        room = self.free if alone else self.line.capacity  # alone, what is short even with nobody else
        weakest = min(self.line.uses[sid], key=lambda r: (room[r], r))
        text = f"waiting: less than 6 A free on L{weakest}"
        if ahead:
            text += f"; taking turns with station {ahead[0]} every {self.settings.rotate_after_s / 60:g} min"
        return text

