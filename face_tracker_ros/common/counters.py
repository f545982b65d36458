# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Named event counts, declared once and published under the same names.

Every core counts what happens to it (frames received, commands sent, reply
errors, bytes dropped) and reports the counts in its status.  A
:class:`Counters` holds such a set: the names are given once, where the owner
is built, every count starts at 0, and :meth:`Counters.as_dict` gives them to
the status under those names, so a count is never spelt twice.  A name that
was not declared is an AttributeError on reading and on writing, so a
misspelt counter fails its test instead of counting into a new attribute.

Counts are plain ints read and written as attributes (``counts.frames += 1``),
as thread-safe as the ints they replace: each owner takes its own lock where
two threads count the same event.
"""

from typing import Dict, Iterator, Tuple


class Counters:
    """Counts of events by name, each starting at 0; see the module notes."""

    __slots__ = ('_counts',)

    def __init__(self, *names: str) -> None:
        """Declare the counters ``names`` (identifiers, each once), all at 0."""
        bad = [n for n in names if not isinstance(n, str) or not n.isidentifier()]
        if bad or len(set(names)) != len(names):
            raise ValueError(f'counter names must be distinct identifiers, got {names!r}')
        object.__setattr__(self, '_counts', dict.fromkeys(names, 0))

    def __getattr__(self, name: str) -> int:
        """Return the count ``name`` (called only for names that are not slots)."""
        counts = object.__getattribute__(self, '_counts')
        try:
            return counts[name]
        except KeyError:
            raise AttributeError(f'no counter {name!r} (counters: {", ".join(counts)})') from None

    def __setattr__(self, name: str, value: int) -> None:
        """Set the count ``name``; only declared names may be set."""
        if name not in self._counts:
            raise AttributeError(f'no counter {name!r} (counters: {", ".join(self._counts)})')
        self._counts[name] = value

    def __iter__(self) -> Iterator[Tuple[str, int]]:
        """Yield (name, count) in declaration order."""
        return iter(list(self._counts.items()))

    def as_dict(self) -> Dict[str, int]:
        """Return a copy of the counts, in declaration order."""
        return dict(self._counts)

    def __reduce__(self):
        """Copy and pickle as the counts they hold."""
        return _from_dict, (self.as_dict(),)

    def __repr__(self) -> str:
        """Show every count."""
        inner = ', '.join(f'{k}={v}' for k, v in self._counts.items())
        return f'Counters({inner})'


def _from_dict(counts: Dict[str, int]) -> Counters:
    """Rebuild :class:`Counters` holding ``counts`` (for copy and pickle)."""
    made = Counters(*counts)
    for name, value in counts.items():
        setattr(made, name, value)
    return made
