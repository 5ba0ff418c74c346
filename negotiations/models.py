"""Models of this app arrive with its own issue (see DESIGN.md for the plan)."""
