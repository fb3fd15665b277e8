"""A batch of hits as the counting statement takes it: parallel arrays, one statement whatever its size.

Pure. Hits are grouped by asset, IP and user agent (one group is one listener of one asset, whichever day's
salt hashed them); each group carries the listener hashes its requests of the last 24 hours may have been
stored under (``identities``: this day's salt and the two before), and its hits in time order (``k``, ties
in arrival order), which is the order ``rules.count_downloads`` walks them in.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from learning.media.downloads.rules import WINDOW, Hit, listener_hash, normal_ip, threshold_bytes


@dataclass(slots=True)
class Batch:
    first: datetime  # the earliest hit
    last: datetime  # the latest hit
    # one row per stored request (one byte range of a hit)
    request_assets: list[uuid.UUID] = field(default_factory=list)
    request_listeners: list[str] = field(default_factory=list)
    request_times: list[datetime] = field(default_factory=list)
    request_starts: list[int] = field(default_factory=list)
    request_ends: list[int] = field(default_factory=list)
    request_apps: list[str] = field(default_factory=list)
    # one row per (group, listener hash) a group's earlier requests and windows may be stored under
    identity_groups: list[int] = field(default_factory=list)
    identity_assets: list[uuid.UUID] = field(default_factory=list)
    identity_listeners: list[str] = field(default_factory=list)
    # one row per hit
    hit_groups: list[int] = field(default_factory=list)
    hit_orders: list[int] = field(default_factory=list)
    hit_assets: list[uuid.UUID] = field(default_factory=list)
    hit_listeners: list[str] = field(default_factory=list)
    hit_times: list[datetime] = field(default_factory=list)
    hit_sizes: list[int] = field(default_factory=list)
    hit_thresholds: list[int] = field(default_factory=list)
    hit_apps: list[str] = field(default_factory=list)
    hit_days: list[date] = field(default_factory=list)

    def parameters(self) -> dict[str, Any]:
        """The statement's parameters (``repository._COUNT``)."""
        return {
            "r_asset": self.request_assets, "r_listener": self.request_listeners, "r_at": self.request_times,
            "r_start": self.request_starts, "r_end": self.request_ends, "r_app": self.request_apps,
            "i_group": self.identity_groups, "i_asset": self.identity_assets, "i_listener": self.identity_listeners,
            "h_group": self.hit_groups, "h_k": self.hit_orders, "h_asset": self.hit_assets,
            "h_listener": self.hit_listeners, "h_at": self.hit_times, "h_size": self.hit_sizes,
            "h_threshold": self.hit_thresholds, "h_app": self.hit_apps, "h_day": self.hit_days,
            # the requests and windows a decision may look at (as rules.count_downloads does)
            "after": self.first - WINDOW, "until": self.last,
            "starts_after": self.first - 2 * WINDOW, "starts_before": self.last + WINDOW,
        }  # fmt: skip


def build_batch(hits: list[Hit], salts: dict[date, bytes]) -> Batch:
    """The arrays of ``hits`` (not empty; ``salts`` has the salt of each hit's day and, when kept, of the two
    days before)."""
    groups: dict[tuple[uuid.UUID, str, str], list[Hit]] = defaultdict(list)
    for hit in hits:
        groups[(hit.asset_id, normal_ip(hit.ip), hit.user_agent)].append(hit)
    batch = Batch(first=min(hit.at for hit in hits), last=max(hit.at for hit in hits))
    for number, ((asset_id, ip, agent), group) in enumerate(groups.items()):
        days = {hit.at.date() - timedelta(days=back) for hit in group for back in range(3)}
        hashes = {day: listener_hash(salts[day], ip, agent) for day in days if day in salts}  # once per day
        for listener in sorted(set(hashes.values())):
            batch.identity_groups.append(number)
            batch.identity_assets.append(asset_id)
            batch.identity_listeners.append(listener)
        for order, hit in enumerate(sorted(group, key=lambda h: h.at), start=1):
            listener = hashes[hit.at.date()]
            batch.hit_groups.append(number)
            batch.hit_orders.append(order)
            batch.hit_assets.append(asset_id)
            batch.hit_listeners.append(listener)
            batch.hit_times.append(hit.at)
            batch.hit_sizes.append(hit.size_bytes)
            batch.hit_thresholds.append(threshold_bytes(hit.size_bytes, hit.duration_seconds))
            batch.hit_apps.append(hit.app)
            batch.hit_days.append(hit.at.date())
            for start, end in hit.ranges:
                batch.request_assets.append(asset_id)
                batch.request_listeners.append(listener)
                batch.request_times.append(hit.at)
                batch.request_starts.append(start)
                batch.request_ends.append(end)
                batch.request_apps.append(hit.app)
    return batch
