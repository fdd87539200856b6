"""What the Subsonic API needs beyond the GraphQL documents: its sign-in lookups."""

SET_SUBSONIC_PASSWORD_QUERY = (
    "MATCH (u:User {id: $id}) SET u.subsonic_password = $secret, u.updated_at = $now "
    "RETURN u.id AS id"
)
SUBSONIC_USER_QUERY = (
    "MATCH (u:User {username_key: $username_key}) "
    "RETURN u.id AS id, u.role AS role, u.subsonic_password AS secret, "
    "u.password_hash AS password_hash"
)
