"""Walking the suggested images in order, skipping those labelled since the suggestion was made."""
from __future__ import annotations

from pathlib import Path


class SuggestionWalk:
    """The suggestion order, and where the person is in it (the labeller's "Next suggested")."""

    def __init__(self, order=()):
        self.order: list[Path] = [Path(p) for p in order]
        self._index = {p: i for i, p in enumerate(self.order)}
        self._pos = -1

    def __len__(self) -> int:
        return len(self.order)

    def rank(self, path) -> int | None:
        """0 for the most useful image, None for one that was not suggested."""
        return self._index.get(Path(path))

    def next(self, is_labelled, current=None) -> Path | None:
        """The first suggestion after ``current`` (or after the last one visited) not labelled yet.

        ``is_labelled(path)`` is asked at walk time, so an image a person labelled
        after the suggestions were made is skipped. None when none is left.
        """
        at = self.rank(current) if current is not None else None
        start = (at if at is not None else self._pos) + 1
        for i in range(start, len(self.order)):
            if not is_labelled(self.order[i]):
                self._pos = i
                return self.order[i]
        return None

    def remaining(self, is_labelled) -> int:
        """Suggestions not labelled yet."""
        return sum(1 for p in self.order if not is_labelled(p))
