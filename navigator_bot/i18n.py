"""UI strings from locale files (`navigator_bot/locales/<lang>.yaml`), Japanese first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

LOCALE_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("ja", "en")
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser if built in


class Translator:
    """Looks up UI strings by key; a key missing in English falls back to Japanese."""

    def __init__(self, directory: Path = LOCALE_DIR) -> None:
        self._strings: dict[str, dict[str, str]] = {}
        for lang in LANGUAGES:
            text = (directory / f"{lang}.yaml").read_text(encoding="utf-8")
            data: dict[str, Any] = yaml.load(text, Loader=_SafeLoader) or {}
            self._strings[lang] = {str(key): str(value) for key, value in data.items()}

    def keys(self, lang: str) -> set[str]:
        """Return the keys defined for a language."""
        return set(self._strings[lang])

    def has(self, key: str) -> bool:
        """Return True when the key is defined (in Japanese, which every key must be)."""
        return key in self._strings["ja"]

    def t(self, key: str, lang: str = "ja", **values: object) -> str:
        """Return the string for `key` in `lang`, formatted with `values`."""
        strings = self._strings.get(lang, self._strings["ja"])
        template = strings.get(key) or self._strings["ja"][key]
        return template.format(**values) if values else template
