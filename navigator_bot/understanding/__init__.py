"""Reading typed text: normalization, dialect, crisis, lexical and semantic search, intents."""

from .interpret import Answer, Understanding

__all__ = ["Answer", "Understanding"]
