"""MikroTik router control: the RouterOS API client (8728 / API-SSL 8729), configuration sync."""
