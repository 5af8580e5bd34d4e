"""`easyisp` entry point: parse arguments, run one subcommand, map known errors to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from easyisp_cli.commands import COMMAND_MODULES
from easyisp_cli.context import CliContext
from easyisp_core import __version__
from easyisp_core.errors import EasyIspError, ValidationFailed
from easyisp_core.settings import Settings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="easyisp",
        description="EasyISP: operator console, site service and administration.",
    )
    parser.add_argument("--version", action="version", version=f"easyisp {__version__}")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="PostgreSQL URL (default: EASYISP_DATABASE_URL, else the embedded database)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings()
    if args.database_url:
        settings = settings.model_copy(update={"database_url": args.database_url})
    ctx = CliContext(settings=settings, json_output=getattr(args, "json", False))
    try:
        result: int = args.handler(ctx, args)
        return result
    except ValidationFailed as exc:
        print(f"easyisp: error: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE
    except EasyIspError as exc:
        print(f"easyisp: error: {exc.user_message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    finally:
        ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
