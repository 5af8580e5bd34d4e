"""Router onboarding: the one RouterOS script an operator pastes into a new router."""
