"""The identity service: accounts, JPKI registration, 認証ID, sign-in, tokens, representation (see README.md)."""
