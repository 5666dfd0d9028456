"""`navigator-bot ask` gives the bot's answers on the command line, as text or one JSON object per line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from navigator_bot.catalog import Catalog


def _ask(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "navigator_bot", "ask", *args], input=stdin, capture_output=True,
                          text=True, timeout=60, check=False)


def test_json_lines_from_stdin_in_order(catalog: Catalog) -> None:
    queries = ["派遣で働いていて正社員になりたい", "R4の就職件数は？", "死にたい", "天気"]
    result = _ask("--json", "-", stdin="\n".join(queries) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().split("\n")
    assert len(lines) == 4
    answers = [json.loads(line) for line in lines]
    assert [a["query"] for a in answers] == queries
    assert [a["intent"] for a in answers] == ["measures", "kpi", "crisis", "help"]
    for answer in answers:
        assert set(answer) == {"query", "intent", "text", "measures", "window"}
    first = answers[0]["measures"]
    assert first and set(first[0]) == {"id", "title", "agencies", "score", "why"}
    scores = [m["score"] for m in first]
    assert scores == sorted(scores, reverse=True)
    for measure in first:
        assert measure["title"] == catalog.measures[measure["id"]].title and "(再掲)" not in measure["title"]
        assert measure["agencies"] == catalog.agency_names(catalog.measures[measure["id"]])
        # The reply leads with the window in plain words; the plan's title stays in the JSON and the detail view.
        heading = catalog.measures[measure["id"]].why_plain
        assert heading is not None and heading.ja in answers[0]["text"]
    assert all(a["measures"] == [] for a in answers[1:])
    assert "972" in answers[1]["text"] and "0120-279-338" in answers[2]["text"]


def test_text_answer_and_english() -> None:
    result = _ask("--lang", "en", "ｻﾎﾟｽﾃ")
    assert result.returncode == 0, result.stderr
    assert "Youth Support Station" in result.stdout
    result = _ask("ジョブカフェの新規登録者数")
    assert "14,317" in result.stdout


def test_a_closed_pipe_ends_quietly() -> None:
    lines = "\n".join(["正社員になりたい"] * 200) + "\n"
    result = subprocess.run(f"{sys.executable} -m navigator_bot ask - | head -1", shell=True, input=lines,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.stdout.count("\n") == 1 and "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


def test_qr_code_of_a_deep_link(tmp_path: Path) -> None:
    out = tmp_path / "qr.png"
    result = subprocess.run([sys.executable, "-m", "navigator_bot", "qr", "family", "--bot", "aomori_navi_bot", "-o",
                             str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert "https://t.me/aomori_navi_bot?start=family" in result.stdout
    assert out.read_bytes().startswith(b"\x89PNG")
    refused = subprocess.run([sys.executable, "-m", "navigator_bot", "qr", "no spaces", "--bot", "aomori_navi_bot",
                              "-o", str(out)], capture_output=True, text=True, timeout=60, check=False)
    assert refused.returncode == 2 and "payload" in refused.stderr
