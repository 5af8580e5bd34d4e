"""The RADIUS server: UDP listener, clients, packet codec and the Access-Request stage."""
