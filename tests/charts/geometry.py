"""What a chart looks like in Chromium, read from element bounding boxes: nothing clipped, nothing
overlapping. Works on plotly charts (a <div> holding .main-svg) and the summary's inline <svg>."""

from __future__ import annotations

from pathlib import Path

SHOTS = Path("/tmp/var-charts/shots")

_BOXES = """
(el) => {
  const root = el.querySelector('svg.main-svg') ? el : el;
  const frame = root.getBoundingClientRect();
  const box = (n) => { const r = n.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height,
            text: (n.textContent || '').trim(), cls: n.getAttribute('class') || ''}; };
  const visible = (b) => b.w > 0.5 && b.h > 0.5;
  const all = (sel) => Array.from(root.querySelectorAll(sel)).map(box).filter(visible);
  return {
    frame: {x: frame.left, y: frame.top, w: frame.width, h: frame.height},
    xticks: all('.xtick text'),
    yticks: all('.ytick text'),
    legend: all('.legend .traces'),
    markers: all('.scatterlayer .point, .bars .point path, .mark'),
    texts: all('text').filter((b) => b.text && !/bartext/.test(b.cls)),
    svgTicks: all('svg.chart-svg text.tick'),
    svgLegend: all('svg.chart-svg text.legend'),
  };
}
"""


def boxes(page, selector: str) -> dict:
    return page.locator(selector).evaluate(_BOXES)


def _inside(inner: dict, outer: dict, slack: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["w"] <= outer["x"] + outer["w"] + slack
        and inner["y"] + inner["h"] <= outer["y"] + outer["h"] + slack
    )


def _overlap(a: dict, b: dict, slack: float = 0.5) -> bool:
    return (
        a["x"] + slack < b["x"] + b["w"]
        and b["x"] + slack < a["x"] + a["w"]
        and a["y"] + slack < b["y"] + b["h"]
        and b["y"] + slack < a["y"] + a["h"]
    )


def overlapping(items: list[dict]) -> list[tuple[str, str]]:
    return [
        (a["text"], b["text"])
        for i, a in enumerate(items)
        for b in items[i + 1 :]
        if _overlap(a, b)
    ]


def assert_reads(page, selector: str) -> dict:
    """The chart in ``selector``: every tick label, legend entry, marker and text inside its
    box; tick labels, legend entries and texts pairwise disjoint. Returns the boxes."""
    found = boxes(page, selector)
    frame = found["frame"]
    assert frame["w"] > 50, f"{selector} is not drawn: {frame}"
    for kind in ("xticks", "yticks", "legend", "markers", "texts"):
        clipped = [b for b in found[kind] if not _inside(b, frame)]
        assert not clipped, f"{selector}: {kind} outside the chart: {clipped[:3]} frame {frame}"
    for kind in ("xticks", "yticks", "legend", "texts"):
        pairs = overlapping(found[kind])
        assert not pairs, f"{selector}: {kind} overlap: {pairs[:5]}"
    return found


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
