"""Give a built wheel a new version: render a version template, then rewrite the wheel.

Templates are PEP 440 versions with placeholders::

    {version}     the version the build produced, e.g. 2.1.0 (public part only, no local label)
    {date}        build date, YYYY.M.D          43!{date}            -> 43!2025.12.17
    {timestamp}   build time, YYYYMMDDHHMMSS    {version}.dev{timestamp} -> 2.1.0.dev20251217093000
    {sha7}, {sha} the source commit             {version}+g{sha7}    -> 2.1.0+g1a2b3c4

A rewrite touches everything that names the version, consistently: the filename, the
``.dist-info`` (and ``.data``) folder, ``Version:`` in METADATA, and RECORD with fresh hashes and
sizes. Nothing else in the wheel changes, so the result is as reproducible as the input.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import string
import zipfile
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

from pkgindex.errors import ConfigError, InvalidDistributionError

TEMPLATE_FIELDS = ("version", "date", "timestamp", "sha7", "sha")


def render_version(template: str, *, version: Version, commit: str, now: datetime) -> Version:
    """The version ``template`` gives for a build of ``version`` from ``commit`` at ``now``."""
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    if unknown := sorted(fields - set(TEMPLATE_FIELDS)):
        raise ConfigError(
            f"version-template {template!r}: unknown placeholder(s) {unknown}",
            hint=f"use only {', '.join('{' + name + '}' for name in TEMPLATE_FIELDS)}",
        )
    text = template.format(
        version=version.public,
        date=f"{now.year}.{now.month}.{now.day}",
        timestamp=now.strftime("%Y%m%d%H%M%S"),
        sha7=commit[:7],
        sha=commit,
    )
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise ConfigError(
            f"version-template {template!r} gives {text!r}, which is not a PEP 440 version",
            hint="for example '43!{date}', '{version}.dev{timestamp}' or '{version}+g{sha7}'",
        ) from exc


def rewrite_wheel_version(wheel: Path, version: Version, out_dir: Path) -> Path:
    """Write a copy of ``wheel`` with version ``version`` into ``out_dir``; return its path."""
    _parse(wheel.name)
    distribution, _, rest = wheel.name.split("-", 2)
    new_text = str(version)
    target = out_dir / f"{distribution}-{new_text}-{rest}"
    with zipfile.ZipFile(wheel) as source:
        infos = source.infolist()
        contents = {info.filename: source.read(info) for info in infos}
    stem = _dist_info_stem(wheel.name, contents)
    new_stem = f"{stem.split('-')[0]}-{new_text}"
    old_prefixes = (f"{stem}.dist-info/", f"{stem}.data/")
    new_prefixes = (f"{new_stem}.dist-info/", f"{new_stem}.data/")
    record_name = f"{new_prefixes[0]}RECORD"
    renamed: dict[str, tuple[zipfile.ZipInfo, bytes]] = {}
    for info in infos:
        new_name = _rename(info.filename, old_prefixes, new_prefixes)
        data = contents[info.filename]
        if new_name == f"{new_prefixes[0]}METADATA":
            data = _set_metadata_version(data, new_text, wheel.name)
        renamed[new_name] = (_copy_info(info, new_name), data)
    if record_name not in renamed:
        raise InvalidDistributionError(f"{wheel.name}: no {old_prefixes[0]}RECORD in the wheel")
    record_info, _ = renamed[record_name]
    renamed[record_name] = (record_info, _record(renamed, record_name))
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as output:
        for info, data in renamed.values():
            output.writestr(info, data)
    return target


def _parse(filename: str) -> tuple[str, Version, object, object]:
    try:
        return parse_wheel_filename(filename)
    except ValueError as exc:
        raise InvalidDistributionError(f"{filename}: not a valid wheel filename: {exc}") from exc


def _dist_info_stem(filename: str, contents: dict[str, bytes]) -> str:
    stems = {
        path.split("/")[0].removesuffix(".dist-info")
        for path in contents
        if path.count("/") == 1
        and path.split("/")[0].endswith(".dist-info")
        and path.endswith("/METADATA")
    }
    if len(stems) != 1:
        raise InvalidDistributionError(
            f"{filename}: expected one .dist-info folder, found {len(stems)}"
        )
    return stems.pop()


def _rename(path: str, old_prefixes: tuple[str, ...], new_prefixes: tuple[str, ...]) -> str:
    for old, new in zip(old_prefixes, new_prefixes, strict=True):
        if path.startswith(old):
            return new + path[len(old) :]
    return path


def _copy_info(info: zipfile.ZipInfo, filename: str) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(filename, date_time=info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    return copy


def _set_metadata_version(data: bytes, version: str, filename: str) -> bytes:
    lines = data.split(b"\n")
    for index, line in enumerate(lines):
        if line.strip() == b"":
            break  # end of the headers: the body follows
        if line.lower().startswith(b"version:"):
            lines[index] = b"Version: " + version.encode()
            return b"\n".join(lines)
    if BytesHeaderParser().parsebytes(data).get("Version") is None:
        raise InvalidDistributionError(f"{filename}: METADATA has no Version field")
    raise InvalidDistributionError(f"{filename}: cannot find the Version line in METADATA")


def _record(entries: dict[str, tuple[zipfile.ZipInfo, bytes]], record_name: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for path, (_info, data) in entries.items():
        if path == record_name:
            writer.writerow([path, "", ""])
        elif not path.endswith("/"):
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            writer.writerow([path, f"sha256={digest.decode()}", str(len(data))])
    return buffer.getvalue().encode()
