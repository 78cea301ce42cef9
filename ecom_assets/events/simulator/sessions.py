"""One visit walking the shop's funnel: page views, searches, product views, cart, checkout, purchase."""

from __future__ import annotations

import random
from dataclasses import dataclass

from ecom_assets.events.simulator.world import Catalogue, uuid4

DRIFT_CART_LIFT = 2.0  # a promotion doubles add-to-cart rates
DRIFT_PRICE_LIFT = 1.3
TimedEvent = tuple[int, dict]  # (epoch millis, event)


@dataclass(frozen=True, slots=True)
class Visitor:
    customer_id: str | None  # the account behind the device; None for a visitor who never signs in
    anonymous_id: str
    channel: str
    device: str
    country: str
    favourites: tuple[int, int]
    signed_in: bool  # app users stay logged in, so their events carry customer_id from the start


class _Visit:
    """The events of one session as they happen, with the clock and who is known so far."""

    def __init__(self, visitor: Visitor, session_id: str, start_ms: int, rnd: random.Random):
        self.visitor = visitor
        self.rnd = rnd
        self.clock = start_ms
        self.customer_id = visitor.customer_id if visitor.signed_in else None
        self.base = {
            "session_id": session_id,
            "anonymous_id": visitor.anonymous_id,
            "channel": visitor.channel,
            "device": visitor.device,
            "country": visitor.country,
            "schema_version": 1,
        }
        self.events: list[TimedEvent] = []

    def emit(self, event_type: str, **fields) -> None:
        # event_ts is written on delivery, where the time zone of the client is decided
        event = {"event_id": uuid4(self.rnd), "event_type": event_type, "event_ts": None, **self.base}
        event["customer_id"] = self.customer_id
        event.update(fields)
        self.events.append((self.clock, event))
        self.clock += 2_000 + int(self.rnd.expovariate(1 / 25_000))

    def login(self) -> None:
        self.customer_id = self.visitor.customer_id
        self.emit("login")


class SessionWalker:
    def __init__(self, catalogue: Catalogue, rnd: random.Random, drift: bool):
        self.catalogue = catalogue
        self.rnd = rnd
        self.cart_lift = DRIFT_CART_LIFT if drift else 1.0
        self.price_lift = DRIFT_PRICE_LIFT if drift else 1.0

    def walk(self, visitor: Visitor, start_ms: int, interest: float, readiness: float) -> list[TimedEvent]:
        """The events of one session.

        ``interest`` (0..1) drives how much the visitor looks and puts in the cart, ``readiness`` (0..1)
        whether the cart is checked out and paid.
        """
        rnd = self.rnd
        visit = _Visit(visitor, uuid4(rnd), start_ms, rnd)
        can_sign_in = visitor.customer_id is not None
        visit.emit("page_view")
        if can_sign_in and visit.customer_id is None and rnd.random() < 0.3:
            visit.login()  # returning customers often sign in right away
        if rnd.random() < 0.25 + 0.3 * interest:
            visit.emit("search")
        cart: list[tuple[int, int]] = []
        cart_rate = min(0.9, (0.02 + 0.3 * interest) * self.cart_lift)
        for _ in range(1 + int(rnd.expovariate(1 / (0.8 + 4.0 * interest)))):
            product = self._pick_product(visitor.favourites)
            visit.emit("product_view", **self._product_fields(product))
            if rnd.random() < cart_rate:
                cart.append((product, _quantity(rnd)))
                visit.emit("add_to_cart", **self._product_fields(product), quantity=cart[-1][1])
            step = rnd.random()
            if step < 0.2:
                visit.emit("page_view")
            elif step < 0.3:
                visit.emit("search")
            if can_sign_in and visit.customer_id is None and rnd.random() < 0.1:
                visit.login()
        for item in [item for item in cart if rnd.random() < 0.12]:
            cart.remove(item)
            visit.emit("remove_from_cart", **self._product_fields(item[0]), quantity=item[1])
        if cart and can_sign_in and rnd.random() < 0.05 + 0.85 * readiness:
            self._checkout(visit, cart, buys=rnd.random() < 0.5 + 0.4 * readiness)
        return visit.events

    def reorder(self, visitor: Visitor, start_ms: int) -> list[TimedEvent]:
        """A replenishment order: straight to the customer's staples (the most popular products of their
        favourite category), into the cart and paid, with a single page view."""
        rnd = self.rnd
        visit = _Visit(visitor, uuid4(rnd), start_ms, rnd)
        visit.emit("page_view")
        staples = self.catalogue.by_category[visitor.favourites[0]] or [0]
        cart = [(product, _quantity(rnd)) for product in staples[: 1 + (rnd.random() < 0.4)]]
        for product, quantity in cart:
            visit.emit("add_to_cart", **self._product_fields(product), quantity=quantity)
        self._checkout(visit, cart, buys=True)
        return visit.events

    def _checkout(self, visit: _Visit, cart: list[tuple[int, int]], buys: bool) -> None:
        if visit.customer_id is None:
            visit.login()  # no checkout without an account
        visit.emit("begin_checkout")
        if buys:
            order_id = f"O{self.rnd.getrandbits(48):012x}"
            for product, quantity in cart:
                fields = self._product_fields(product)
                visit.emit("purchase", **fields, quantity=quantity, order_id=order_id)

    def _pick_product(self, favourites: tuple[int, int]) -> int:
        rnd = self.rnd
        by_category = self.catalogue.by_category
        category = favourites[rnd.random() < 0.5] if rnd.random() < 0.75 else rnd.randrange(len(by_category))
        products = by_category[category] or range(len(self.catalogue.product_ids))
        return products[int(len(products) * rnd.random() ** 2.5)]  # popular products first

    def _product_fields(self, product: int) -> dict:
        catalogue = self.catalogue
        return {
            "product_id": catalogue.product_ids[product],
            "category": catalogue.categories[product],
            "brand": catalogue.brands[product],
            "price": round(catalogue.prices[product] * self.price_lift, 2),
            "currency": "EUR",
        }


def _quantity(rnd: random.Random) -> int:
    draw = rnd.random()
    return 1 if draw < 0.85 else 2 if draw < 0.95 else 3
