"""A progress line for long operator work: on a terminal only, never in a log or a pipe."""

import sys
from types import TracebackType
from typing import TextIO


class ProgressLine:
    """`with ProgressLine("redrive") as progress: progress(n)` rewrites one stderr line
    ("redrive: 12 jobs") while a person watches, and ends it with a newline; when stderr is
    not a terminal it writes nothing, so scripts and logs see only the result."""

    def __init__(self, label: str, unit: str = "", stream: TextIO | None = None) -> None:
        self._label, self._unit = label, unit
        self._stream = stream or sys.stderr
        self._shown = self._stream.isatty()
        self._written = False

    def __call__(self, done: int, what: str | None = None) -> None:
        if not self._shown:
            return
        label = f"{self._label} {what}" if what else self._label
        unit = f" {self._unit}" if self._unit else ""
        self._stream.write(f"\r\x1b[2K{label}: {done}{unit}")
        self._stream.flush()
        self._written = True

    def __enter__(self) -> "ProgressLine":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._written:
            self._stream.write("\n")
            self._stream.flush()
