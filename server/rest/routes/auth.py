"""Sign-up, sign-in, refresh and sign-out (seeds 000, 003 and 004), and seed 003's account
flows: `POST /auth/password-reset` (ask for a token with `{email}`, then set the
password with `{token, new_password}`) and `GET /auth/verify-email?token=…` (the link
mailed at sign-up)."""

from typing import Any

from music.errors import ValidationError
from server.rest import shapes
from server.rest.mapping import (
    Call,
    Route,
    no_body,
    param,
)
from server.rest.shapes import BOOL, INT, REF, STR, obj

AUTH_TAG = "Auth"


def auth_tokens(data: Any, call: Call) -> Any:
    payload = next(iter(data.values()))
    return {**shapes.snake(payload), "token_type": "bearer"}


def registered(data: Any, call: Call) -> Any:
    """Seed 000's register answers the user; the tokens of the new session come beside
    its fields, so a client need not sign in again."""
    tokens = auth_tokens(data, call)
    return {**tokens.pop("user"), **tokens}


REGISTERED = {
    "allOf": [
        REF["User"],
        obj(
            {"access_token": STR, "refresh_token": STR, "token_type": STR, "expires_in": INT},
        ),
    ]
}


def refresh_token_variables(call: Call) -> dict[str, Any]:
    """The refresh token from the body (seed 000's `refresh_token`) or, as seeds 000 and
    004 also send it, from `Authorization: Bearer`."""
    token = call.b("refresh_token") or call.bearer
    if not token:
        raise ValidationError("'refresh_token' is required.", field="refresh_token")
    return {"token": token}


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
AUTH_ROUTES: tuple[Route, ...] = (
    Route("POST", "/auth/register", "Register",
        "mutation Register($input: RegisterInput!) "
        f"{{ register(input: $input) {{ {shapes.AUTH} }} }}",
        variables=lambda c: {
            "input": {
                "email": c.b("email"),
                "username": c.b("username"),
                "password": c.b("password"),
            }
        },
        result=registered,
        summary="Create an account: the user (seed 000's UserResponse), with the session's "
        "tokens beside it", tag=AUTH_TAG, status=201,
        body=obj({"email": STR, "username": STR, "password": STR}), response=REGISTERED,
    ),
    Route("POST", "/auth/login", "Login",
        f"mutation Login($input: LoginInput!) {{ login(input: $input) {{ {shapes.AUTH} }} }}",
        variables=lambda c: {
            "input": {
                "login": c.b("login") or c.b("username") or c.b("email"),
                "password": c.b("password"),
            }
        },
        result=auth_tokens, summary="Sign in with a username or email", tag=AUTH_TAG,
        body=obj(
            {"username": STR, "email": STR, "login": STR, "password": STR}, required=("password",)
        ),
        response=REF["AuthTokens"],
    ),
    Route("POST", "/auth/refresh", "Refresh",
        f"mutation Refresh($token: String!) {{ refreshToken(token: $token) {{ {shapes.AUTH} }} }}",
        variables=refresh_token_variables, result=auth_tokens,
        summary="Exchange a refresh token (in the body, or as `Authorization: Bearer`)",
        tag=AUTH_TAG, body=obj({"refresh_token": STR}, required=()),
        response=REF["AuthTokens"],
    ),
    Route("POST", "/auth/logout", "Logout",
        "mutation Logout($token: String) { logout(refreshToken: $token) }",
        variables=lambda c: {"token": c.b("refresh_token")}, result=no_body, summary="Sign out",
        tag=AUTH_TAG, status=204, body=obj({"refresh_token": STR}, required=()),
    ),
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
        query=(
            param("token", {"type": "string", "minLength": 1, "maxLength": 200}, required=True),
        ),
        response=obj({"message": STR, "email_verified": BOOL, "user": REF["User"]}),
    ),
)
# fmt: on
