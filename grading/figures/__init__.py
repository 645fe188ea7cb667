"""Figures and class statistics drawn from reports (pure: no Django; plots on a matplotlib Figure)."""
