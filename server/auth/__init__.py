"""Authentication: passwords (argon2id), JWTs (pyjwt), API keys, revocation."""
