"""Seed 003's account routes: `POST /auth/password-reset` (ask for a token with
`{email}`, then set the password with `{token, new_password}`) and
`GET /auth/verify-email?token=…` (the link mailed at sign-up)."""

from typing import Any

from music.errors import ValidationError
from server.rest import shapes
from server.rest._mapping import Call, Route, q
from server.rest.shapes import BOOL, REF, STR, obj

AUTH_TAG = "Auth"
RESET_ASKED = "If an account has this address, a reset token was mailed to it."


def reset_variables(call: Call) -> dict[str, Any]:
    token, new_password = call.b("token"), call.b("new_password")
    confirm = token is not None or new_password is not None
    if confirm and not token:
        raise ValidationError("'token' is required.", field="token")
    if confirm and not new_password:
        raise ValidationError("'new_password' is required.", field="new_password")
    if not confirm and not call.b("email"):
        raise ValidationError("'email' is required.", field="email")
    # The skipped field's arguments still need values.
    return {
        "request": not confirm,
        "confirm": confirm,
        "email": call.b("email") or "",
        "token": token or "",
        "newPassword": new_password or "",
    }


def reset_result(data: Any, call: Call) -> dict[str, Any]:
    if data.get("resetPassword"):
        return {"message": "Your password was changed; sign in again."}
    return {"message": RESET_ASKED}


def verified(data: Any, call: Call) -> dict[str, Any]:
    return {
        "message": "Your e-mail address is verified.",
        "email_verified": True,
        "user": shapes.snake(data["verifyEmail"]),
    }


# fmt: off
ACCOUNT_ROUTES: tuple[Route, ...] = (
    Route("POST", "/auth/password-reset", "PasswordReset",
        "mutation PasswordReset($request: Boolean!, $confirm: Boolean!, $email: String!, "
        "$token: String!, $newPassword: String!) { "
        "requestPasswordReset(email: $email) @include(if: $request) "
        "resetPassword(token: $token, newPassword: $newPassword) @include(if: $confirm) }",
        variables=reset_variables, result=reset_result,
        summary="`{email}` mails a single-use reset token (valid an hour); "
        "`{token, new_password}` sets the password and ends every session",
        tag=AUTH_TAG,
        body=obj({"email": STR, "token": STR, "new_password": STR}, required=()),
        response=obj({"message": STR}),
    ),
    Route("GET", "/auth/verify-email", "VerifyEmail",
        f"mutation VerifyEmail($token: String!) {{ verifyEmail(token: $token) "
        f"{{ {shapes.USER} }} }}",
        variables=lambda c: {"token": c.query["token"]}, result=verified,
        summary="Confirm an e-mail address with the token mailed to it (once)", tag=AUTH_TAG,
        query=(q("token", {"type": "string", "minLength": 1, "maxLength": 200}, required=True),),
        response=obj({"message": STR, "email_verified": BOOL, "user": REF["User"]}),
    ),
)
# fmt: on
