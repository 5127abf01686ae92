"""The report of one ingestion: which files were indexed, unchanged, removed or rejected, and counts.

Returned by Index.ingest; `citydesk ingest --json` prints as_json(), a log line the short repr.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class IngestReport:
    """What one ingestion did, per file; paths are relative to the knowledge folder."""

    indexed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0

    def __repr__(self) -> str:
        """Counts, not file lists: a log line stays one line with hundreds of unchanged guides."""
        return (f"IngestReport(indexed={len(self.indexed)}, unchanged={len(self.unchanged)}, "
                f"removed={len(self.removed)}, rejected={len(self.rejected)}, chunks={self.chunks}, "
                f"embedded={self.embedded}, seconds={self.seconds:.1f})")

    def as_json(self) -> dict:
        out = asdict(self)
        out["seconds"] = round(self.seconds, 2)
        return out
