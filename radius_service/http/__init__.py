"""The site service's HTTP side: M-Pesa (Daraja) callbacks and the health endpoint."""
