"""preview panel."""
