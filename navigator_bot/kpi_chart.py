"""KPI progress charts for prefecture staff, rendered as PNG bytes.

One row per KPI: the yearly results as bars against the yearly pace needed, and the cumulative result over the
years against the period's target. Japanese text is set in IPAexGothic, shipped by the `japanize-matplotlib`
package (a dependency of this project), so the chart looks the same on every machine.

Only `matplotlib.figure.Figure` and the Agg canvas are used, never pyplot: `render_kpi_chart` may run in a worker
thread next to the bot's event loop (e.g. through `asyncio.to_thread`).
"""

from __future__ import annotations

import importlib.util
import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from functools import cache
from itertools import accumulate
from pathlib import Path

from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from PIL import Image

from .catalog import Catalog, rate_percent
from .fiscal_year import fiscal_year_label, fiscal_years_label
from .models import Kpi

WIDTH_PX = 1200
DPI = 100
HEADER_PX = 90
FOOTER_PX = 44  # the source and as-of line
ROW_PX = 330
# Fixed pixel layout of a row (constrained layout would double the render time): margins around the two axes.
LEFT_PX = 90
RIGHT_PX = 30
AXES_TOP_PX = 78
AXES_BOTTOM_PX = 40
YEARLY_WIDTH_PX = 560
CUMULATIVE_WIDTH_PX = 440
LANGS = ("ja", "en")

JAPANESE_FONT_PACKAGE = "japanize_matplotlib"
JAPANESE_FONT_FILE = "fonts/ipaexg.ttf"
JAPANESE_FONT_FAMILY = "IPAexGothic"
LATIN_FONT_FAMILY = "DejaVu Sans"  # ships with matplotlib itself
# Characters every chart uses; the Japanese font must cover them all.
JAPANESE_SAMPLE = "令和元年度正社員就職件数累計目標達成率実績必要ペース〜（）、。"

# Okabe–Ito palette: distinguishable with the common forms of colour blindness.
BAR_COLOUR = "#0072B2"
DASHED_COLOUR = "#D55E00"  # the pace needed and the target
CUMULATIVE_COLOUR = "#009E73"
DASHES = (0, (6, 3))
# Room above the tallest bar or point for its value label.
HEADROOM = 1.2
TEXT_COLOUR = "#222222"
RATE_MET_COLOUR = "#00785A"  # darker shades of the palette's green and vermillion, for contrast as text
RATE_SHORT_COLOUR = "#B34700"
GRID_COLOUR = "#DDDDDD"
# White behind value labels keeps them readable where they cross a pace or target line.
LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}

# Matplotlib is not thread-safe (shared font caches, font manager); charts are small, so render one at a time.
_RENDER_LOCK = threading.Lock()
_FONT_LOCK = threading.Lock()
_registered_font: str | None = None


class ChartFontError(RuntimeError):
    """The Japanese font is missing or lacks glyphs: rendering would show boxes instead of text."""


@dataclass(frozen=True)
class _Texts:
    """The chart's wording in one language."""

    header: str
    yearly_title: str
    cumulative_title: str
    bars: str
    dashed: str
    cumulative: str
    yearly_y: str
    cumulative_y: str
    rate: str
    met: str
    unmet: str
    source: str
    about: str


_TEXTS = {
    "ja": _Texts(
        header="重要業績評価指標（KPI）の進捗　{period}",
        yearly_title="年度別の実績　必要ペース {pace}/年度",
        cumulative_title="累計 {result}{unit} ／ 目標 {target}{unit}",
        bars="年度別の実績",
        dashed="必要ペース（目標÷年度数）／目標",
        cumulative="累計実績",
        yearly_y="実績（{unit}）",
        cumulative_y="累計（{unit}）",
        rate="達成率 {rate}%",
        met="達成",
        unmet="未達成",
        source="出典: あおもり就職氷河期世代活躍支援プラットフォーム事業実施計画 進捗状況（{period}の実績）",
        about="約",
    ),
    "en": _Texts(
        header="Progress of the key performance indicators (KPIs), {period}",
        yearly_title="Results by fiscal year; pace needed {pace} a year",
        cumulative_title="Cumulative {result} / target {target} {unit}",
        bars="Result of the fiscal year",
        dashed="Pace needed (target ÷ years) / target",
        cumulative="Cumulative result",
        yearly_y="Result ({unit})",
        cumulative_y="Cumulative ({unit})",
        rate="{rate}% of target",
        met="met",
        unmet="not met",
        source="Source: Aomori ice-age generation platform plan, progress report ({period} results)",
        about="about ",
    ),
}


def chart_size(kpi_count: int) -> tuple[int, int]:
    """Return the (width, height) in pixels of a chart with `kpi_count` KPIs."""
    if kpi_count < 1:
        raise ValueError("a chart needs at least one KPI")
    return WIDTH_PX, HEADER_PX + ROW_PX * kpi_count + FOOTER_PX


