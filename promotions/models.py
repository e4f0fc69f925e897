"""Models of the promotions app arrive with its issue."""
