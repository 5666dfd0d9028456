"""`navigator-bot chat` driven through its standard input, as a newcomer would use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _chat(data_dir: Path, lines: list[str], *args: str) -> str:
    env = {**os.environ, "NAVIGATOR_DATA_DIR": str(data_dir)}
    result = subprocess.run([sys.executable, "-m", "navigator_bot", "chat", *args], input="\n".join(lines) + "\n",
                            capture_output=True, text=True, timeout=60, check=False, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_full_conversation_with_numbers(tmp_path: Path) -> None:
    # ご本人 → 外出や人と関わるのがむずかしい → skip (とばす) each question → detail of the first result → memo
    out = _chat(tmp_path, ["1", "3", "4", "4", "1", "2"])
    assert "[1] ご本人" in out and "どなたのご相談ですか" in out
    # The total is shown once it can no longer grow: it never jumps (1/7 → 3/4).
    assert "（2問目）" in out and "（3/4）" in out and "（4/4）" in out and "/7）" not in out
    assert "合いそうな相談先です" in out
    assert "関係機関の連携強化" in out
    assert "【相談メモ】" in out


def test_typed_text_kpi_and_crisis(tmp_path: Path) -> None:
    out = _chat(tmp_path, ["R4の就職件数は？", "死にたい", "ラーメン"])
    assert "972" in out
    assert "0120-279-338" in out and "119" in out
    assert "このボットでは、次のことができます" in out


def test_conversation_continues_after_restart_and_forget(tmp_path: Path) -> None:
    _chat(tmp_path, ["2", "3"])  # ご家族 → ひきこもり, then the process ends
    out = _chat(tmp_path, [])  # a new process continues where the last one stopped
    assert "ご本人はひとり親として" not in out and "ご本人は、まず職場体験や見学" in out
    assert "どなたのご相談ですか" not in out
    out = _chat(tmp_path, ["/forget"])
    assert "削除しました" in out


def test_staff_chart_is_written_to_the_data_folder(tmp_path: Path) -> None:
    out = _chat(tmp_path, ["/kpi"], "--staff")
    chart = tmp_path / "kpi-chart.png"
    assert f"[image: {chart}]" in out
    assert chart.read_bytes().startswith(b"\x89PNG")
