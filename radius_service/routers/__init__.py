"""MikroTik router control: configuration sync (and, later, the API client and health)."""
