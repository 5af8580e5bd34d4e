"""The service side of the console's command queue (service_commands): disconnects and CoA."""
