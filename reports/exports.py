"""Renderers of one Summary: Markdown and CSV (as line generators, for streaming) and PDF."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from reports.figures import Summary

DEMO_EXPLAINED = (
    "seeded by seed_demo or seed_history, not real work; an admin removes it with "
    "manage.py remove_demo."
)

CSV_HEADER = [
    "kind",
    "section",
    "key",
    "label",
    "text",
    "value",
    "unit",
    "n",
    "enough_data",
    "band",
    "band_source",
    "evidence_url",
    "definition",
]


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_lines(summary: Summary, *, base_url: str = "") -> Iterator[str]:
    """The summary as Markdown a person can paste into a wiki, one line at a time."""
    yield "# Business-value summary\n\n"
    yield (
        f"Period **{summary.start:%Y-%m-%d}** to **{summary.end:%Y-%m-%d}** (both included) · "
        f"services: {_cell(summary.services)} · generated {summary.generated_at:%Y-%m-%d %H:%M} "
        "UTC from stored data only.\n\n"
    )
    if summary.demo_notice:
        yield f"> **{_cell(summary.demo_notice)}**: {DEMO_EXPLAINED}\n\n"
    for section in summary.sections:
        yield f"## {section.title}\n\n"
        yield "| Figure | Value | Band | Definition |\n|---|---|---|---|\n"
        for f in section.figures:
            band = f"{f.band} ({f.band_source})" if f.band else ""
            yield (
                f"| {_cell(f.label)} | [{_cell(f.text)}]({base_url}{f.evidence_url}) | "
                f"{_cell(band)} | {_cell(f.definition)} |\n"
            )
        yield "\n"
    yield "## Capabilities\n\n"
    if not summary.capabilities:
        yield "No capabilities are configured.\n\n"
    else:
        yield "| Capability | Status | Tests | Passing | Failing | Flaky | Skipped | Not run |\n"
        yield "|---|---|---|---|---|---|---|---|\n"
        for c in summary.capabilities:
            yield (
                f"| [{_cell(c.name)}]({base_url}{c.url}) | {_cell(c.status_text)} | {c.total} | "
                f"{c.passing} | {c.failing} | {c.flaky} | {c.skipped} | {c.not_run} |\n"
            )
        yield "\n"
    yield "## Risks\n\n"
    if not summary.risks:
        yield "No failing or flaky test behind a capability.\n"
    else:
        yield "| Test | Outcome | Capabilities | Last run |\n|---|---|---|---|\n"
        for r in summary.risks:
            when = f"{r.at:%Y-%m-%d %H:%M}" if r.at else ""
            yield (
                f"| [{_cell(r.key)}]({base_url}{r.url}) | {r.outcome} | {_cell(r.capabilities)} "
                f"| {when} |\n"
            )
    yield "\n## Quarantined tests that cover a capability\n\n"
    if not summary.quarantined:
        yield "No quarantined test covers a capability.\n"
    else:
        yield "| Test | Capabilities | Why | Since |\n|---|---|---|---|\n"
        for q in summary.quarantined:
            yield (
                f"| [{_cell(q.key)}]({base_url}{q.url}) | {_cell(q.capabilities)} "
                f"| {_cell(q.reason)} | {q.since:%Y-%m-%d %H:%M} |\n"
            )


def csv_lines(summary: Summary, *, base_url: str = "") -> Iterator[str]:
    """One row per figure and one per capability, as encoded CSV lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(row: list) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        return buffer.getvalue()

    yield line(CSV_HEADER)
    if summary.demo_notice:
        row = dict.fromkeys(CSV_HEADER, "")
        row.update(kind="demo_data", key="demo_data", label="Demo data")
        row.update(text=summary.demo_notice, definition=DEMO_EXPLAINED)
        yield line(list(row.values()))
    for section in summary.sections:
        for f in section.figures:
            yield line(
                [
                    "figure",
                    section.key,
                    f.key,
                    f.label,
                    f.text,
                    "" if f.value is None else f"{f.value:.6g}",
                    f.unit,
                    f.n,
                    "yes" if f.enough else "no",
                    f.band,
                    f.band_source,
                    base_url + f.evidence_url,
                    f.definition,
                ]
            )
    for c in summary.capabilities:
        share = "" if not c.total else f"{c.passing / c.total:.6g}"
        yield line(
            [
                "capability",
                "capabilities",
                f"capability.{c.pk}",
                c.name,
                c.status_text,
                share,
                "passing share",
                c.total,
                "yes" if c.total else "no",
                c.status,
                "",
                base_url + c.url,
                "latest result of each mapped test",
            ]
        )


def pdf_bytes(html: str, *, base_url: str) -> bytes:
    """The print page rendered by WeasyPrint (charts are inline SVG, so nothing is fetched)."""
    # Not a cycle guard: WeasyPrint takes seconds to import, which only a PDF export should pay.
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()
