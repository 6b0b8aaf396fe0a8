"""Progress reporting without a UI import.

Pipelines take ``progress: Progress | None`` — a callable ``progress(message, fraction)`` with
``fraction`` in [0, 1] for the whole job. The CLI and notebooks pass ``tqdm_progress()``, the app
passes a callback that drives ``st.progress``. ``scaled`` maps a sub-step onto a slice of the bar so a
pipeline can hand each of its steps its own 0..1 range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

Progress = Callable[[str, float], None]
T = TypeVar("T")


def silent(message: str, fraction: float) -> None:
    """A progress callback that shows nothing."""


def scaled(progress: Progress | None, start: float, end: float) -> Progress:
    """Map a step's own 0..1 progress onto [start, end] of the parent's bar.

    >>> seen = []
    >>> sub = scaled(lambda m, f: seen.append(round(f, 2)), 0.5, 1.0)
    >>> sub("half of step two", 0.5)
    >>> seen
    [0.75]
    """
    parent = progress or silent

    def report(message: str, fraction: float) -> None:
        parent(message, start + (end - start) * min(max(fraction, 0.0), 1.0))

    return report


def track(items: Iterable[T], progress: Progress | None, message: str, total: int | None = None) -> Iterator[T]:
    """Iterate ``items`` and report the fraction done after each one (at most ~100 reports)."""
    progress = progress or silent
    total = total if total is not None else len(items)  # type: ignore[arg-type]
    every = max(1, total // 100)
    for i, item in enumerate(items, 1):
        yield item
        if i % every == 0 or i == total:
            progress(message, i / max(total, 1))


class tqdm_progress:
    """A progress callback backed by one tqdm bar (0..100%), whose description follows the message."""

    def __init__(self, desc: str = "", disable: bool | None = None):
        self.bar = tqdm(total=100, desc=desc, bar_format="{desc:<40.40}|{bar}| {n:.0f}% [{elapsed}]", disable=disable)
        self._message = None

    def __call__(self, message: str, fraction: float) -> None:
        if message != self._message:
            self.bar.set_description_str(message)
            self._message = message
        self.bar.n = round(100 * min(max(fraction, 0.0), 1.0), 1)
        self.bar.refresh()

    def close(self) -> None:
        self.bar.close()

    def __enter__(self) -> "tqdm_progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
