"""A broken catalog is refused with every problem named by file, line and path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from navigator_bot.catalog import CatalogInvalid, load_catalog


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in a file with `new`; return the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    index = text.index(old)
    path.write_text(text[:index] + new + text[index + len(old):], encoding="utf-8")
    return text[:index].count("\n") + 1


def _issues(folder: Path) -> list:
    with pytest.raises(CatalogInvalid) as caught:
        load_catalog(folder)
    return caught.value.issues


def test_shipped_catalog_is_valid(catalog_copy: Path) -> None:
    assert len(load_catalog(catalog_copy).measures) == 26


def test_altered_yearly_result_names_file_and_line(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "kpis.yaml", "result: 896,", "result: 986,")
    issues = _issues(catalog_copy)
    messages = [str(issue) for issue in issues]
    assert any(i.file.endswith("kpis.yaml") and i.line == line and "27.2%" in i.message for i in issues), messages
    assert any("add up to 3,772" in i.message and "3,682" in i.message for i in issues), messages


def test_altered_result_keeping_the_rounded_rate_is_caught_by_the_sum(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "kpis.yaml", "result: 896,", "result: 897,")  # 897/3300 still rounds to 27.2%
    [issue] = _issues(catalog_copy)
    assert issue.path == "kpis[0].cumulative_result"
    assert f"lines {line - 1}–{line + 2}" in issue.message and "3,683" in issue.message


def test_wrong_published_rate(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "kpis.yaml", '"111.6%"', '"111.7%"')
    [issue] = _issues(catalog_copy)
    assert (issue.file.endswith("kpis.yaml"), issue.line) == (True, line)
    assert issue.path == "kpis[0].cumulative_published_rate"
    assert "111.6%" in issue.message


def test_bad_yaml_syntax(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "agencies.yaml", "    short_name: 県\n", "    short_name: [県\n")
    issues = _issues(catalog_copy)
    syntax = [i for i in issues if i.file.endswith("agencies.yaml")]
    assert syntax and "YAML syntax" in syntax[0].message
    assert syntax[0].line is not None and line <= syntax[0].line <= line + 2


def test_unknown_agency(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "measures.yaml", "agencies: [labour-bureau]", "agencies: [labor-office]")
    [issue] = _issues(catalog_copy)
    assert issue.file.endswith("measures.yaml") and issue.line == line
    assert issue.path == "measures[0].agencies[0]"
    assert "unknown agency 'labor-office'" in issue.message


def test_duplicate_id(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "measures.yaml", "id: mothers-corner", "id: hellowork-desk")
    issues = _issues(catalog_copy)
    duplicate = [i for i in issues if "duplicate id" in i.message]
    assert duplicate and duplicate[0].line == line and "measures.yaml:6" in duplicate[0].message


def test_missing_field(catalog_copy: Path) -> None:
    text = (catalog_copy / "agencies.yaml").read_text(encoding="utf-8")
    (catalog_copy / "agencies.yaml").write_text(text.replace("    full_name: 青森労働局\n", ""), encoding="utf-8")
    [issue] = _issues(catalog_copy)
    assert issue.path == "agencies[0].full_name" and issue.message == "Field required"
    assert issue.line == text.split("\n").index("  - id: labour-bureau") + 1


def test_unknown_field(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "categories.yaml", "    number: 2\n", "    number: 2\n    colour: blue\n")
    [issue] = _issues(catalog_copy)
    assert issue.path == "categories[1].colour" and issue.line == line + 1
    assert "Extra inputs are not permitted" in issue.message


def test_all_problems_reported_at_once(catalog_copy: Path) -> None:
    _edit(catalog_copy / "kpis.yaml", "result: 1033,", "result: 1034,")
    _edit(catalog_copy / "measures.yaml", "agencies: [labour-bureau]", "agencies: [nobody]")
    _edit(catalog_copy / "categories.yaml", "number: 3", "number: three")
    files = {Path(issue.file).name for issue in _issues(catalog_copy)}
    assert files == {"kpis.yaml", "measures.yaml", "categories.yaml"}


def test_duplicate_yaml_key_is_an_error(catalog_copy: Path) -> None:
    line = _edit(catalog_copy / "categories.yaml", "    number: 1\n", "    number: 1\n    number: 5\n")
    [issue] = [i for i in _issues(catalog_copy) if i.file.endswith("categories.yaml")]
    assert "duplicate key 'number'" in issue.message and issue.line == line + 1


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "navigator_bot", *args],
                          capture_output=True, text=True, timeout=60, check=False)


def test_cli_validate_good_catalog(catalog_copy: Path) -> None:
    result = _cli("validate", str(catalog_copy))
    assert result.returncode == 0, result.stderr
    assert "4 categories, 26 measures (29 listings), 4 KPIs, 11 agencies" in result.stdout
    assert len(result.stdout.strip().splitlines()) == 1


def test_cli_validate_bad_catalog_lists_every_error(catalog_copy: Path) -> None:
    kpi_line = _edit(catalog_copy / "kpis.yaml", "result: 4178,", "result: 4187,")
    agency_line = _edit(catalog_copy / "measures.yaml", "agencies: [labour-bureau]", "agencies: [nobody]")
    result = _cli("validate", str(catalog_copy))
    assert result.returncode == 1
    assert f"kpis.yaml:{kpi_line}: kpis[1].yearly[2].published_rate" in result.stderr
    assert f"measures.yaml:{agency_line}: measures[0].agencies[0]: unknown agency 'nobody'" in result.stderr


def test_cli_validate_reads_environment(catalog_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _edit(catalog_copy / "kpis.yaml", "target: 10\n", "target: 11\n")
    env = {"NAVIGATOR_CATALOG_DIR": str(catalog_copy), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "navigator_bot", "validate"], capture_output=True, text=True,
                            timeout=60, check=False, env=env)
    assert result.returncode == 1 and "kpis[3]" in result.stderr


@pytest.mark.parametrize(("name", "text", "problem"), [
    ("bomb.yaml", "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
     + "".join(f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]\n" for p, x in zip("abcdefgh", "bcdefghi", strict=True)),
     "anchors and aliases"),
    ("big.yaml", 'source: "' + "x" * 3_000_000 + '"\n', "at most 2 MB"),
    ("deep.yaml", "source: " + "[" * 50_000 + "]" * 50_000 + "\n", "nest"),
])
def test_hostile_catalog_files_are_refused_fast_with_their_file(catalog_copy: Path, name: str, text: str,
                                                               problem: str) -> None:
    import time

    (catalog_copy / name).write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(CatalogInvalid) as raised:
        load_catalog(catalog_copy)
    assert time.perf_counter() - started < 1.0  # a 346-byte alias bomb once took 7 s and 1.1 GB
    first = str(raised.value.issues[0])
    assert first.startswith(f"{catalog_copy / name}") and problem in first, first
