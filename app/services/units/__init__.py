"""The unit tree: units, their administration, CSV import, and the scope an actor may see."""
