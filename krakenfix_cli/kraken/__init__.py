"""kraken layer."""
