"""Load the catalog folder, validate it, and hold it as one indexed `Catalog`.

All problems are collected and reported together, each with file, line, YAML path and what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .models import (
    Agency,
    CatalogDocument,
    Category,
    Crisis,
    CrisisExamples,
    Facility,
    Kpi,
    LanguageTable,
    Measure,
    Places,
    Questionnaire,
    SynonymGroup,
)
from .yaml_lines import LocatedYaml, YamlSyntaxError, load_located

PACKAGED_CATALOG = Path(__file__).resolve().parent / "_catalog"
MAX_FILE_BYTES = 2_000_000  # the largest shipped file is about 0.2 MB
CHECKOUT_CATALOG = Path(__file__).resolve().parent.parent / "catalog"


def default_catalog_dir() -> Path:
    """Return the catalog shipped with the code: the checkout's `catalog/`, else the wheel's package data."""
    if CHECKOUT_CATALOG.is_dir():
        return CHECKOUT_CATALOG
    return PACKAGED_CATALOG


@dataclass(frozen=True)
class CatalogIssue:
    """One problem in the catalog: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class CatalogInvalid(Exception):
    """The catalog has one or more problems; `issues` lists them all."""

    def __init__(self, issues: list[CatalogIssue]) -> None:
        super().__init__(f"{len(issues)} problem(s) in the catalog")
        self.issues = issues

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


def format_path(path: Iterable[str | int]) -> str:
    """Render a YAML path like `kpis[0].yearly[1].result`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class Origin:
    """Where an item of the catalog was defined."""

    file: str
    located: LocatedYaml
    path: tuple[str | int, ...]

    def issue(self, message: str, *sub: str | int) -> CatalogIssue:
        """Make an issue about this item, or about a field below it."""
        full = (*self.path, *sub)
        return CatalogIssue(self.file, self.located.line_of(full), format_path(full), message)


@dataclass
class Catalog:
    """The whole validated catalog, with items indexed by id in file order."""

    categories: dict[str, Category]
    agencies: dict[str, Agency]
    facilities: dict[str, Facility]
    measures: dict[str, Measure]
    kpis: dict[str, Kpi]
    crisis: Crisis
    synonyms: dict[str, SynonymGroup]
    questionnaire: Questionnaire
    directory: Path
    language: LanguageTable = field(default_factory=LanguageTable)
    crisis_examples: CrisisExamples | None = None
    places: Places | None = None
    origins: dict[tuple[str, str], Origin] = field(default_factory=dict, repr=False)

    @property
    def listing_count(self) -> int:
        """Number of rows in the plan's measure tables, reposts included."""
        return sum(len(measure.listings) for measure in self.measures.values())

    def summary(self) -> str:
        """One line with the counts, for `navigator-bot validate`."""
        return (
            f"catalog OK ({self.directory}): {len(self.categories)} categories, {len(self.measures)} measures "
            f"({self.listing_count} listings), {len(self.kpis)} KPIs, {len(self.agencies)} agencies, "
            f"{len(self.facilities)} facilities, {len(self.crisis.lines)} crisis lines, "
            f"{len(self.synonyms)} synonym groups, {len(self.questionnaire.questions)} questions"
        )

    def measures_in(self, category_id: str) -> list[Measure]:
        """Return the measures listed under a category, in the plan's row order."""
        rows = [
            (listing.position, measure)
            for measure in self.measures.values()
            for listing in measure.listings
            if listing.category == category_id
        ]
        return list(dict.fromkeys(measure for _, measure in sorted(rows, key=lambda row: row[0])))

    def agency_names(self, measure: Measure) -> list[str]:
        """Return the full names of a measure's agencies."""
        return [self.agencies[agency_id].full_name for agency_id in measure.agencies]


