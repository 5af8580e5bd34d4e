"""The customer workspace: one customer's profile, history and front-desk actions."""
