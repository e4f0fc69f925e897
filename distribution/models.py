"""Models of the distribution app arrive with its issue."""
