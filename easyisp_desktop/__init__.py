"""EasyISP operator console: the PySide6 desktop app over the shared database.

It talks to the database only through easyisp_core services, always off the GUI thread, and
never imports the site service.
"""
