"""WireGuard at the site: its key, its wg-quick config from the ACTIVE peers, peer stats."""
