"""The gate's tables open files through pyiceberg's own FileIO, made on first use: a
full read from a REST catalog never imports pyarrow, and files still read and write."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import PROJECT_DIR, process_env

# argv = [a path]: writes it through the FileIO, reads it back; what was imported when.
USE = r"""
import json, sys
from lakehouse.quality.deferred_io import DeferredFileIO
io = DeferredFileIO({"zzfixture-property": "kept"})
made = "pyarrow" in sys.modules
with io.new_output("file://" + sys.argv[1]).create(overwrite=True) as out:
    out.write(b"zzfixture bytes")
with io.new_input(sys.argv[1]).open() as source:
    read = source.read().decode()
kind = type(io._delegate).__name__
io.delete(io.new_input(sys.argv[1]))
print(json.dumps({"pyarrow_when_made": made, "read": read, "delegate": kind,
                  "property": io._delegate.properties.get("zzfixture-property")}))
"""


def test_files_open_through_pyicebergs_file_io_made_on_first_use(tmp_path):
    path = tmp_path / "zzfixture.bin"
    proc = subprocess.run(
        [sys.executable, "-c", USE, str(path)],
        cwd=PROJECT_DIR,
        env=process_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.splitlines()[-1])
    assert got == {
        "pyarrow_when_made": False,
        "read": "zzfixture bytes",
        "delegate": "PyArrowFileIO",
        "property": "kept",
    }
    assert not path.exists()
