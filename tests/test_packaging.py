"""The default catalog is found from the checkout and from an installed wheel."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from hatchling.builders.wheel import WheelBuilder

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_the_catalog_and_finds_it_when_installed(tmp_path: Path) -> None:
    wheel = Path(next(WheelBuilder(str(ROOT)).build(directory=str(tmp_path), versions=["standard"])))
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(name).name for name in names if name.startswith("navigator_bot/_catalog/")}
    assert shipped == {path.name for path in (ROOT / "catalog").glob("*.yaml")}

    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    result = subprocess.run(
        [sys.executable, "-c", "from navigator_bot.catalog import load_catalog; print(load_catalog().summary())"],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "_catalog" in result.stdout and "26 measures (29 listings)" in result.stdout
