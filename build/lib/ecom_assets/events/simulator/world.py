"""The simulated shop: a product catalogue and a population of customers with persistent habits."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

# category code -> (median unit price in EUR, brands); codes follow the REES46 public data set
CATEGORIES: dict[str, tuple[float, tuple[str, ...]]] = {
    "electronics.smartphone": (320.0, ("samsung", "apple", "xiaomi", "huawei", "oppo")),
    "electronics.audio.headphone": (70.0, ("sony", "jbl", "apple", "sennheiser")),
    "computers.notebook": (720.0, ("lenovo", "hp", "asus", "acer", "apple")),
    "appliances.kitchen.refrigerators": (520.0, ("lg", "samsung", "bosch", "beko")),
    "appliances.environment.vacuum": (160.0, ("dyson", "philips", "samsung", "xiaomi")),
    "apparel.shoes": (85.0, ("nike", "adidas", "puma", "skechers")),
    "apparel.jacket": (120.0, ("columbia", "nike", "zara", "mango")),
    "furniture.living_room.sofa": (640.0, ("ikea", "hoff", "divan")),
    "kids.toys": (32.0, ("lego", "hasbro", "mattel")),
    "sport.bicycle": (460.0, ("trek", "cube", "merida")),
    "beauty.fragrance": (58.0, ("chanel", "dior", "hugo", "calvin klein")),
    "accessories.bag": (75.0, ("samsonite", "guess", "michael kors")),
}
COUNTRIES = ("DE", "FR", "NL", "ES", "IT", "BE", "AT", "PL")
COUNTRY_WEIGHTS = (0.30, 0.18, 0.10, 0.10, 0.10, 0.06, 0.06, 0.10)
WEB_DEVICES = ("desktop", "mobile", "tablet")
WEB_DEVICE_WEIGHTS = (0.55, 0.38, 0.07)
APP_DEVICES = ("mobile", "tablet")
APP_DEVICE_WEIGHTS = (0.9, 0.1)
PEAK_HOURS = (8, 12, 19, 21)  # UTC: commute, lunch, after work, late evening
EXISTING_SHARE = 0.85  # the rest sign up during the simulated window


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (0x4000 << 64) | (0x8000 << 48)


def uuid4(rnd: random.Random) -> str:
    """A version-4 UUID string drawn from ``rnd``, so ids repeat exactly for a seed."""
    h = f"{(rnd.getrandbits(128) & _UUID4_CLEAR) | _UUID4_SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid_strings(rng: np.random.Generator, n: int) -> list[str]:
    rnd = random.Random(int(rng.integers(2**63)))
    return [uuid4(rnd) for _ in range(n)]


@dataclass(frozen=True)
class Catalogue:
    product_ids: list[str]
    categories: list[str]
    brands: list[str]
    prices: list[float]
    by_category: list[list[int]]  # product indexes per category index, most popular first
    category_names: list[str]

    @classmethod
    def build(cls, rng: np.random.Generator, size: int = 1500) -> Catalogue:
        names = list(CATEGORIES)
        category = rng.choice(len(names), size=size, p=_zipf_weights(len(names), 0.6))
        noise = rng.lognormal(0.0, 0.45, size=size)
        prices, brands = [], []
        for index, c in enumerate(category):
            median, category_brands = CATEGORIES[names[c]]
            prices.append(max(1.0, round(median * noise[index]) - 0.01))
            brands.append(category_brands[rng.integers(len(category_brands))])
        return cls(
            product_ids=[str(1_000_000 + 37 * i) for i in range(size)],
            categories=[names[c] for c in category],
            brands=brands,
            prices=prices,
            by_category=[[int(i) for i in np.flatnonzero(category == c)] for c in range(len(names))],
            category_names=names,
        )


@dataclass(frozen=True)
class Population:
    """One row per registered customer: a latent propensity (standard normal, persistent) drives how often
    they visit, how deep they go and how often they start shopping episodes."""

    customer_ids: list[str]
    visit_rate: np.ndarray  # sessions per day outside a shopping episode
    affinity: np.ndarray  # 0..1: funnel depth and conversion
    episode_start: np.ndarray  # daily probability of starting a shopping episode
    weekend_lift: np.ndarray
    peak_hour: np.ndarray
    app_share: np.ndarray
    join_offset: np.ndarray  # days after the window start the customer signs up (<0: already there)
    countries: list[str]
    web_devices: list[str]
    app_devices: list[str]
    web_anonymous_ids: list[str]
    app_anonymous_ids: list[str]
    favourite_categories: list[tuple[int, int]]

    @classmethod
    def build(cls, rng: np.random.Generator, size: int, days: int, n_categories: int) -> Population:
        z = rng.normal(0.0, 1.0, size)  # the latent propensity
        joins_later = rng.random(size) >= EXISTING_SHARE
        return cls(
            customer_ids=[f"C{i + 1:07d}" for i in range(size)],
            visit_rate=np.exp(-3.0 + 1.25 * z),
            affinity=1.0 / (1.0 + np.exp(-(-0.6 + 1.4 * z))),
            episode_start=0.003 + 0.1 / (1.0 + np.exp(-(-1.2 + 2.0 * z))),
            weekend_lift=rng.uniform(-0.3, 0.6, size),
            peak_hour=rng.choice(PEAK_HOURS, size=size),
            app_share=rng.beta(1.2, 1.8, size),
            join_offset=np.where(joins_later, rng.uniform(0, days, size), -1.0),
            countries=rng.choice(COUNTRIES, size=size, p=COUNTRY_WEIGHTS).tolist(),
            web_devices=rng.choice(WEB_DEVICES, size=size, p=WEB_DEVICE_WEIGHTS).tolist(),
            app_devices=rng.choice(APP_DEVICES, size=size, p=APP_DEVICE_WEIGHTS).tolist(),
            web_anonymous_ids=uuid_strings(rng, size),
            app_anonymous_ids=uuid_strings(rng, size),
            favourite_categories=[(int(a), int(b)) for a, b in rng.integers(0, n_categories, size=(size, 2))],
        )


def _zipf_weights(n: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return weights / weights.sum()
