"""ops.instruments: a trading session learns the gateway's pairs from its market-data twin (SPEC §7.6)."""

from __future__ import annotations

import asyncio

import pytest

from krakenfix_cli.client import ClientSpec, ConnectFailed
from krakenfix_cli.ops.instruments import fetch_symbols, market_data_twin
from krakenfix_cli.ops.session import spec_for_simulator
from krakenfix_cli.sim.gateway import DERIVATIVES_INSTRUMENTS, SPOT_INSTRUMENTS
from krakenfix_cli.sim.runner import start_simulator


@pytest.mark.parametrize("derivatives", [False, True])
def test_the_market_data_twin_lists_exactly_the_gateways_instruments(derivatives: bool) -> None:
    async def main() -> list[str]:
        sim = await start_simulator(tls=False, flow_interval=None)
        try:
            trading = spec_for_simulator(sim, ClientSpec(host="-", port=1, sender_comp_id="-", target_comp_id="-",
                                                         derivatives=derivatives))
            twin = market_data_twin(trading)
            assert twin.market_data and twin.api_key is None and twin.secret is None
            assert twin.target_comp_id == ("KRAKEN-DRV-MD" if derivatives else "KRAKEN-MD")
            return await fetch_symbols(twin, 10)
        finally:
            await sim.close()

    want = DERIVATIVES_INSTRUMENTS if derivatives else SPOT_INSTRUMENTS
    assert asyncio.run(main()) == [i.symbol for i in want]


def test_a_closed_port_is_an_error_not_a_hang() -> None:
    async def main() -> None:
        sim = await start_simulator(tls=False, flow_interval=None)
        spec = market_data_twin(spec_for_simulator(sim))
        await sim.close()  # nobody listens there any more
        await fetch_symbols(spec, 3)

    with pytest.raises(ConnectFailed):
        asyncio.run(main())
