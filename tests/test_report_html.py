"""The HTML report: self-contained, linked, every ladder and the timing chart; renders in Chromium."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_report_fixtures import PROFILE, empty_result, sample_result

from pmipct_check.report import render
from pmipct_check.report.html import timing_chart_svg

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.hrefs: list[str] = []
        self.srcs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "src" in attrs:
            self.srcs.append(attrs["src"])


def _parse(page: str) -> _Collect:
    collect = _Collect()
    collect.feed(page)
    return collect


def test_self_contained_and_linked():
    page = render(sample_result(), "html", profile=PROFILE)
    doc = _parse(page)
    assert not doc.srcs and "script" not in doc.tags and "link" not in doc.tags
    assert not re.search(r"url\(", page)  # no fetched fonts or images
    for href in doc.hrefs:
        assert href.startswith("#") and href[1:] in doc.ids  # every link lands on the page
    assert {"ho-H1", "ho-H2", "ho-H3", "ho-H4", "summary", "findings", "timings"} <= doc.ids
    assert "#ho-H2" in doc.hrefs  # the DRAFT-D2 finding links to its handover
    assert page.count('class="ladder"') == 4
    assert page.count('class="timing-chart"') == 1
    assert "DRAFT-D2" in page and "lab/tap-core.pcapng:40" in page
    assert "mag-a" in page


def test_ladder_limit_draws_what_did_not_pass_first_and_links_only_drawn_ladders():
    result = sample_result()
    page = render(result, "html", profile=PROFILE, max_ladders=2)
    doc = _parse(page)
    not_passed = [h.id for h in result.handovers if result.verdicts.get(h.id) != "pass"][:2]
    assert page.count('class="ladder"') == 2
    assert {i for i in doc.ids if i.startswith("ho-")} == {f"ho-{h}" for h in not_passed}
    for href in doc.hrefs:
        assert href[1:] in doc.ids  # no link to a ladder the page does not have
    assert f"{len(result.handovers) - 2} more ladders not drawn" in page
    assert render(result, "html", profile=PROFILE, max_ladders=0).count('class="ladder"') == len(result.handovers)


def test_timing_chart_has_a_dot_per_measurement():
    result = sample_result()
    svg = timing_chart_svg(result.handovers)
    measured = sum(len(h.timings) for h in result.handovers)
    assert svg.count("<circle") == measured


def test_empty_result_page():
    page = render(empty_result(), "html")
    assert "No handover found." in page and "No timing measured." in page


def _png_pixels(path: Path, max_rows: int) -> tuple[int, int, list[bytes]]:
    """Decode the first rows of an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(min(height, max_rows)):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_renders_in_headless_chromium(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render(sample_result(), "html", profile=PROFILE), encoding="utf-8")
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()],
        check=False, capture_output=True, timeout=90,
    )
    assert shot.exists() and shot.stat().st_size > 10_000
    width, bpp, rows = _png_pixels(shot, 700)  # header, summary, handover table, chart
    assert width == 1280
    colours: set[bytes] = set()
    non_white = 0
    for row in rows[::8]:
        for x in range(0, len(row), bpp * 8):
            pixel = row[x:x + 3]
            colours.add(pixel)
            non_white += pixel != b"\xff\xff\xff"
    assert len(colours) > 20  # text, badges, the chart: not a blank page
    assert non_white > 2000
    # the header band is the page's dark slate (#263238), so the stylesheet applied
    assert rows[10][40 * bpp:40 * bpp + 3] == bytes.fromhex("263238")
