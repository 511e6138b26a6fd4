"""Deterministic synthetic source data (stands in for the upstream producers).

Seeded by date so re-running a partition rewrites exactly the same rows.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

FIRST_NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Margaret", "Linus", "Frances")
LAST_NAMES = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Hamilton")
COUNTRIES = ("DE", "FR", "US", "GB", "NL", "ES", "BR", "IN", "JP")
TIERS = ("bronze", "silver", "gold")
EVENT_TYPES = (
    ("page_view", 0.55),
    ("search", 0.15),
    ("add_to_cart", 0.15),
    ("login", 0.08),
    ("purchase", 0.07),
)
USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0",
)
PAGES = ("/", "/search", "/product/{n}", "/cart", "/checkout", "/account")
_NS = uuid.UUID("6f1b8a5e-8c1d-4bd4-9a55-2f0c3e7d9a10")


def customer_id(index: int) -> str:
    return f"C{index:05d}"


def _seed(*parts: object) -> int:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def customer_snapshot(as_of: date, customers: int) -> list[dict[str, Any]]:
    """The operational customer table as it looks on ``as_of`` (attributes drift over time)."""
    ordinal = as_of.toordinal()
    rows = []
    for i in range(1, customers + 1):
        rng = random.Random(_seed("customer", i))
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        tier_shift = ordinal // 7 if i % 5 == 0 else 0
        email_version = ordinal // 30 if i % 13 == 0 else 0
        status = "churned" if i % 11 == 0 and ordinal % 20 < 5 else "active"
        rows.append(
            {
                "customer_id": customer_id(i),
                "full_name": f"{first} {last}",
                "email": f"{first}.{last}{i}{'+' + str(email_version) if email_version else ''}"
                f"@example.com".lower(),
                "country": rng.choice(COUNTRIES),
                "tier": TIERS[(rng.randrange(3) + tier_shift) % 3],
                "status": status,
            }
        )
    return rows


def events_for_day(
    day: date, count: int, customers: int, ingested_at: datetime
) -> list[dict[str, Any]]:
    """``count`` events with timestamps inside ``day`` (UTC)."""
    rng = random.Random(_seed("events", day.isoformat()))
    start = datetime.combine(day, time.min, tzinfo=UTC)
    kinds, weights = zip(*EVENT_TYPES, strict=True)
    rows = []
    for n in range(count):
        cust = rng.randint(1, customers)
        kind = rng.choices(kinds, weights)[0]
        first = FIRST_NAMES[cust % len(FIRST_NAMES)].lower()
        anonymous = kind in {"page_view", "search"} and rng.random() < 0.2
        rows.append(
            {
                "event_id": str(uuid.uuid5(_NS, f"{day.isoformat()}-{n}")),
                "event_type": kind,
                "event_ts": start + timedelta(seconds=rng.randrange(86_400)),
                "customer_id": customer_id(cust),
                "session_id": f"s-{day:%Y%m%d}-{cust:05d}-{rng.randrange(3)}",
                "user_email": None if anonymous else f"{first}{cust}@example.com",
                "ip_address": f"{rng.randint(11, 223)}.{rng.randrange(256)}."
                f"{rng.randrange(256)}.{rng.randint(1, 254)}",
                "user_agent": rng.choice(USER_AGENTS),
                "page_url": rng.choice(PAGES).format(n=rng.randint(1, 500)),
                "amount": Decimal(rng.randint(500, 25_000)) / 100 if kind == "purchase" else None,
                "currency": "EUR" if kind == "purchase" else None,
                "ingested_at": ingested_at,
            }
        )
    rows.sort(key=lambda r: r["event_ts"])
    return rows
