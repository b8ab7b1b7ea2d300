"""settings layer."""
