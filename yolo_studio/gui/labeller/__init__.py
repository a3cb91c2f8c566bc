"""labeller panel."""
