"""Torture tests: kill -9 loops, concurrent writers, hostile inputs (marked slow; run in CI)."""
