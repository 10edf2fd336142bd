"""Review and spot-checking of judge verdicts: the review session, audit sampling, estimators, export."""
