"""Spot-checking judge verdicts: estimators, audit sampling designs, review queue and export."""
