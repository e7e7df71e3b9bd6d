"""Domain model and errors; standard library only."""
