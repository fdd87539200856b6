"""A user's preferences: one JSON string property on the User node."""

PREFERENCES_QUERY = "MATCH (u:User {id: $id}) RETURN u.preferences AS preferences"

SET_PREFERENCES_QUERY = (
    "MATCH (u:User {id: $id}) SET u.preferences = $preferences RETURN u.id AS id"
)
