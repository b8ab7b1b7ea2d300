"""krakenfix: a command-line tool for Kraken's FIX 4.4 gateway."""

__version__ = "0.1.0"
