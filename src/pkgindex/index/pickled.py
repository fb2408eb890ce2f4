"""Pickle the dataclasses a cold run sends between processes by calling their constructor.

A frozen slotted dataclass pickles through the ``__getstate__``/``__setstate__`` that
``dataclasses`` adds, which look its fields up again for every object: about 30 µs a round trip.
A cold run of 10,000 wheels sends tens of thousands of these objects to its worker processes
and back (the files read, the projects to write), half of it in the command, while the workers
wait. :func:`by_constructor` pickles an object as its class and the values of its ``__init__``
fields, and unpickles it by calling the class with them, as any code makes one (defaults of the
other fields, such as caches, included): about 5 µs.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def by_constructor(cls: type[T]) -> type[T]:
    """Class decorator (above ``@dataclass``): pickle instances by their ``__init__`` fields."""
    names = tuple(field.name for field in dataclasses.fields(cls) if field.init)  # type: ignore[arg-type]

    def __reduce__(self: T) -> tuple[Any, ...]:
        return (_rebuild, (cls, names, tuple([getattr(self, name) for name in names])))

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


def _rebuild(cls: type[T], names: tuple[str, ...], values: tuple[Any, ...]) -> T:
    return cls(**dict(zip(names, values, strict=True)))
