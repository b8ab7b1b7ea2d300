"""``krakenfix log``: questions about FIX logs, answered in one streaming pass.

One module, one job: :mod:`.reader` turns files into time-ordered records,
:mod:`.expr` is the filter language (also meant for ``tail --where`` and the REPL),
:mod:`.timerange` is ``--since``/``--until``, :mod:`.stats` and :mod:`.orders` fold
records into reports, :mod:`.diff` pairs two messages' fields.
"""
