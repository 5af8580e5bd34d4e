"""One module per subcommand group; each exposes register(subparsers)."""

from easyisp_cli.commands import (
    audit,
    console,
    customer,
    db,
    demo,
    gateway,
    nas,
    package,
    service,
    simulate,
    tenant,
    user,
)

COMMAND_MODULES = [
    console,
    service,
    db,
    demo,
    tenant,
    user,
    customer,
    package,
    nas,
    gateway,
    audit,
    simulate,
]
