"""Widgets more than one panel uses (model picker, threshold sliders); panels import these,
never each other (an import-linter contract in pyproject.toml checks it)."""
