"""A RouterOS API double (protocols.md §2, §8): real wire protocol, in-memory menus."""
