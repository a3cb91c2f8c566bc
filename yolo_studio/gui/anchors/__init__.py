"""anchors panel."""
