"""The day-by-day simulation behind ``generate`` (lines by arrival date) and ``simulate`` (landing files)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from rich.progress import Progress

from ecom_assets.events.landing import write_landing_file
from ecom_assets.events.simulator.delivery import EPOCH, Delivery, DeliveryCounts
from ecom_assets.events.simulator.faults import FaultRates
from ecom_assets.events.simulator.replenishment import (
    BROWSING_FACTOR,
    DEFAULT_REPLENISHMENT_SHARE,
    Replenishment,
)
from ecom_assets.events.simulator.sessions import SessionWalker, TimedEvent, Visitor
from ecom_assets.events.simulator.world import WEB_DEVICES, Catalogue, Population, uuid_strings
from ecom_assets.storage.lake import Lake

MAX_LINES_PER_FILE = 100_000
WEEKDAY_WEIGHTS = (1.0, 0.95, 0.95, 1.0, 1.05, 1.15, 1.2)  # Monday .. Sunday
EPISODE_VISIT_LIFT = 3.0
EPISODE_VISIT_BASE = 0.6
ANONYMOUS_VISITS_PER_CUSTOMER = 0.08  # daily sessions of visitors who never sign in, per customer
DRIFT_APP_SHIFT = 0.3  # share of web sessions that move to the app after drift_from
DEFAULT_FAULTS = FaultRates()


@dataclass
class SimulationSummary(DeliveryCounts):
    start: dt.date | None = None
    days: int = 0
    customers: int = 0
    seed: int = 0
    sessions: int = 0
    orders: int = 0
    files: int = 0
    first_arrival: dt.date | None = None
    last_arrival: dt.date | None = None

    def __str__(self) -> str:
        malformed = ", ".join(f"{kind} {count:,}" for kind, count in self.malformed.items())
        return (
            f"simulated {self.days} days from {self.start}, {self.customers:,} customers, seed {self.seed}: "
            f"{self.events:,} events in {self.sessions:,} sessions, {self.orders:,} orders\n"
            f"wrote {self.lines:,} lines to {self.files} files, arrival dates {self.first_arrival} .. "
            f"{self.last_arrival}\n"
            f"faults: {self.duplicates:,} duplicates, {self.late:,} late, "
            f"{self.out_of_order:,} out of order, {self.tz_offset:,} with a UTC offset\n"
            f"malformed: {malformed}"
        )


class Simulation:
    """Customers visit the shop day by day; lines are handed out once their arrival date is complete."""

    def __init__(
        self,
        start: dt.date,
        days: int,
        customers: int,
        seed: int,
        faults: FaultRates,
        drift_from: dt.date | None,
        replenishment_share: float = DEFAULT_REPLENISHMENT_SHARE,
    ):
        if days < 1:
            raise ValueError(f"days={days}: simulate at least 1 day")
        if customers < 1:
            raise ValueError(f"customers={customers}: simulate at least 1 customer")
        self.start, self.days, self.seed, self.drift_from = start, days, seed, drift_from
        rng = np.random.default_rng(seed)
        self.catalogue = Catalogue.build(rng)
        self.population = Population.build(rng, customers, days, len(self.catalogue.category_names))
        self.replenishment = Replenishment.build(seed, customers, replenishment_share)
        browsing = np.where(self.replenishment.buyers, BROWSING_FACTOR, 1.0)
        self.population.visit_rate[:] *= browsing
        self.population.episode_start[:] *= browsing
        pool = max(20, customers // 3)
        self.anonymous_ids = uuid_strings(rng, pool)
        self.anonymous_devices = rng.choice(WEB_DEVICES, size=pool, p=(0.4, 0.52, 0.08)).tolist()
        self.anonymous_countries = [self.population.countries[i] for i in rng.integers(0, customers, pool)]
        self.episode_days_left = np.zeros(customers, dtype=np.int64)
        self.episode_length = np.zeros(customers, dtype=np.int64)
        self.summary = SimulationSummary(start=start, days=days, customers=customers, seed=seed)
        self.delivery = Delivery(faults, self.summary)
        self.days_done = 0

    def arrivals(self) -> Iterator[tuple[dt.date, list[str]]]:
        for offset in range(self.days):
            day = self.start + dt.timedelta(days=offset)
            self._simulate_day(day, offset)
            self.days_done = offset + 1
            yield from self.delivery.ready(through=day)
        yield from self.delivery.ready(through=dt.date.max)

    def _simulate_day(self, day: dt.date, offset: int) -> None:
        rng = np.random.default_rng([self.seed, self.start.toordinal(), day.toordinal()])
        rnd = random.Random(int(rng.integers(2**63)))
        fault_rnd = random.Random(int(rng.integers(2**63)))
        drift = self.drift_from is not None and day >= self.drift_from
        walker = SessionWalker(self.catalogue, rnd, drift)
        joined = self._start_episodes(rng, offset)
        customers, starts = self._customer_sessions(rng, day, joined)
        visitors = self._customer_visitors(rng, customers, drift)
        interest, readiness = self._shopping_mood()
        bought = np.zeros(len(interest), dtype=bool)
        for customer, start_ms, visitor in zip(customers.tolist(), starts.tolist(), visitors, strict=True):
            events = walker.walk(visitor, start_ms, interest[customer], readiness[customer])
            bought[customer] |= self._deliver(events, fault_rnd)
        for visitor, start_ms in self._anonymous_sessions(rng, day):
            self._deliver(walker.walk(visitor, start_ms, 0.03, 0.0), fault_rnd)
        self._reorders(walker, day, offset, joined, drift, fault_rnd)
        # most shopping episodes end with the purchase they were about
        done = bought & (rng.random(len(bought)) < 0.7)
        self.episode_days_left = np.where(done, 0, np.maximum(self.episode_days_left - 1, 0))

    def _reorders(
        self,
        walker: SessionWalker,
        day: dt.date,
        offset: int,
        joined: np.ndarray,
        drift: bool,
        fault_rnd: random.Random,
    ) -> None:
        """Replenishment buyers whose next order is due today place it, at their usual hour."""
        rng = np.random.default_rng([self.seed, self.start.toordinal(), day.toordinal(), 1])
        due = self.replenishment.due(rng, offset, joined)
        hours = (self.population.peak_hour[due] + rng.normal(0.0, 1.5, len(due))) % 24
        starts = self._day_ms(day) + (hours * 3_600_000).astype(np.int64)
        for visitor, start_ms in zip(self._customer_visitors(rng, due, drift), starts.tolist(), strict=True):
            self._deliver(walker.reorder(visitor, start_ms), fault_rnd)

    def _shopping_mood(self) -> tuple[list[float], list[float]]:
        """Per customer today: interest (browsing, carts) and readiness to pay.

        In a shopping episode interest is high from the first day while readiness grows towards its end,
        so browsing and abandoned carts come before the purchase, as they do in real shops.
        """
        affinity, left, length = self.population.affinity, self.episode_days_left, self.episode_length
        in_episode = left > 0
        stage = np.where(in_episode, (length - left + 1) / np.maximum(length, 1), 0.0)
        interest = np.where(in_episode, 0.4 + 0.6 * affinity, 0.2 * affinity)
        readiness = np.where(in_episode, affinity * stage**2, 0.1 * affinity)
        return interest.tolist(), readiness.tolist()

    def _start_episodes(self, rng: np.random.Generator, offset: int) -> np.ndarray:
        """New sign-ups and some regulars start a shopping episode today; returns who has joined by today."""
        pop, left = self.population, self.episode_days_left
        joined = pop.join_offset < offset + 1
        signs_up_today = joined & (pop.join_offset >= offset)
        left[signs_up_today] = 1 + rng.geometric(0.4, signs_up_today.sum())
        starts_episode = joined & (left == 0) & (rng.random(len(left)) < pop.episode_start)
        left[starts_episode] = 1 + rng.geometric(0.25, starts_episode.sum())
        starting = signs_up_today | starts_episode
        self.episode_length[starting] = left[starting]
        return joined

    def _customer_sessions(
        self, rng: np.random.Generator, day: dt.date, joined: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which customers visit today (one entry per session) and when each session starts."""
        pop, left = self.population, self.episode_days_left
        size = len(left)
        weekend = day.weekday() >= 5
        habit = 1.0 + pop.weekend_lift if weekend else 1.0 - 0.4 * pop.weekend_lift
        episode = left > 0
        lift, base = np.where(episode, EPISODE_VISIT_LIFT, 1.0), np.where(episode, EPISODE_VISIT_BASE, 0.0)
        rate = WEEKDAY_WEIGHTS[day.weekday()] * habit * pop.visit_rate * lift + base
        counts = rng.poisson(rate) * joined
        customers = np.repeat(np.arange(size), counts)
        hours = pop.peak_hour[customers] + rng.normal(0.0, 2.5, len(customers))
        anytime = rng.random(len(customers)) < 0.25
        hours = np.where(anytime, rng.uniform(0, 24, len(customers)), hours) % 24
        return customers, self._day_ms(day) + (hours * 3_600_000).astype(np.int64)

    def _customer_visitors(
        self, rng: np.random.Generator, customers: np.ndarray, drift: bool
    ) -> list[Visitor]:
        """Each session's device: the app or the web, after the drift date more often the app."""
        pop = self.population
        app_share = pop.app_share[customers]
        if drift:
            app_share = app_share + DRIFT_APP_SHIFT * (1.0 - app_share)
        on_app = (rng.random(len(customers)) < app_share).tolist()
        signed_in = (rng.random(len(customers)) < 0.9).tolist()
        visitors = []
        for customer, app, kept_login in zip(customers.tolist(), on_app, signed_in, strict=True):
            visitors.append(
                Visitor(
                    customer_id=pop.customer_ids[customer],
                    anonymous_id=(pop.app_anonymous_ids if app else pop.web_anonymous_ids)[customer],
                    channel="app" if app else "web",
                    device=(pop.app_devices if app else pop.web_devices)[customer],
                    country=pop.countries[customer],
                    favourites=pop.favourite_categories[customer],
                    signed_in=app and kept_login,
                )
            )
        return visitors

    def _anonymous_sessions(self, rng: np.random.Generator, day: dt.date) -> Iterator[tuple[Visitor, int]]:
        """Visitors who never sign in: they browse and sometimes fill a cart, but cannot check out."""
        count = rng.poisson(ANONYMOUS_VISITS_PER_CUSTOMER * len(self.population.customer_ids))
        pool = len(self.anonymous_ids)
        devices = (pool * rng.random(count) ** 2).astype(np.int64)  # a few come back often
        starts = self._day_ms(day) + rng.integers(0, 86_400_000, count)
        categories = len(self.catalogue.category_names)
        for device, start_ms in zip(devices.tolist(), starts.tolist(), strict=True):
            visitor = Visitor(
                customer_id=None,
                anonymous_id=self.anonymous_ids[device],
                channel="web",
                device=self.anonymous_devices[device],
                country=self.anonymous_countries[device],
                favourites=(device % categories, (device * 7) % categories),
                signed_in=False,
            )
            yield visitor, start_ms

    def _deliver(self, events: list[TimedEvent], fault_rnd: random.Random) -> bool:
        """Hand a session's events to delivery; whether the session placed an order."""
        self.delivery.deliver(events, fault_rnd)
        self.summary.sessions += 1
        ordered = events[-1][1]["event_type"] == "purchase"
        self.summary.orders += ordered
        return ordered

    @staticmethod
    def _day_ms(day: dt.date) -> int:
        return (day - EPOCH.date()).days * 86_400_000


