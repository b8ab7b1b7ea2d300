"""``python -m krakenfix_cli``: the same entry point as the ``krakenfix`` command."""

from krakenfix_cli.cli.entry import main

main()
