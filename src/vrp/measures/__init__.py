"""Outcome measures: versioned definitions, rates with confidence intervals, honest tests of
change and SPC, with small-number suppression for anything that leaves the analyst tier."""
