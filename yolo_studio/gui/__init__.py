"""Widgets only. Each panel talks to core/ through plain calls and to other panels through AppContext."""
