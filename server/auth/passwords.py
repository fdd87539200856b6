"""Password hashing with argon2id, off the event loop."""

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 256


class Passwords:
    """argon2id at OWASP's minimum (m=19 MiB, t=2, p=1) unless configured stronger."""

    def __init__(self, memory_kib: int = 19456, time_cost: int = 2, parallelism: int = 1) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verified against when a login names no user, so that a miss costs as much as
        # a wrong password and does not reveal which logins exist.
        self._decoy = self._hasher.hash("decoy password, never matches")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash or self._decoy, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.to_thread(check) and password_hash is not None
