"""The KPI progress chart: a PNG of the documented size, with Japanese set in the font the project ships."""

from __future__ import annotations

import asyncio
import dataclasses
import struct
import subprocess
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import pytest
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font

from navigator_bot import kpi_chart
from navigator_bot.catalog import Catalog
from navigator_bot.kpi_chart import (
    ChartFontError,
    chart_size,
    japanese_font_path,
    register_japanese_font,
    render_kpi_chart,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Read (width, height) from the PNG's IHDR chunk, which the format puts first."""
    assert png.startswith(PNG_SIGNATURE)
    length, kind, width, height = struct.unpack(">I4sII", png[8:24])
    assert kind == b"IHDR" and length == 13
    return width, height


def render_recording_warnings(
    catalog: Catalog, kpi_ids: Sequence[str] | None = None, lang: str = "ja"
) -> tuple[bytes, list[str]]:
    """Render and return the PNG with the messages of every warning raised meanwhile."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_kpi_chart(catalog, kpi_ids, lang)
    return png, [str(warning.message) for warning in caught]


def test_all_kpis_render_as_a_png_of_the_documented_size(catalog: Catalog) -> None:
    png = render_kpi_chart(catalog)
    assert len(png) > 10_000
    assert png.startswith(PNG_SIGNATURE)
    assert png_size(png) == chart_size(len(catalog.kpis)) == (1200, kpi_chart.HEADER_PX + 4 * kpi_chart.ROW_PX
                                                            + kpi_chart.FOOTER_PX)


def test_one_kpi_renders_a_shorter_chart(catalog: Catalog) -> None:
    png = render_kpi_chart(catalog, ["municipal-platforms"])
    assert png_size(png) == chart_size(1)
    assert chart_size(1)[1] < chart_size(4)[1]


def test_chosen_kpis_render_in_the_given_order_without_duplicates(catalog: Catalog) -> None:
    png = render_kpi_chart(catalog, ["saposute-counselling", "regular-employment", "saposute-counselling"])
    assert png_size(png) == chart_size(2)
    assert png != render_kpi_chart(catalog, ["regular-employment", "saposute-counselling"])


def test_english_chart_has_the_same_size_and_different_text(catalog: Catalog) -> None:
    english, messages = render_recording_warnings(catalog, lang="en")
    assert png_size(english) == chart_size(len(catalog.kpis))
    assert english != render_kpi_chart(catalog, lang="ja")
    assert not [message for message in messages if "missing from font" in message]


def test_rendering_is_deterministic(catalog: Catalog) -> None:
    chosen = ["job-cafe-registrations"]
    assert render_kpi_chart(catalog, chosen) == render_kpi_chart(catalog, chosen)


def test_unknown_kpi_id_is_an_error(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="no-such-kpi"):
        render_kpi_chart(catalog, ["regular-employment", "no-such-kpi"])


def test_no_kpi_unsupported_language_and_a_bare_string_are_errors(catalog: Catalog) -> None:
    with pytest.raises(ValueError, match="no KPI"):
        render_kpi_chart(catalog, [])
    with pytest.raises(ValueError, match="language"):
        render_kpi_chart(catalog, lang="fr")
    with pytest.raises(TypeError):
        render_kpi_chart(catalog, "regular-employment")
    with pytest.raises(ValueError):
        chart_size(0)


def test_japanese_renders_without_missing_glyph_warnings(catalog: Catalog) -> None:
    png, messages = render_recording_warnings(catalog, lang="ja")
    assert png.startswith(PNG_SIGNATURE)
    assert not [message for message in messages if "missing from font" in message], messages


def test_english_chart_falls_back_to_the_japanese_font_for_a_name_without_translation(catalog: Catalog) -> None:
    kpi = catalog.kpis["regular-employment"].model_copy(update={"name_en": None, "unit_en": None})
    untranslated = dataclasses.replace(catalog, kpis={kpi.id: kpi})
    png, messages = render_recording_warnings(untranslated, lang="en")
    assert png_size(png) == chart_size(1)
    assert not [message for message in messages if "missing from font" in message], messages


def test_a_character_no_font_has_is_an_error_not_a_box(catalog: Catalog) -> None:
    kpi = catalog.kpis["regular-employment"]
    rare = dataclasses.replace(catalog, kpis={kpi.id: kpi.model_copy(update={"name": "𠮷" + kpi.name})})
    with pytest.raises(ChartFontError, match="𠮷"):
        render_kpi_chart(rare)


def test_the_shipped_font_covers_the_japanese_of_the_chart(catalog: Catalog) -> None:
    path = japanese_font_path()
    assert path.is_file() and path.name == "ipaexg.ttf"
    assert path.parent.parent.name == "japanize_matplotlib"  # the pip package's copy, not a system font
    charmap = FT2Font(str(path)).get_charmap()
    wanted = "令和元年度正社員就職件数累計目標達成率実績必要ペース" + "".join(
        kpi.name + kpi.unit for kpi in catalog.kpis.values()
    )
    assert not [char for char in wanted if ord(char) not in charmap]


def test_matplotlib_finds_the_shipped_font_by_its_family_name() -> None:
    family = register_japanese_font()
    assert family == "IPAexGothic"
    assert register_japanese_font() == family  # registering twice is harmless
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    assert found == str(japanese_font_path())


def test_a_missing_font_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kpi_chart, "JAPANESE_FONT_PACKAGE", "no_such_font_package")
    with pytest.raises(ChartFontError, match="not installed"):
        japanese_font_path()


async def test_charts_render_in_worker_threads_alongside_the_event_loop(catalog: Catalog) -> None:
    expected = render_kpi_chart(catalog, ["regular-employment"])
    charts = await asyncio.gather(
        *(asyncio.to_thread(render_kpi_chart, catalog, ["regular-employment"]) for _ in range(3))
    )
    assert charts == [expected] * 3


def test_chart_command_writes_the_png(tmp_path: Path) -> None:
    out = tmp_path / "kpi.png"
    result = subprocess.run(
        [sys.executable, "-m", "navigator_bot", "chart", "--kpi", "municipal-platforms", "-o", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert png_size(out.read_bytes()) == chart_size(1)
    wrong = subprocess.run([sys.executable, "-m", "navigator_bot", "chart", "--kpi", "nope", "-o", str(out)],
                           capture_output=True, text=True, timeout=120, check=False)
    assert wrong.returncode == 2 and "unknown KPI id(s): nope" in wrong.stderr
