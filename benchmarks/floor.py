#!/usr/bin/env python3
"""The floor for a cold ``pkgindex generate``: the same work done the plainest way.

For every project folder under ROOT, in one plain process per core (``os.fork``, folders dealt
round-robin): read each distribution file, sha256 it, read its ``.dist-info/METADATA`` with
``zipfile`` and write it beside the wheel as ``FILE.metadata``; then write the folder's
``index.html`` and ``index.json`` (a link and a JSON entry per file). The first process then
writes the root ``index.html`` and ``index.json``. That is the same 14,002 files a cold run
writes on the 10,000-wheel corpus, with no validation, no limits, no atomic renames, no
catalog and no error handling: no real tool can go faster in Python on this disk.

    python benchmarks/floor.py ROOT        # timed by benchmarks/generate.py as a fresh process
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import zipfile
from pathlib import Path


def main(root: Path) -> int:
    folders = sorted(entry.path for entry in os.scandir(root) if entry.is_dir())
    workers = os.cpu_count() or 1
    children = []
    for number in range(1, workers):
        pid = os.fork()
        if pid == 0:
            do_folders(folders[number::workers])
            os._exit(0)
        children.append(pid)
    do_folders(folders[0::workers])
    failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
    names = [os.path.basename(folder) for folder in folders]
    links = "".join(f'<a href="{name}/">{name}</a>\n' for name in names)
    write(root / "index.html", f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")
    projects = [{"name": name} for name in names]
    write(root / "index.json", json.dumps({"meta": {"api-version": "1.1"}, "projects": projects}))
    return 1 if failed else 0


def do_folders(folders: list[str]) -> None:
    for folder in folders:
        links, files = [], []
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if not entry.name.endswith(".whl"):
                continue
            with open(entry.path, "rb") as handle:
                data = handle.read()
            digest = hashlib.sha256(data).hexdigest()
            stem = "-".join(entry.name.split("-", 2)[:2])
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                metadata = archive.read(f"{stem}.dist-info/METADATA")
            write(Path(entry.path + ".metadata"), metadata)
            meta_digest = hashlib.sha256(metadata).hexdigest()
            links.append(
                f'<a href="{entry.name}#sha256={digest}" '
                f'data-dist-info-metadata="sha256={meta_digest}">{entry.name}</a><br>'
            )
            files.append({"filename": entry.name, "hashes": {"sha256": digest}})
        page = "<!DOCTYPE html>\n<html><body>\n" + "\n".join(links) + "\n</body></html>\n"
        write(Path(folder, "index.html"), page)
        write(Path(folder, "index.json"), json.dumps({"files": files}))


def write(path: Path, data: str | bytes) -> None:
    with open(path, "xb") as stream:
        stream.write(data.encode() if isinstance(data, str) else data)


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))
