"""Replenishment buyers: customers who reorder their staples on a personal cadence and barely browse,
like the B2B, grocery and consumables customers of order-history shops."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_REPLENISHMENT_SHARE = 0.2
CADENCE_DAYS = (7.0, 30.0)
CADENCE_JITTER = 0.15  # standard deviation of one gap, relative to the customer's cadence
SKIPPED_ORDERS = 0.1  # share of due orders a buyer lets pass (holidays, stock left)
BROWSING_FACTOR = 0.15  # their visits and shopping episodes outside reorders, relative to others


@dataclass
class Replenishment:
    buyers: np.ndarray  # bool per customer
    cadence: np.ndarray  # days between orders, per customer
    next_order: np.ndarray  # day offset of each buyer's next order (inf for everyone else)

    @classmethod
    def build(cls, seed: int, size: int, share: float) -> Replenishment:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"replenishment_share={share}: use a share between 0 and 1")
        # A stream of its own, so the rest of the simulation draws exactly what it drew without buyers.
        rng = np.random.default_rng([seed, 0x5EED])
        buyers = rng.random(size) < share
        cadence = rng.uniform(*CADENCE_DAYS, size)
        next_order = np.where(buyers, rng.uniform(0.0, cadence), np.inf)
        return cls(buyers, cadence, next_order)

    def due(self, rng: np.random.Generator, offset: int, joined: np.ndarray) -> np.ndarray:
        """Indexes of the buyers who reorder on day ``offset``; schedules each one's next order."""
        due = np.flatnonzero(self.buyers & joined & (self.next_order < offset + 1))
        gaps = self.cadence[due] * rng.normal(1.0, CADENCE_JITTER, len(due))
        self.next_order[due] = offset + np.maximum(1.0, np.round(gaps))
        return due[rng.random(len(due)) >= SKIPPED_ORDERS]
