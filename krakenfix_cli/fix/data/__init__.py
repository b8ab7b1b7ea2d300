"""Generated FIX data files (fix44.json) and their generator."""
