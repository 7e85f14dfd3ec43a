"""Live results: the festival's results served from memory and pushed to every open page."""
