"""Desk's engine: domain types and algorithms, and the engine loop. Never imports Textual."""