def _year_tick(fiscal_year: int, lang: str) -> str:
    """Return an axis label for a fiscal year: 令和2年度, or the short FY2020 in English."""
    return f"FY{fiscal_year}" if lang == "en" else fiscal_year_label(fiscal_year, "ja")


def japanese_font_path() -> Path:
    """Return the path of the shipped Japanese font file, or raise ChartFontError."""
    # find_spec locates the package without importing it: its import changes matplotlib's global rcParams.
    spec = importlib.util.find_spec(JAPANESE_FONT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ChartFontError(
            "the Japanese font package is not installed (pip install japanize-matplotlib); "
            "KPI charts would show boxes instead of Japanese text"
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / JAPANESE_FONT_FILE
        if path.is_file():
            return path
    raise ChartFontError(f"{JAPANESE_FONT_FILE} not found in the {JAPANESE_FONT_PACKAGE} package")


def register_japanese_font() -> str:
    """Register the shipped Japanese font with matplotlib once and return its family name."""
    global _registered_font
    with _FONT_LOCK:
        if _registered_font is None:
            path = japanese_font_path()
            missing = [char for char in JAPANESE_SAMPLE if ord(char) not in _charmap(str(path))]
            if missing:
                raise ChartFontError(f"{path} has no glyph for {''.join(missing)!r}")
            font_manager.fontManager.addfont(str(path))
            family = font_manager.FontProperties(fname=str(path)).get_name()
            if family != JAPANESE_FONT_FAMILY:
                raise ChartFontError(f"{path} is {family!r}, expected {JAPANESE_FONT_FAMILY!r}")
            _registered_font = family
        return _registered_font


@cache
def _charmap(path: str) -> frozenset[int]:
    return frozenset(FT2Font(path).get_charmap())


def _font_families(texts: Iterable[str], lang: str) -> list[str]:
    """Return the font families to set the texts in; raise ChartFontError if a character would render as a box."""
    japanese = (register_japanese_font(), str(japanese_font_path()))
    latin = (LATIN_FONT_FAMILY, font_manager.findfont(LATIN_FONT_FAMILY, fallback_to_default=False))
    fonts = [latin, japanese] if lang == "en" else [japanese, latin]
    needed = {ord(char) for text in texts for char in text if char != "\n"}
    primary = needed - _charmap(fonts[0][1])
    if not primary:
        # One font is enough; matplotlib's glyph-by-glyph fallback costs a third of the render time.
        return [fonts[0][0]]
    missing = primary - _charmap(fonts[1][1])
    if missing:
        raise ChartFontError(f"no font of the chart has a glyph for {''.join(sorted(map(chr, missing)))!r}")
    return [name for name, _path in fonts]


def _number(value: int | Decimal) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _with_unit(value: int | Decimal, kpi: Kpi, lang: str) -> str:
    if lang == "en":
        return f"{_number(value)} {kpi.unit_en or kpi.unit}"
    return f"{_number(value)}{kpi.unit}"


def _select(catalog: Catalog, kpi_ids: Sequence[str] | None) -> list[Kpi]:
    if kpi_ids is None:
        kpis = list(catalog.kpis.values())
    else:
        if isinstance(kpi_ids, str):
            raise TypeError("kpi_ids must be a sequence of ids, not one string")
        unknown = [kpi_id for kpi_id in kpi_ids if kpi_id not in catalog.kpis]
        if unknown:
            raise ValueError(f"unknown KPI id(s) {unknown}; known: {list(catalog.kpis)}")
        kpis = [catalog.kpis[kpi_id] for kpi_id in dict.fromkeys(kpi_ids)]
    if not kpis:
        raise ValueError("no KPI to chart")
    return kpis


def _period(kpis: Sequence[Kpi], lang: str) -> str:
    return fiscal_years_label({item.fiscal_year for kpi in kpis for item in kpi.yearly}, lang)


def _tick_label(value: float, lang: str) -> str:
    """Label a y tick; millions are shortened so that the labels stay within the margin beside the axes."""
    if abs(value) < 1_000_000:
        return f"{value:,.0f}"
    return f"{value / 1_000_000:,.4g}M" if lang == "en" else f"{value / 10_000:,.0f}万"


def _style_axes(ax: Axes, lang: str, family: list[str]) -> None:
    ax.tick_params(labelsize=10, labelfontfamily=family, colors=TEXT_COLOUR, length=3)
    ax.grid(axis="y", color=GRID_COLOUR, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10], integer=True))  # KPIs count whole things
    ax.yaxis.set_major_formatter(lambda value, _pos: _tick_label(value, lang))


