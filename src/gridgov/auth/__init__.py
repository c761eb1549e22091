"""People, sign-in (sessions, bearer and integration tokens) and the access policy."""
