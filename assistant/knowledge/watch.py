"""Watch the knowledge folder and re-index shortly after files in it change, without a restart.

Events are debounced (a copy of many files triggers one ingestion once they stop changing), a run
that finds another ingestion holding the index lock tries again a little later, and changes that
arrive during a run cause one more run after it. Reads (ingestion hashes every file) are ignored,
so indexing does not wake the watcher up again.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from assistant.knowledge.index import IngestBusy

log = logging.getLogger("citydesk.watch")

_WRITES = {"created", "deleted", "modified", "moved", "closed"}


class KnowledgeWatcher(FileSystemEventHandler):
    """Re-ingest `assistant`'s knowledge folder `debounce` seconds after the last change in it."""

    def __init__(self, *, assistant, debounce: float = 1.0, retry: float = 2.0, on_report=None) -> None:
        self.assistant = assistant
        self.root = Path(assistant.settings.knowledge)
        self.debounce = debounce
        self.retry = retry
        self.on_report = on_report
        self.runs = 0
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._observer = None
        self._worker = None

    def start(self, *, initial: bool = True) -> "KnowledgeWatcher":
        """Watch from now on; with `initial`, also catch up with changes made while nobody watched."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._observer = Observer()
        self._observer.schedule(self, str(self.root), recursive=True)
        self._observer.daemon = True
        self._observer.start()
        self._worker = threading.Thread(target=self._loop, name="citydesk-watch", daemon=True)
        self._worker.start()
        if initial:
            self._changed.set()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._changed.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._worker is not None:
            self._worker.join(timeout=30)

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _WRITES or (event.is_directory and event.event_type == "modified"):
            return  # a folder "modified" only echoes a change to a file in it, which has its own event
        paths = [event.src_path, getattr(event, "dest_path", "") or ""]
        if any(p and not self._hidden(p) for p in paths):
            self._changed.set()

    def _hidden(self, path) -> bool:
        try:
            parts = Path(path).relative_to(self.root).parts
        except ValueError:
            return True
        return any(part.startswith((".", "~$")) for part in parts)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._changed.wait()
            while self._changed.is_set() and not self._stop.is_set():
                self._changed.clear()
                self._stop.wait(self.debounce)  # more events in the meantime set _changed again
            if self._stop.is_set():
                return
            self._ingest()

    def _ingest(self) -> None:
        try:
            report = self.assistant.ingest()
        except IngestBusy:
            log.info("index busy; retrying in %.0f s", self.retry)
            self._stop.wait(self.retry)
            self._changed.set()
            return
        except Exception:
            log.exception("re-indexing after a change in %s failed", self.root)
            return
        self.runs += 1
        if report.indexed or report.removed or report.rejected:
            log.warning("knowledge changed: indexed %s, removed %s, rejected %s", report.indexed, report.removed,
                        [r["path"] for r in report.rejected])
        if self.on_report is not None:
            self.on_report(report)