def _width_px(text: Text) -> float:
    return text.get_window_extent(text.figure.canvas.get_renderer()).width


def _shrink_to_fit(text: Text, max_px: float) -> None:
    """Make a text smaller if it is wider than `max_px`, so that a long KPI name cannot run into its neighbours."""
    width = _width_px(text)
    if width > max_px:
        text.set_fontsize(text.get_fontsize() * max_px / width)


def _panel_title(ax: Axes, text: str, max_px: float, family: list[str]) -> None:
    # A plain text instead of set_title: placing titles clear of the axes' decorations costs a fifth of the render.
    title = ax.annotate(text, (0, 1), xycoords="axes fraction", xytext=(0, 8), textcoords="offset points",
                        ha="left", va="bottom", fontsize=11.5, fontfamily=family, color=TEXT_COLOUR)
    _shrink_to_fit(title, max_px)


def _unit(kpi: Kpi, lang: str) -> str:
    return (kpi.unit_en or kpi.unit) if lang == "en" else kpi.unit


def _draw_yearly(ax: Axes, kpi: Kpi, lang: str, texts: _Texts, family: list[str]) -> None:
    positions = list(range(len(kpi.yearly)))
    results = [item.result for item in kpi.yearly]
    pace = kpi.yearly_pace
    bars = ax.bar(positions, results, width=0.6, color=BAR_COLOUR, zorder=2)
    top = float(max(*results, pace)) * HEADROOM
    # A label just above a bar would sit on the pace line when the bar ends near it: put that one inside the bar.
    label = 0.09 * top  # a label's height, in the axis' units
    near = [value < float(pace) < value + label and value > 2 * label for value in results]
    for bar, value, inside in zip(bars, results, near, strict=True):
        ax.annotate(_number(value), (bar.get_x() + bar.get_width() / 2, value),
                    xytext=(0, -5 if inside else 3), textcoords="offset points", ha="center",
                    va="top" if inside else "bottom", fontsize=10.5, fontfamily=family,
                    color="white" if inside else TEXT_COLOUR, zorder=4, bbox=None if inside else LABEL_BOX)
    ax.axhline(float(pace), color=DASHED_COLOUR, linestyle=DASHES, linewidth=2, zorder=3)
    ax.set_ylim(0, top)
    ax.set_xlim(-0.6, len(positions) - 0.4)
    ax.set_xticks(positions, [_year_tick(item.fiscal_year, lang) for item in kpi.yearly])
    # A pace is a count of things a year: 412.5 reads oddly, so it is shown as about 413 (rounded up: it must be met).
    shown = pace if pace == pace.to_integral_value() else pace.to_integral_value(rounding=ROUND_CEILING)
    words = _with_unit(shown, kpi, lang) if shown == pace else texts.about + _with_unit(shown, kpi, lang)
    _panel_title(ax, texts.yearly_title.format(pace=words), YEARLY_WIDTH_PX, family)
    ax.set_ylabel(texts.yearly_y.format(unit=_unit(kpi, lang)), fontsize=10.5, fontfamily=family)


def _draw_cumulative(ax: Axes, kpi: Kpi, lang: str, texts: _Texts, family: list[str]) -> None:
    positions = list(range(len(kpi.yearly)))
    totals = list(accumulate(item.result for item in kpi.yearly))
    ax.fill_between(positions, totals, color=CUMULATIVE_COLOUR, alpha=0.15, linewidth=0, zorder=1)
    ax.plot(positions, totals, color=CUMULATIVE_COLOUR, marker="o", markersize=6, linewidth=2.2, zorder=3,
            clip_on=False)
    for position, total in zip(positions, totals, strict=True):
        ax.annotate(_number(total), (position, total), xytext=(0, 8), textcoords="offset points", ha="center",
                    va="bottom", fontsize=10.5, fontfamily=family, color=TEXT_COLOUR, zorder=4, bbox=LABEL_BOX)
    ax.axhline(kpi.target, color=DASHED_COLOUR, linestyle=DASHES, linewidth=2, zorder=2)
    ax.set_ylim(0, max(totals[-1], kpi.target) * HEADROOM)
    ax.set_xlim(-0.4, len(positions) - 0.6)
    ax.set_xticks(positions, [_year_tick(item.fiscal_year, lang) for item in kpi.yearly])
    text = texts.cumulative_title.format(result=_number(kpi.cumulative_result), target=_number(kpi.target),
                                         unit=_unit(kpi, lang))
    _panel_title(ax, text, CUMULATIVE_WIDTH_PX, family)
    ax.set_ylabel(texts.cumulative_y.format(unit=_unit(kpi, lang)), fontsize=10.5, fontfamily=family)


