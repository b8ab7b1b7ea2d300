"""Built-in connection profiles: the simulator, Kraken UAT and production (SPEC §2).

Each trading profile has a market-data twin named ``<name>-md`` (same host and
SenderCompID, another port and TargetCompID, no 553/554/5025 on Logon). Derivatives
default to ``KRAKEN-DRV-TRD``/``KRAKEN-DRV-MD``, the TargetCompIDs every Kraken wire
example shows; the [U] docs table says ``KRAKEN-TRD``/``KRAKEN-MD`` (SPEC §11.1), so the
user config can override ``target_comp_id`` per profile. UAT and production SenderCompIDs
are assigned by Kraken at onboarding, so those profiles carry none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

PROD_HOST = "colo-london.vip-fix.kraken.com"
UAT_HOST = "colo-london.vip-fix.uat.kraken.com"
SIM_HOST = "127.0.0.1"
SIM_SENDER = "KFXCLIENT"
MD_SUFFIX = "-md"


@dataclass(frozen=True, slots=True)
class Profile:
    """Where and as whom to connect; the user config may override any field."""

    name: str
    host: str
    port: int
    tls: bool
    sender: str | None
    "SenderCompID(49); None when Kraken assigns it (UAT, production)."
    target: str
    "TargetCompID(56)."
    market_data: bool = False
    derivatives: bool = False
    production: bool = False
    heartbeat: int = 60
    "HeartBtInt(108) in seconds; Kraken recommends 60."
    description: str = ""

    @property
    def twin_name(self) -> str:
        """The name of the matching trading / market-data profile."""
        return self.name[: -len(MD_SUFFIX)] if self.name.endswith(MD_SUFFIX) else self.name + MD_SUFFIX

    @property
    def insecure_allowed(self) -> bool:
        """``--insecure`` (no certificate check) is for UAT and the simulator only (SPEC §2.2)."""
        return not self.production


class UnknownProfileError(KeyError):
    """No built-in or configured profile has this name."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return f"unknown profile {self.name!r}; known profiles: {', '.join(self.known)}"


def target_comp_id(*, derivatives: bool, market_data: bool) -> str:
    """Kraken's TargetCompID(56) for a session kind (SPEC §2.3): the one home of the four names."""
    return ("KRAKEN-DRV-" if derivatives else "KRAKEN-") + ("MD" if market_data else "TRD")


def _pair(
    name: str,
    host: str,
    trd_port: int,
    md_port: int,
    *,
    tls: bool,
    sender: str | None,
    derivatives: bool,
    production: bool,
    what: str,
) -> list[Profile]:
    trd_target = target_comp_id(derivatives=derivatives, market_data=False)
    md_target = target_comp_id(derivatives=derivatives, market_data=True)
    return [
        Profile(
            name=name, host=host, port=trd_port, tls=tls, sender=sender, target=trd_target,
            derivatives=derivatives, production=production, description=f"{what} trading",
        ),
        Profile(
            name=name + MD_SUFFIX, host=host, port=md_port, tls=tls, sender=sender, target=md_target,
            market_data=True, derivatives=derivatives, production=production,
            description=f"{what} market data",
        ),
    ]  # fmt: skip


def _builtins() -> dict[str, Profile]:
    profiles = [
        *_pair(
            "sim", SIM_HOST, 14001, 14000, tls=False, sender=SIM_SENDER, derivatives=False,
            production=False, what="local simulator, Spot",
        ),
        *_pair(
            "sim-derivatives", SIM_HOST, 14003, 14002, tls=False, sender=SIM_SENDER + "_DRV",
            derivatives=True, production=False, what="local simulator, Derivatives",
        ),
        *_pair(
            "uat-spot", UAT_HOST, 4001, 4000, tls=True, sender=None, derivatives=False,
            production=False, what="Kraken UAT Spot",
        ),
        *_pair(
            "uat-derivatives", UAT_HOST, 4003, 4002, tls=True, sender=None, derivatives=True,
            production=False, what="Kraken UAT Derivatives",
        ),
        *_pair(
            "prod-spot", PROD_HOST, 4001, 4000, tls=True, sender=None, derivatives=False,
            production=True, what="Kraken PRODUCTION Spot",
        ),
        *_pair(
            "prod-derivatives", PROD_HOST, 4003, 4002, tls=True, sender=None, derivatives=True,
            production=True, what="Kraken PRODUCTION Derivatives",
        ),
    ]  # fmt: skip
    return {p.name: p for p in profiles}


BUILTIN_PROFILES: Mapping[str, Profile] = MappingProxyType(_builtins())
DEFAULT_PROFILE = "sim"


def profile_names() -> list[str]:
    """Names of the built-in profiles, in a stable order."""
    return list(BUILTIN_PROFILES)


def get_profile(name: str, extra: Mapping[str, Profile] | None = None) -> Profile:
    """The profile called ``name`` from ``extra`` (user config) or the built-ins."""
    if extra is not None and name in extra:
        return extra[name]
    try:
        return BUILTIN_PROFILES[name]
    except KeyError:
        known = sorted({*BUILTIN_PROFILES, *(extra or {})})
        raise UnknownProfileError(name, known) from None
