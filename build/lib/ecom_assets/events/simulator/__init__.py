"""Realistic synthetic web/app events: ``generate`` yields landing lines, ``simulate`` writes them.

Customers have a persistent latent purchase propensity that drives how often they visit, how deep they go
into the funnel and how often they buy; shopping episodes make recent behaviour predictive. The feed has the
faults of a real one (duplicates, late and out-of-order arrival, client time zones, a few malformed lines).
"""

from ecom_assets.events.simulator.faults import MALFORMED_KINDS, FaultRates
from ecom_assets.events.simulator.run import SimulationSummary, generate, simulate

__all__ = ["MALFORMED_KINDS", "FaultRates", "SimulationSummary", "generate", "simulate"]
