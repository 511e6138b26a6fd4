"""pyiceberg's FileIO for the gate's catalog, made when a file is first opened.

The gate reads data with DuckDB; pyiceberg opens files only to read a SQL catalog's
metadata file, or the manifests of a scan it plans (delete files, incremental mode).
Loading a table from a REST catalog (every deployed environment's) still makes the
table's FileIO, and pyiceberg's default one imports pyarrow: a twentieth of a second of
every gate run, spent for nothing on a full read. This FileIO makes pyiceberg's own, as
pyiceberg would choose it for the location, on first use.
"""

from __future__ import annotations

from pyiceberg.io import PY_IO_IMPL, FileIO, InputFile, OutputFile, load_file_io
from pyiceberg.typedef import EMPTY_DICT, Properties

# The catalog property that gives the gate's tables this FileIO.
DEFERRED_IO = {PY_IO_IMPL: f"{__name__}.DeferredFileIO"}


class DeferredFileIO(FileIO):
    """Delegates to the FileIO pyiceberg would have made, made on first use."""

    def __init__(self, properties: Properties = EMPTY_DICT) -> None:
        super().__init__(properties)
        self._delegate: FileIO | None = None

    def _io(self, location: str) -> FileIO:
        if self._delegate is None:
            chosen = {k: v for k, v in self.properties.items() if k != PY_IO_IMPL}
            self._delegate = load_file_io(chosen, location)
        return self._delegate

    def new_input(self, location: str) -> InputFile:
        return self._io(location).new_input(location)

    def new_output(self, location: str) -> OutputFile:
        return self._io(location).new_output(location)

    def delete(self, location: str | InputFile | OutputFile) -> None:
        path = location if isinstance(location, str) else location.location
        self._io(path).delete(location)
