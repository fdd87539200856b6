"""Seed 004's user administration: `/users` and `/users/{id}`, for admins (the
GraphQL fields they run require MANAGE_USERS). The last admin can be neither deleted
nor demoted (CONFLICT)."""

from typing import Any

from music.errors import ValidationError
from server.rest import shapes
from server.rest.mapping import (
    Call,
    Route,
    connection_page,
    field_at,
    no_body,
)
from server.rest.shapes import REF, STR, array, list_of, nullable, obj

USERS_TAG = "Users"
ROLE = {"type": "string", "enum": ["guest", "user", "moderator", "admin"]}
USER_FIELDS = f"{{ {shapes.USER} }}"


def _role(value: Any) -> str | None:
    return str(value).upper() if value is not None else None


def create_user_input(call: Call) -> dict[str, Any]:
    """Seed 004's `{email, name, password}`, plus our `username` and `role`."""
    return {
        "input": {
            "email": call.b("email"),
            "username": call.b("username"),
            "name": call.b("name"),
            "password": call.b("password"),
            "role": _role(call.b("role")) or "USER",
        }
    }


def update_user_input(call: Call) -> dict[str, Any]:
    given = {
        "email": call.b("email"),
        "username": call.b("username"),
        "name": call.b("name"),
        "password": call.b("password"),
        "role": _role(call.b("role")),
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        raise ValidationError("Give at least one field to change.", field="body")
    return {"id": call.id, "input": changes}


def user_result(data: Any, call: Call) -> Any:
    """A user as seed 004 shows one: `role` in lower case, `updated_at` always there."""
    user = field_at(*data.keys(), what="user")(data, call)
    return {**user, "role": str(user["role"]).lower()}


COUNT = {"type": "integer", "minimum": 0}
DATE = {"type": "string", "format": "date"}
USAGE = obj(
    {
        "period": obj({"start": DATE, "end": DATE}),
        "total_requests": COUNT,
        "by_day": array(obj({"date": DATE, "requests": COUNT})),
        "by_route": array(obj({"route": STR, "requests": COUNT})),
    }
)


def me(data: Any, call: Call) -> Any:
    if data["me"] is None:
        from music.errors import UnauthenticatedError

        raise UnauthenticatedError("Sign in to do this.")
    return shapes.snake(data["me"])


# PATCH /users/me: one mutation, so that a refused field (a taken name, a wrong current
# password) changes nothing at all.
UPDATE_ME_DOC = (
    "mutation UpdateMe($profile: UpdateProfileInput!) "
    f"{{ updateProfile(input: $profile) {{ {shapes.USER} }} }}"
)


def profile_and_password(call: Call) -> dict[str, Any]:
    """The fields given: username, email, and the password change."""
    return {
        "profile": {
            "username": call.b("username"),
            "email": call.b("email"),
            "currentPassword": call.b("current_password"),
            "newPassword": call.b("new_password"),
        }
    }


# fmt: off
USER_ROUTES: tuple[Route, ...] = (
    Route("GET", "/users/me/usage", "MyUsage",
        "query MyUsage { usage { period { start end } totalRequests "
        "byDay { date requests } byRoute { route requests } } }",
        variables=lambda c: {}, result=lambda d, c: shapes.snake(d["usage"]),
        summary="Your HTTP requests in the current period (the calendar month, UTC), by day "
        "and by route template", tag=USERS_TAG, response=USAGE, permission="signed in",
    ),
    Route("POST", "/users", "CreateUser",
        f"mutation CreateUser($input: CreateUserInput!) {{ createUser(input: $input) "
        f"{USER_FIELDS} }}",
        variables=create_user_input, result=user_result,
        summary="Create a user with any role (admins); `username` defaults to the email's "
        "local part", tag=USERS_TAG, status=201,
        body=obj(
            {"email": STR, "name": STR, "password": STR, "username": STR, "role": ROLE},
            required=("email", "password"),
        ),
        response=REF["User"],
    ),
    Route("GET", "/users/{id}", "GetUser",
        f"query GetUser($id: ID!) {{ user(id: $id) {USER_FIELDS} }}",
        variables=lambda c: {"id": c.id}, result=user_result, summary="One user (admins)",
        tag=USERS_TAG, response=REF["User"],
    ),
    Route("PUT", "/users/{id}", "UpdateUser",
        f"mutation UpdateUser($id: ID!, $input: UpdateUserInput!) {{ updateUser(id: $id, "
        f"input: $input) {USER_FIELDS} }}",
        variables=update_user_input, result=user_result,
        summary="Change a user's email, name, username, password or role (admins); only the "
        "fields given", tag=USERS_TAG,
        body=obj(
            {
                "email": nullable("string"),
                "name": nullable("string"),
                "username": nullable("string"),
                "password": nullable("string"),
                "role": ROLE,
            },
            required=(),
        ),
        response=REF["User"],
    ),
    Route("DELETE", "/users/{id}", "DeleteUser",
        "mutation DeleteUser($id: ID!) { deleteUser(id: $id) }",
        variables=lambda c: {"id": c.id}, result=no_body,
        summary="Delete a user and what they own (admins); not the last admin", tag=USERS_TAG,
        status=204,
    ),
    Route("GET", "/users/me", "Me",
        f"query Me {{ me {{ {shapes.USER} }} }}", variables=lambda c: {}, result=me,
        summary="The signed-in user", tag=USERS_TAG, response=REF["User"], permission="signed in",
    ),
    Route("PATCH", "/users/me", "UpdateMe",
        UPDATE_ME_DOC, variables=profile_and_password,
        result=field_at("updateProfile", what="user"),
        summary="Change your username or email (only those given), and your password when "
        "`current_password` and `new_password` are given (other sessions end)",
        tag=USERS_TAG,
        body=obj(
            {"username": STR, "email": STR, "current_password": STR, "new_password": STR},
            required=(),
        ),
        response=REF["User"],
    ),
    Route("DELETE", "/users/me", "DeleteAccount",
        "mutation DeleteAccount($password: String!) { deleteAccount(password: $password) }",
        variables=lambda c: {"password": c.b("password")}, result=no_body,
        summary="Delete your account, with your collections (your password confirms it)",
        tag=USERS_TAG, status=204, body=obj({"password": STR}),
    ),
    Route("GET", "/users", "ListUsers",
        f"query ListUsers($first: Int, $after: String) {{ users(first: $first, after: $after) "
        "{ totalCount pageInfo { hasNextPage endCursor } "
        f"edges {{ node {{ {shapes.USER} }} }} }} }}",
        variables=lambda c: {}, result=connection_page("users", shapes.snake),
        summary="Every user (admins)",
        tag=USERS_TAG, response=list_of(REF["User"]), page="users",
    ),
)
# fmt: on
