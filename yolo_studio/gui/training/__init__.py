"""training panel."""
