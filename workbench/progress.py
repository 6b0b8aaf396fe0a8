"""Progress reporting without a UI import.

Pipelines take ``progress: Progress | None`` — a callable ``progress(message, fraction)`` with
``fraction`` in [0, 1] for the whole job. The CLI and notebooks pass ``tqdm_progress()``, the app
passes a callback that drives ``st.progress``. ``scaled`` maps a sub-step onto a slice of the bar so a
pipeline can hand each of its steps its own 0..1 range.
"""

from __future__ import annotations

import time
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
    """A progress callback backed by one tqdm bar (0..100%), whose description follows the message.

    When the output is not a terminal (``make demo > log``, CI, ``nohup``) a bar cannot draw, so it
    prints a plain line instead, at most every ``every`` seconds: share done, elapsed, ETA, message.
    """

    def __init__(self, desc: str = "", disable: bool | None = None, every: float = 10.0, stream=None):
        import sys

        self.stream = stream or sys.stderr
        in_notebook = "ipykernel" in sys.modules and stream is None  # tqdm.auto draws a widget there
        self.plain = not getattr(self.stream, "isatty", lambda: False)() and not in_notebook and disable is not True
        self.desc, self.every = desc, every
        self.bar = None if self.plain else tqdm(total=100, desc=desc, disable=disable,
                                                bar_format="{desc:<40.40}|{bar}| {n:.0f}% [{elapsed}]")
        self._message = None
        self._start = self._last = time.monotonic()
        self._fraction = 0.0

    def __call__(self, message: str, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if self.plain:
            now = time.monotonic()
            if now - self._last >= self.every or (fraction >= 1.0 > self._fraction):
                self._last = now
                print(plain_line(self.desc, message, fraction, now - self._start), file=self.stream, flush=True)
            self._fraction = fraction
            return
        if message != self._message:
            self.bar.set_description_str(message)
            self._message = message
        self.bar.n = round(100 * fraction, 1)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> "tqdm_progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def plain_line(desc: str, message: str, fraction: float, elapsed: float) -> str:
    """One log line of progress.

    >>> plain_line("needs (demo)", "SFT step 10/100", 0.25, 90.0)
    '[needs (demo)] 25% elapsed 1m30s ETA 4m30s | SFT step 10/100'
    """
    def clock(seconds: float) -> str:
        seconds = int(round(seconds))
        return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"

    eta = clock(elapsed * (1 - fraction) / fraction) if fraction > 0 else "?"
    return f"[{desc}] {100 * fraction:.0f}% elapsed {clock(elapsed)} ETA {eta} | {message}"
