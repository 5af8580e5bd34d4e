"""The `easyisp` command line: one entry point for the console, the service and admin tasks.

It is the only package allowed to import both the desktop and the service (lazily, so the
site service installs without Qt)."""
