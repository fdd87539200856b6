"""Password reset and e-mail verification by mail (seed 003's `/auth/password-reset` and
`/auth/verify-email`): single-use tokens that expire, of which only the SHA-256 is
stored. Asking for a reset says nothing about whether the address has an account."""

import hashlib
import logging
import secrets
import time
from urllib.parse import quote

import aiosmtplib

from graph import users
from graph.engine import GraphEngine, Row
from music.errors import UnauthenticatedError, ValidationError
from server.auth.passwords import Passwords
from server.auth.user_admin import check_password
from server.mail import MailSender

log = logging.getLogger(__name__)

RESET = "password_reset"
VERIFY = "email_verification"
RESET_SECONDS = 3600
VERIFY_SECONDS = 7 * 24 * 3600
BAD_TOKEN = "This link is not valid: it was used already, has expired, or is wrong."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountMail:
    """Mixed into AuthService, which provides these attributes."""

    engine: GraphEngine
    passwords: Passwords
    mail: MailSender | None
    public_url: str

    async def _mail_token(self, user: Row, purpose: str, seconds: int) -> str:
        token = secrets.token_urlsafe(32)
        expires_at = (int(time.time()) + seconds) * 1000
        await users.create_account_token(self.engine, user["id"], _hash(token), purpose, expires_at)
        return token

    async def _send(self, to: str, subject: str, body: str) -> None:
        if self.mail is None:
            log.warning("no mail sender: a %r mail to a user was not sent", subject)
            return
        try:
            await self.mail.send(to, subject, body)
        except (OSError, aiosmtplib.SMTPException):
            # The account change stands; the user can ask for the mail again.
            log.exception("could not send a %r mail", subject)

    async def request_password_reset(self, email: str) -> None:
        """Mail a reset token to `email` if an account has it; the same answer either way."""
        found = await users.user_for_login(self.engine, email.strip().lower())
        if found is None or "@" not in email:
            return
        user = found[0]
        token = await self._mail_token(user, RESET, RESET_SECONDS)
        await self._send(
            user["email"],
            "Reset your Apollonia password",
            f"Someone asked to reset the password of {user['username']}.\n\n"
            f"Your reset token (valid for an hour, once): {token}\n\n"
            "Send it as `token` with `new_password` to POST /api/v1/auth/password-reset, "
            "or ignore this mail to keep your password.\n",
        )

    async def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with a mailed token (once); every session of the user ends."""
        check_password(new_password, "new_password")
        user_id = await users.consume_account_token(self.engine, _hash(token), RESET)
        if user_id is None:
            raise UnauthenticatedError(BAD_TOKEN)
        await users.set_password(self.engine, user_id, await self.passwords.hash(new_password))
        await users.revoke_other_families(self.engine, user_id, keep="")

    async def send_verification(self, user: Row) -> None:
        token = await self._mail_token(user, VERIFY, VERIFY_SECONDS)
        link = f"{self.public_url.rstrip('/')}/api/v1/auth/verify-email?token={quote(token)}"
        await self._send(
            user["email"],
            "Confirm your e-mail address",
            f"Welcome to Apollonia, {user['username']}.\n\nConfirm your address: {link}\n",
        )

    async def verify_email(self, token: str) -> Row:
        """Mark the address a mailed token was sent to as verified (the token works once)."""
        if not token:
            raise ValidationError("'token' is required.", field="token")
        user_id = await users.consume_account_token(self.engine, _hash(token), VERIFY)
        if user_id is None:
            raise UnauthenticatedError(BAD_TOKEN)
        return await users.set_email_verified(self.engine, user_id)
