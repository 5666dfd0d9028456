"""Thin adapters that connect chat networks (Telegram) to the transport-free dialogue engine."""
