"""Plain-text rendering of measures shared by every reply that shows them."""

from __future__ import annotations

from .catalog import Catalog
from .i18n import Translator
from .models import Measure


def measure_title(measure: Measure, lang: str) -> str:
    """Return the measure's title as in the plan, with the English title after it in English."""
    if lang == "en" and measure.title_en:
        return f"{measure.title_en} ({measure.title})"
    return measure.title


def agency_names(catalog: Catalog, measure: Measure, translator: Translator, lang: str) -> str:
    """Return the measure's agencies by full name; an inferred name is marked as not yet confirmed."""
    names = []
    for agency_id in measure.agencies:
        agency = catalog.agencies[agency_id]
        name = agency.full_name
        if lang == "en" and agency.name_en:
            name = f"{agency.name_en} ({agency.full_name})"
        if not agency.verified:
            name += translator.t("unverified_name", lang)
        names.append(name)
    return translator.t("list_separator", lang).join(names)


def category_label(catalog: Catalog, measure: Measure, lang: str) -> str:
    """Return the title of the measure's first category, with its number (取組1 …)."""
    category = catalog.categories[measure.categories[0]]
    title = category.title_en if lang == "en" and category.title_en else category.title
    return f"取組{category.number} {title}" if lang == "ja" else f"Area {category.number}: {title}"
