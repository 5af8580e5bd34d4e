"""`easyisp simulate …`: the simulated peers of the site service, one module each:
`nas` (simulate_nas.py), `router` (simulate_router.py), `mpesa` (simulate_mpesa.py),
`router-coa` (simulate_router_coa.py), `site` (simulate_site.py), `sms` (simulate_sms.py)."""

from __future__ import annotations

from typing import Any

from easyisp_cli.commands.simulate_mpesa import register_mpesa
from easyisp_cli.commands.simulate_nas import register_nas
from easyisp_cli.commands.simulate_router import register_router
from easyisp_cli.commands.simulate_router_coa import register_router_coa
from easyisp_cli.commands.simulate_site import register_site
from easyisp_cli.commands.simulate_sms import register_sms


def register(sub: Any) -> None:
    parser = sub.add_parser("simulate", help="simulated peers of the site service")
    peers = parser.add_subparsers(dest="peer", required=True)
    register_nas(peers)
    register_router(peers)
    register_mpesa(peers)
    register_router_coa(peers)
    register_site(peers)
    register_sms(peers)
