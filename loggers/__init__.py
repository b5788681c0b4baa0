"""Training output: console progress and tables, metrics.csv, and display rules."""