_ITEM_MODELS: dict[str, type[Category | Agency | Facility | Measure | Kpi | SynonymGroup]] = {
    "categories": Category,
    "agencies": Agency,
    "facilities": Facility,
    "measures": Measure,
    "kpis": Kpi,
    "synonyms": SynonymGroup,
}
_DOCUMENT_FIELDS = tuple(CatalogDocument.model_fields)
_PLURAL = {"agency": "agencies", "category": "categories", "facility": "facilities", "measure": "measures"}


def _yaml_files(directory: Path) -> list[Path]:
    return sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])


def _display_name(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _validation_issues(
    file: str, located: LocatedYaml, error: ValidationError, prefix: tuple[str | int, ...]
) -> Iterator[CatalogIssue]:
    for detail in error.errors(include_url=False):
        location = (*prefix, *detail["loc"])
        yield CatalogIssue(file, located.line_of(location), format_path(location), detail["msg"])


class _Builder:
    """Collects the documents of a catalog folder, then checks them as a whole."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.issues: list[CatalogIssue] = []
        self.origins: dict[tuple[str, str], Origin] = {}
        self.items: dict[str, dict[str, Any]] = {
            kind: {} for kind in ("categories", "agencies", "facilities", "measures", "kpis", "synonyms")
        }
        self.singletons: dict[str, tuple[Any, Origin]] = {}
        self.broken: set[tuple[str, str]] = set()  # items that failed validation: no cascade of "unknown id"
        self.unparsed = False

    def read(self, path: Path) -> None:
        name = _display_name(path)
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                self.issues.append(CatalogIssue(name, None, "", f"the file is {size / 1e6:.1f} MB; a catalog file may "
                                                f"be at most {MAX_FILE_BYTES / 1e6:.0f} MB"))
                self.unparsed = True
                return
            located = load_located(path.read_text(encoding="utf-8"))
        except YamlSyntaxError as error:
            self.issues.append(CatalogIssue(name, error.line, "", error.message))
            self.unparsed = True
            return
        except (OSError, UnicodeDecodeError) as error:
            self.issues.append(CatalogIssue(name, None, "", f"cannot read: {error}"))
            return
        if located.data is None:
            return
        if not isinstance(located.data, dict):
            self.issues.append(CatalogIssue(name, located.line_of(()), "", "the file must be a mapping of keys"))
            return
        for key, value in located.data.items():
            if key in self.items:
                self._read_items(name, located, str(key), value)
            elif key in _DOCUMENT_FIELDS:
                self._read_other(name, located, str(key), value)
            else:
                self.issues.append(CatalogIssue(name, located.line_of((key,)), str(key),
                                                f"unknown key; expected one of {', '.join(_DOCUMENT_FIELDS)}"))

    def _read_items(self, name: str, located: LocatedYaml, kind: str, entries: Any) -> None:
        """Validate each item on its own, so that one broken item does not hide the others."""
        if not isinstance(entries, list):
            self.issues.append(CatalogIssue(name, located.line_of((kind,)), kind, "must be a list"))
            return
        model = _ITEM_MODELS[kind]
        store = self.items[kind]
        for index, entry in enumerate(entries):
            origin = Origin(name, located, (kind, index))
            try:
                item = model.model_validate(entry)
            except ValidationError as error:
                self.issues.extend(_validation_issues(name, located, error, (kind, index)))
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    self.broken.add((kind, entry["id"]))
                continue
            key = (kind, item.id)
            if item.id in store:
                first = self.origins[key]
                self.issues.append(origin.issue(
                    f"duplicate id {item.id!r} (first defined at {first.file}:{first.located.line_of(first.path)})",
                    "id"))
                continue
            store[item.id] = item
            self.origins[key] = origin

    def _read_other(self, name: str, located: LocatedYaml, key: str, value: Any) -> None:
        try:
            document = CatalogDocument.model_validate({key: value})
        except ValidationError as error:
            self.issues.extend(_validation_issues(name, located, error, ()))
            self.broken.add((key, key))
            return
        if key not in ("crisis", "questionnaire", "language", "crisis_examples", "places"):
            return
        origin = Origin(name, located, (key,))
        if key in self.singletons:
            self.issues.append(origin.issue(f"`{key}` is defined twice; keep it in one file"))
            return
        self.singletons[key] = (getattr(document, key), origin)

    def check(self) -> None:
        if self.unparsed:
            self.issues.append(CatalogIssue(
                str(self.directory), None, "", "cross-references are checked once every file can be read"))
            return
        categories = self.items["categories"]
        agencies = self.items["agencies"]
        facilities = self.items["facilities"]
        measures = self.items["measures"]

        places = self.singletons["places"][0] if "places" in self.singletons else None
        place_ids = {area.id: area for area in places.areas} if places else {}
        place_ids.update({town.id: town for area in (places.areas if places else []) for town in area.municipalities})
        for facility in facilities.values():
            origin = self.origins[("facilities", facility.id)]
            for index, agency_id in enumerate(facility.operated_by):
                self._ref(origin, "agency", agencies, agency_id, "operated_by", index)
            for index, contact in enumerate(facility.contacts):
                for position, place_id in enumerate(contact.serves):
                    self._ref(origin, "municipality or area", place_ids, place_id, "contacts", index, "serves",
                              position)

        rows: dict[tuple[str, int], str] = {}
        for measure in measures.values():
            origin = self.origins[("measures", measure.id)]
            for index, agency_id in enumerate(measure.agencies):
                self._ref(origin, "agency", agencies, agency_id, "agencies", index)
            for index, facility_id in enumerate(measure.facilities):
                self._ref(origin, "facility", facilities, facility_id, "facilities", index)
            for index, listing in enumerate(measure.listings):
                self._ref(origin, "category", categories, listing.category, "listings", index, "category")
                row = (listing.category, listing.position)
                if row in rows:
                    self.issues.append(origin.issue(
                        f"row {listing.position} of {listing.category!r} is already taken by {rows[row]!r}",
                        "listings", index, "position"))
                rows[row] = measure.id
            if measure.listings and measure.listings[0].repost:
                self.issues.append(origin.issue("the first listing of a measure cannot be a (再掲) repost",
                                                "listings", 0, "repost"))

        for kpi in self.items["kpis"].values():
            origin = self.origins[("kpis", kpi.id)]
            self._ref(origin, "category", categories, kpi.category, "category")
            for index, measure_id in enumerate(kpi.related_measures):
                self._ref(origin, "measure", measures, measure_id, "related_measures", index)
            self._check_kpi_arithmetic(kpi, origin)

        self._check_synonyms()
        self._check_singletons(categories, measures)

    def _ref(self, origin: Origin, kind: str, known: dict[str, Any], value: str, *sub: str | int) -> None:
        """Report a reference to an unknown id, unless that item exists but failed its own validation."""
        if value not in known and (_PLURAL.get(kind, kind), value) not in self.broken:
            self.issues.append(origin.issue(f"unknown {kind} {value!r}", *sub))

    def _check_kpi_arithmetic(self, kpi: Kpi, origin: Origin) -> None:
        total = sum(item.result for item in kpi.yearly)
        if total != kpi.cumulative_result:
            first, last = (origin.located.line_of((*origin.path, "yearly", i)) for i in (0, len(kpi.yearly) - 1))
            self.issues.append(origin.issue(
                f"the yearly results (lines {first}–{last}) add up to {total:,}, "
                f"but cumulative_result is {kpi.cumulative_result:,}", "cumulative_result"))
        expected = rate_percent(kpi.cumulative_result, kpi.target)
        if Decimal(kpi.cumulative_published_rate.rstrip("%")) != expected:
            self.issues.append(origin.issue(
                f"published rate {kpi.cumulative_published_rate} does not match "
                f"{kpi.cumulative_result:,} ÷ {kpi.target:,} = {expected}%", "cumulative_published_rate"))
        for index, item in enumerate(kpi.yearly):
            expected = rate_percent(item.result, kpi.target)
            if Decimal(item.published_rate.rstrip("%")) != expected:
                self.issues.append(origin.issue(
                    f"published rate {item.published_rate} does not match "
                    f"{item.result:,} ÷ {kpi.target:,} = {expected}%", "yearly", index, "published_rate"))

    def _check_synonyms(self) -> None:
        owner: dict[str, str] = {}
        for group in self.items["synonyms"].values():
            origin = self.origins[("synonyms", group.id)]
            for index, word in enumerate(group.words):
                if word in owner and owner[word] != group.id:
                    self.issues.append(origin.issue(
                        f"{word!r} is also in synonym group {owner[word]!r}", "words", index))
                owner.setdefault(word, group.id)

    def _check_singletons(self, categories: dict[str, Any], measures: dict[str, Any]) -> None:
        for kind in ("crisis", "questionnaire"):
            if kind not in self.singletons:
                self.issues.append(CatalogIssue(str(self.directory), None, kind, f"no file defines `{kind}`"))
        if "questionnaire" not in self.singletons:
            return
        questionnaire, origin = self.singletons["questionnaire"]
        situations = {situation.id: situation for situation in questionnaire.situations}
        personas = {persona.id: persona for persona in questionnaire.personas}
        for label, entries in (("persona", questionnaire.personas), ("situation", questionnaire.situations),
                               ("question", questionnaire.questions)):
            seen: set[str] = set()
            for index, entry in enumerate(entries):
                if entry.id in seen:
                    self.issues.append(origin.issue(f"duplicate {label} id {entry.id!r}", f"{label}s", index, "id"))
                seen.add(entry.id)
        for index, situation in enumerate(questionnaire.situations):
            for position, category_id in enumerate(situation.categories):
                self._ref(origin, "category", categories, category_id, "situations", index, "categories", position)
        for index, question in enumerate(questionnaire.questions):
            for position, persona_id in enumerate(question.personas):
                self._ref(origin, "persona", personas, persona_id, "questions", index, "personas", position)
            for position, situation_id in enumerate(question.situations):
                self._ref(origin, "situation", situations, situation_id, "questions", index, "situations", position)
            for option_index, option in enumerate(question.options):
                for field_name in ("boosts", "hides"):
                    for position, measure_id in enumerate(getattr(option, field_name)):
                        self._ref(origin, "measure", measures, measure_id,
                                  "questions", index, "options", option_index, field_name, position)

    def build(self) -> Catalog:
        return Catalog(
            categories=self.items["categories"],
            agencies=self.items["agencies"],
            facilities=self.items["facilities"],
            measures=self.items["measures"],
            kpis=self.items["kpis"],
            crisis=self.singletons["crisis"][0],
            synonyms=self.items["synonyms"],
            questionnaire=self.singletons["questionnaire"][0],
            language=self.singletons["language"][0] if "language" in self.singletons else LanguageTable(),
            crisis_examples=self.singletons["crisis_examples"][0] if "crisis_examples" in self.singletons else None,
            places=self.singletons["places"][0] if "places" in self.singletons else None,
            directory=self.directory,
            origins=self.origins,
        )


def rate_percent(result: int, target: int) -> Decimal:
    """Return result ÷ target as a percentage rounded half-up to 0.1, as the plan publishes rates."""
    return (Decimal(result) * 100 / Decimal(target)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def load_catalog(directory: Path | str | None = None) -> Catalog:
    """Load and validate every YAML file of a catalog folder; raise CatalogInvalid listing all problems."""
    folder = Path(directory) if directory is not None else default_catalog_dir()
    if not folder.is_dir():
        raise CatalogInvalid([CatalogIssue(str(folder), None, "", "catalog folder not found")])
    builder = _Builder(folder)
    files = _yaml_files(folder)
    if not files:
        raise CatalogInvalid([CatalogIssue(str(folder), None, "", "no .yaml files in the catalog folder")])
    for path in files:
        builder.read(path)
    builder.check()
    if builder.issues:
        raise CatalogInvalid(builder.issues)
    return builder.build()