def generate(
    start: dt.date,
    days: int,
    customers: int = 1000,
    seed: int = 7,
    faults: FaultRates = DEFAULT_FAULTS,
    drift_from: dt.date | None = None,
    replenishment_share: float = DEFAULT_REPLENISHMENT_SHARE,
) -> Iterator[tuple[dt.date, list[str]]]:
    """The landing lines grouped by arrival date, in date order, without writing anything."""
    return Simulation(start, days, customers, seed, faults, drift_from, replenishment_share).arrivals()


def simulate(
    lake: Lake,
    start: dt.date,
    days: int,
    customers: int = 1000,
    seed: int = 7,
    faults: FaultRates = DEFAULT_FAULTS,
    drift_from: dt.date | None = None,
    progress: bool = True,
    replenishment_share: float = DEFAULT_REPLENISHMENT_SHARE,
) -> SimulationSummary:
    """Write the simulated events into the landing zone: ``date=<arrival>/sim-<seed>-<start>-<n>.jsonl``.

    Re-running the same arguments rewrites the same files with the same bytes.
    """
    simulation = Simulation(start, days, customers, seed, faults, drift_from, replenishment_share)
    summary = simulation.summary
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("simulating days", total=days)
        for arrival, lines in simulation.arrivals():
            for part, first in enumerate(range(0, len(lines), MAX_LINES_PER_FILE)):
                name = f"sim-{seed}-{start.isoformat()}-{part}.jsonl"
                write_landing_file(lake, arrival, name, lines[first : first + MAX_LINES_PER_FILE])
                summary.files += 1
            summary.first_arrival = summary.first_arrival or arrival
            summary.last_arrival = arrival
            bar.update(task, completed=simulation.days_done)
    return summary
