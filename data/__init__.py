"""Bundled sample data (a real AlpacaEval subset, CC BY-NC 4.0; see SOURCE.md)."""