def _draw_legend(figure: Figure, texts: _Texts, family: list[str]) -> None:
    """One legend for the whole chart: a legend per panel costs a sixth of the render time."""
    handles = [
        Patch(color=BAR_COLOUR, label=texts.bars),
        Line2D([], [], color=DASHED_COLOUR, linestyle=DASHES, linewidth=2, label=texts.dashed),
        Line2D([], [], color=CUMULATIVE_COLOUR, marker="o", markersize=6, linewidth=2.2, label=texts.cumulative),
    ]
    figure.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1 - 50 / figure.bbox.height),
                  ncols=len(handles), frameon=False, prop={"family": family, "size": 11}, handlelength=2.6,
                  columnspacing=2.5)


def _draw_row(figure: Figure, index: int, kpi: Kpi, lang: str, texts: _Texts, family: list[str]) -> None:
    width, height = figure.bbox.width, figure.bbox.height
    top = height - HEADER_PX - index * ROW_PX
    name = (kpi.name_en or kpi.name) if lang == "en" else kpi.name
    if index:
        figure.add_artist(Line2D([RIGHT_PX / width, 1 - RIGHT_PX / width], [top / height] * 2, color=GRID_COLOUR,
                                 linewidth=1, transform=figure.transFigure))
    title = figure.text(LEFT_PX / 3 / width, (top - 8) / height, name, ha="left", va="top", fontsize=15,
                        fontfamily=family, color=TEXT_COLOUR)
    # The rate is the number staff look for first: large, on the KPI's title line, coloured by target reached.
    rate = rate_percent(kpi.cumulative_result, kpi.target)
    verdict = texts.met if rate >= 100 else texts.unmet  # in words too, not only in colour
    rate_text = figure.text(1 - RIGHT_PX / width, (top - 8) / height, f"{texts.rate.format(rate=rate)}  {verdict}",
                            ha="right",
                            va="top", fontsize=15, fontfamily=family,
                            color=RATE_MET_COLOUR if rate >= 100 else RATE_SHORT_COLOUR)
    _shrink_to_fit(title, width - LEFT_PX / 3 - RIGHT_PX - _width_px(rate_text) - 40)
    bottom = (top - ROW_PX + AXES_BOTTOM_PX) / height
    axes_height = (ROW_PX - AXES_TOP_PX - AXES_BOTTOM_PX) / height
    yearly = figure.add_axes((LEFT_PX / width, bottom, YEARLY_WIDTH_PX / width, axes_height))
    cumulative_left = WIDTH_PX - RIGHT_PX - CUMULATIVE_WIDTH_PX
    cumulative = figure.add_axes((cumulative_left / width, bottom, CUMULATIVE_WIDTH_PX / width, axes_height))
    for ax in (yearly, cumulative):
        _style_axes(ax, lang, family)
    _draw_yearly(yearly, kpi, lang, texts, family)
    _draw_cumulative(cumulative, kpi, lang, texts, family)


def _all_texts(kpis: Sequence[Kpi], lang: str, texts: _Texts) -> list[str]:
    """Every text the chart can show, for the glyph check: the wording, the KPIs' names and units, the numbers."""
    words = [*vars(texts).values(), _period(kpis, lang), "0123456789,.%"]
    for kpi in kpis:
        words += [kpi.name_en or kpi.name, kpi.unit_en or kpi.unit] if lang == "en" else [kpi.name, kpi.unit]
        words += [_year_tick(item.fiscal_year, lang) for item in kpi.yearly]
    return words


def render_kpi_chart(catalog: Catalog, kpi_ids: Sequence[str] | None = None, lang: str = "ja") -> bytes:
    """Render the progress of the KPIs (all, or those named, in that order) as a PNG of `chart_size` pixels."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; use one of {LANGS}")
    kpis = _select(catalog, kpi_ids)
    texts = _TEXTS[lang]
    family = _font_families(_all_texts(kpis, lang, texts), lang)

    width, height = chart_size(len(kpis))
    with _RENDER_LOCK:
        figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
        canvas = FigureCanvasAgg(figure)
        figure.text(0.5, 1 - 16 / height, texts.header.format(period=_period(kpis, lang)), ha="center", va="top",
                    fontsize=17, fontfamily=family, color=TEXT_COLOUR)
        _draw_legend(figure, texts, family)
        for index, kpi in enumerate(kpis):
            _draw_row(figure, index, kpi, lang, texts, family)
        figure.text(LEFT_PX / 3 / width, 14 / height, texts.source.format(period=_period(kpis, lang)), ha="left",
                    va="bottom", fontsize=10, fontfamily=family, color=TEXT_COLOUR)
        canvas.draw()
        image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    # Opaque RGB at a low compression level: a tenth faster to encode than savefig's RGBA, and smaller.
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=3)
    return buffer.getvalue()
