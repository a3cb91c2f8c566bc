"""Everything that is not a widget. Nothing under core/ may import Qt or pyqtgraph."""
