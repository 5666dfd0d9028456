"""Aomori support navigator: a chat bot for the 就職氷河期世代 support platform."""

__version__ = "0.1.0"
