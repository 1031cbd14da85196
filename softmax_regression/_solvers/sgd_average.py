"""Iterate averaging (Polyak-Ruppert) as a pure ``init`` / ``update`` pair.

The average weighs the ``t``-th iterate since the start by about ``t^decay``
("polynomial-decay averaging", Shamir and Zhang, 2013): it forgets the early,
far-off iterates of a long stream polynomially, yet averages over the last
``1 / (decay + 1)`` or so of all steps, which spans many chunks, and on a
class-sorted stream many classes. ``decay = 0`` is the plain running mean.
"""

from dataclasses import dataclass

from .._utils.namespace import namespace


@dataclass(frozen=True)
class Average:
    """The averaged coefficients and the number of iterates in them."""

    coef: object
    count: int


def average_init(coef):
    """An empty average: its first update takes the iterate as it is."""
    xp = namespace(coef)
    return Average(coef=xp.asarray(coef, copy=True), count=0)


def average_update(average, coef, decay):
    """The average with one more iterate ``coef``."""
    count = average.count + 1
    weight = (decay + 1.0) / (count + decay)
    return Average(coef=average.coef + weight * (coef - average.coef), count=count)
