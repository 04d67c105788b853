"""The sample grid: a cartesian product of chosen factor values with exclusion rules, or N samples drawn from it.

Order and selection are pure functions of the grid's content and seed (hashes, never the global RNG or the
Python version's ``random``), so every machine sweeps the same samples in the same order. Shard ``i/n`` keeps
the samples whose id hashes to ``i`` modulo ``n``: the shards are disjoint and cover the grid exactly.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import BlurdError
from .ids import DEFAULT_SEED_FROM, SeedPolicy, canonical_sample_id
from .schema import FACTOR_NAMES, Value
from .validate import canonical_value, validate_assignment

ENUMERATION_LIMIT = 2_000_000  # larger products are sampled value by value instead of enumerated
SPARSE_DRAW_RATIO = 20  # a draw of fewer than product/20 samples picks values directly instead of enumerating
MAX_DRAW_ATTEMPTS_PER_SAMPLE = 1000
EAGER_CHECK_LIMIT = 100_000  # grids up to this product size are walked once at load to catch empty grids
CHECK_DRAWS = 1000  # a drawn grid is checked at load by drawing this many samples


class GridError(BlurdError):
    """A grid that cannot be swept as written (bad rule, empty grid, too large to enumerate, bad shard)."""


def _values_list(name: str, raw: Any) -> tuple[Value, ...]:
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    return tuple(canonical_value(name, v) for v in items)


@dataclass(frozen=True)
class Rule:
    """When every factor in ``when`` has one of its listed values, the ``allow`` factors must take one of their
    listed values and the ``deny`` factors none of theirs. E.g. when gender=female, allow beard_style=[none]."""

    when: Mapping[str, Any]
    allow: Mapping[str, Any] = field(default_factory=dict)
    deny: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.allow and not self.deny:
            raise GridError("a grid rule needs 'allow' or 'deny'; e.g. allow = { beard_style = ['none'] }")
        for attr in ("when", "allow", "deny"):
            canon = {name: _values_list(name, vals) for name, vals in dict(getattr(self, attr)).items()}
            object.__setattr__(self, attr, canon)

    def matches(self, values: Mapping[str, Value]) -> bool:
        return all(values[n] in vs for n, vs in self.when.items())

    def excludes(self, values: Mapping[str, Value]) -> bool:
        """True when the assignment breaks this rule."""
        if not self.matches(values):
            return False
        return any(values[n] not in vs for n, vs in self.allow.items()) or any(
            values[n] in vs for n, vs in self.deny.items()
        )


@dataclass(frozen=True)
class Sample:
    """One sample of a grid: its position, stable id, seed and complete factor assignment."""

    index: int
    id: str
    seed: int
    factors: Mapping[str, Value]
    seed_policy: SeedPolicy | None = None  # how ``seed`` was made (None: unknown, e.g. a row of another tool)


@dataclass(frozen=True)
class Grid:
    """Fixed factor values, swept factors with their values, exclusion rules, and an optional sample count."""

    fixed: Mapping[str, Any] = field(default_factory=dict)
    sweep: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    rules: Sequence[Rule] = ()
    samples: int | None = None  # None: the whole product; N: N distinct samples drawn with ``seed``
    seed: int = 0
    seed_salt: int = 0  # mixes into every sample's seed
    seed_from: tuple[str, ...] | str = DEFAULT_SEED_FROM  # what seeds hash (factors.ids.SeedPolicy); "sample": ids

    def __post_init__(self) -> None:
        both = sorted(set(self.fixed) & set(self.sweep))
        if both:
            raise GridError(f"factor(s) {', '.join(both)} are both fixed and swept; set each in one place only")
        object.__setattr__(self, "fixed", validate_assignment(self.fixed))
        sweep: dict[str, tuple[Value, ...]] = {}
        for name in FACTOR_NAMES:  # schema order, so the product order does not depend on how a preset is written
            if name in self.sweep:
                vals = _values_list(name, self.sweep[name])
                if not vals:
                    raise GridError(f"grid sweep of {name!r} lists no values; list at least one or remove it")
                if len(set(vals)) != len(vals):
                    raise GridError(f"grid sweep of {name!r} lists a value twice: {list(vals)}")
                sweep[name] = vals
        for name in self.sweep:
            if name not in sweep:
                canonical_value(name, None)  # unknown factor: raises the standard error listing valid ones
        object.__setattr__(self, "sweep", sweep)
        object.__setattr__(self, "_base", validate_assignment(self.fixed, complete=True))  # defaults + fixed
        object.__setattr__(self, "rules", tuple(r if isinstance(r, Rule) else Rule(**r) for r in self.rules))
        if self.samples is not None and (isinstance(self.samples, bool) or self.samples < 1):
            raise GridError(f"grid samples must be a positive whole number, not {self.samples!r}")
        policy = SeedPolicy(self.seed_from, self.seed_salt)  # checks the factor names
        object.__setattr__(self, "seed_from", policy.seed_from)
        object.__setattr__(self, "_policy", policy)

    @property
    def seed_policy(self) -> SeedPolicy:
        """How the samples' seeds are made (recorded in each sample.json)."""
        return self._policy

    @property
    def product_size(self) -> int:
        """Size of the raw product before rules."""
        return math.prod(len(v) for v in self.sweep.values())

    def _assignment(self, combo: Sequence[Value]) -> dict[str, Value]:
        # fixed and sweep values are canonical already (checked in __post_init__), so no re-validation here
        values = dict(self._base)
        values.update(zip(self.sweep, combo))
        return values

    def _allowed(self, values: Mapping[str, Value]) -> bool:
        return not any(rule.excludes(values) for rule in self.rules)

    def _enumerate(self) -> Iterator[dict[str, Value]]:
        if self.product_size > ENUMERATION_LIMIT:
            raise GridError(
                f"the grid's product has {self.product_size:,} combinations, too many to enumerate; "
                f"set grid.samples to draw a number of them"
            )
        for combo in itertools.product(*self.sweep.values()):
            values = self._assignment(combo)
            if self._allowed(values):
                yield values

    def _draw(self, count: int) -> Iterator[dict[str, Value]]:
        """``count`` distinct assignments, each factor's value picked by a hash of (seed, draw, factor), drawn
        lazily: start-up time and memory do not grow with ``count`` (only the ids drawn so far are kept)."""
        seen: set[str] = set()
        names = list(self.sweep)
        for attempt in range(count * MAX_DRAW_ATTEMPTS_PER_SAMPLE):
            combo = []
            for name in names:
                digest = hashlib.sha256(f"{self.seed}:{attempt}:{name}".encode()).digest()
                combo.append(self.sweep[name][int.from_bytes(digest[:8], "big") % len(self.sweep[name])])
            values = self._assignment(combo)
            if self._allowed(values):
                sid = canonical_sample_id(values)
                if sid not in seen:
                    seen.add(sid)
                    yield values
                    if len(seen) == count:
                        return
        raise GridError(f"could not draw {count} distinct samples: the grid is empty or nearly so under its rules; "
                        f"loosen the rules or lower grid.samples")

    def _rank(self, values: Mapping[str, Value]) -> int:
        return int.from_bytes(hashlib.sha256(f"{self.seed}:{canonical_sample_id(values)}".encode()).digest(), "big")

    def _ranked(self, count: int) -> Iterator[dict[str, Value]]:
        """The ``count`` combinations of lowest rank (a hash of seed and id), in grid order: one pass keeps the
        ``count`` lowest ranks in a heap, a second pass yields them (memory grows with ``count`` and no more)."""
        heap: list[int] = []  # negated ranks: heap[0] is the largest rank kept
        total = 0
        for values in self._enumerate():
            total += 1
            rank = -self._rank(values)
            if len(heap) < count:
                heapq.heappush(heap, rank)
            elif rank > heap[0]:
                heapq.heapreplace(heap, rank)
        if not total:
            raise GridError("the grid is empty: its rules exclude every combination; loosen the rules")
        if count > total:
            raise GridError(
                f"grid samples = {count} but the grid holds only {total} samples after its rules; "
                f"lower grid.samples or sweep more values"
            )
        keep = {-rank for rank in heap}
        del heap
        return (values for values in self._enumerate() if self._rank(values) in keep)

    def _select(self) -> Iterator[dict[str, Value]]:
        if self.samples is None:
            return self._enumerate()
        if self.product_size > ENUMERATION_LIMIT or self.samples * SPARSE_DRAW_RATIO < self.product_size:
            return self._draw(self.samples)
        return self._ranked(self.samples)

    def __iter__(self) -> Iterator[Sample]:
        index = -1
        for index, values in enumerate(self._select()):
            sid = canonical_sample_id(values)
            yield Sample(index, sid, self._policy.seed(values, sid), values, self._policy)
        if index < 0:
            raise GridError("the grid is empty: its rules exclude every combination; loosen the rules")

    def size_hint(self) -> int | None:
        """How many samples the grid yields when that is known without walking it (None otherwise)."""
        if self.samples is not None:
            return self.samples
        return self.product_size if not self.rules else None

    def check(self, draws: int = CHECK_DRAWS) -> None:
        """Fail now (GridError) on an empty grid or more samples than it holds, in bounded time and memory: small
        grids are walked, large ones drawn from for up to ``draws`` samples (the rest are drawn while sweeping)."""
        if self.samples is None:
            if self.product_size <= EAGER_CHECK_LIMIT:
                self.count()
            else:
                next(iter(self))
        elif self.product_size > ENUMERATION_LIMIT or self.samples * SPARSE_DRAW_RATIO < self.product_size:
            for _ in itertools.islice(self, min(self.samples, draws)):
                pass
        else:
            next(iter(self))

    def count(self) -> int:
        """How many samples the grid yields."""
        return sum(1 for _ in self)

    def shard(self, i: int, n: int) -> Iterator[Sample]:
        """The samples of shard ``i`` of ``n`` (0 <= i < n)."""
        return shard(self, i, n)


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` as (i, n), checked: 0 <= i < n."""
    try:
        i_text, n_text = text.split("/")
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise GridError(f"shard {text!r} is not of the form i/n, e.g. 0/4 for the first of four shards") from None
    if n < 1 or not 0 <= i < n:
        raise GridError(f"shard {text!r}: need 0 <= i < n, e.g. 0/{max(n, 1)} .. {max(n, 1) - 1}/{max(n, 1)}")
    return i, n


def shard(samples: Iterator[Sample] | Grid, i: int, n: int) -> Iterator[Sample]:
    """The samples whose id falls in shard ``i`` of ``n``: disjoint shards that cover the samples exactly."""
    if n < 1 or not 0 <= i < n:
        raise GridError(f"shard {i}/{n}: need 0 <= i < n")
    return (s for s in samples if int(s.id, 16) % n == i)
