"""Pack reports with the files they attach into one .tar.gz for `stageloop upload --attachments`.

A report names files with ``[[ATTACHMENT|path]]`` lines and ``attachment`` properties. Each
report goes into the archive under its own folder (``1/``, ``2/``...) with the files it names,
at the same paths relative to the report, so the server finds them next to it. Only files
inside the report's own folder are packed: the client never sends what a report points at
elsewhere on the machine (absolute paths outside it, ``..``, links out).
"""

from __future__ import annotations

import gzip
import os
import re
import tarfile
from pathlib import Path

_MARKER = re.compile(r"\[\[ATTACHMENT\|([^\]\r\n|]+)")
_PROPERTY = re.compile(
    r"<property\b[^>]*\bname=\"attachments?(?:[_:.\-][^\"]*)?\"[^>]*\bvalue=\"([^\"]+)\"",
    re.IGNORECASE,
)


def named_files(text: str) -> list[str]:
    """The paths a report's text attaches, in order, each once."""
    found = [m.strip() for m in _MARKER.findall(text)]
    found += [m.replace("&amp;", "&").strip() for m in _PROPERTY.findall(text)]
    return list(dict.fromkeys(p for p in found if p))


def _report_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def pack(reports: list[Path], into: Path) -> tuple[Path, list[str]]:
    """Write `into` (a .tar.gz) holding `reports` and the files they name; return it and a
    sentence for each named file that was not packed."""
    skipped: list[str] = []
    with tarfile.open(into, "w:gz") as archive:
        for index, report in enumerate(reports, start=1):
            folder = report.resolve().parent
            archive.add(report, arcname=f"{index}/{report.name}", recursive=False)
            for name in named_files(_report_text(report)):
                path = Path(name) if os.path.isabs(name) else folder / name
                real = Path(os.path.realpath(path))
                if folder not in real.parents:
                    skipped.append(
                        f"{report.name}: {name} is outside the report's folder; not sent."
                    )
                    continue
                if not real.is_file():
                    skipped.append(f"{report.name}: {name} is not a file; not sent.")
                    continue
                relative = real.relative_to(folder).as_posix()
                if os.path.isabs(name):
                    skipped.append(
                        f"{report.name}: {name} is an absolute path, which the server does not "
                        "read; write it relative to the report."
                    )
                    continue
                archive.add(real, arcname=f"{index}/{relative}", recursive=False)
    return into, skipped
