"""Crowd work: annotator quality, item overlap (and, in time, rounds, packs and merges)."""
