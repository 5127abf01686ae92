"""Progress of an ingestion's embedding: a terminal bar, the caller's callback, or nothing.

The reporter is called with the number of chunks just embedded, and once more with final=True.
"""

from __future__ import annotations

import sys


def progress_reporter(total: int, progress):
    """A function to report embedded chunks: to a terminal bar, to the caller's callback, or None."""
    if not progress or total == 0:
        return None
    if callable(progress):
        done = 0

        def report(n: int, final: bool = False) -> None:
            nonlocal done
            done += n
            progress(done, total)
        return report
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)

    def update(n: int, final: bool = False) -> None:
        bar.update(n)
        if final:
            bar.close()
    return update
