"""Apps, grants, tokens and the OAuth 2.0 server: the gate every app passes through."""
