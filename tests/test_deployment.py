"""What can be checked of the container without a container runtime: the Dockerfile's promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.upper().startswith(name + " ")]


def test_slim_python_base_matching_the_project() -> None:
    [base] = _instructions("FROM")
    assert re.fullmatch(r"python:3\.\d+-slim", base)
    minimum = re.search(r'requires-python = ">=(3\.\d+)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert tuple(map(int, base[7:].split("-")[0].split("."))) >= tuple(map(int, minimum.split(".")))


def test_runs_as_a_non_root_user() -> None:
    [user] = _instructions("USER")
    assert user not in ("root", "0")
    assert "useradd --system --uid 10001" in DOCKERFILE


def test_exec_form_cmd_and_healthcheck_use_the_console_script() -> None:
    [cmd] = _instructions("CMD")
    assert json.loads(cmd) == ["navigator-bot", "run"]
    [health] = _instructions("HEALTHCHECK")
    assert json.loads(health.split("CMD", 1)[1].strip()) == ["navigator-bot", "health"]


def test_catalog_baked_in_and_replaceable_and_data_on_a_volume() -> None:
    env = " ".join(_instructions("ENV"))
    assert "NAVIGATOR_CATALOG_DIR=/app/catalog" in env and "NAVIGATOR_DATA_DIR=/data" in env
    assert "catalog ./catalog" in " ".join(_instructions("COPY"))
    assert json.loads(_instructions("VOLUME")[0]) == ["/data"]


def test_install_path_is_the_makefiles() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "pip install --quiet -e '.[dev]'" in makefile
    assert any(run.startswith("pip install . ") for run in _instructions("RUN"))
    assert "navigator-bot validate" in " ".join(_instructions("RUN"))


def test_dockerignore_keeps_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".git", "data"} <= set(ignored)
