"""Users, API keys, refresh-token families and revoked access tokens."""

USER_MAP = "{.id, .email, .username, .name, .role, .created_at, .updated_at, .email_verified_at}"

CREATE_USER_QUERY = (
    "CREATE (u:User {id: $id, email: $email, username: $username, username_key: $username_key,"
    " name: $name, password_hash: $password_hash, role: $role, created_at: $now,"
    " updated_at: $now}) "
    f"RETURN u {USER_MAP} AS row"
)
USERS_BY_ID_QUERY = f"UNWIND $ids AS id MATCH (u:User {{id: id}}) RETURN u {USER_MAP} AS row"
USER_BY_EMAIL_QUERY = (
    f"MATCH (u:User {{email: $email}}) RETURN u {USER_MAP} AS row, u.password_hash AS password_hash"
)
USER_BY_USERNAME_QUERY = (
    "MATCH (u:User {username_key: $username_key}) "
    f"RETURN u {USER_MAP} AS row, u.password_hash AS password_hash"
)
PASSWORD_HASH_QUERY = "MATCH (u:User {id: $id}) RETURN u.password_hash AS password_hash"
SET_PASSWORD_QUERY = (
    "MATCH (u:User {id: $id}) SET u.password_hash = $password_hash, u.updated_at = $now "
    "RETURN u.id AS id"
)
# A null parameter keeps the property; the unique constraints on `email` and
# `username_key` refuse a value another user has, and the whole SET with it.
UPDATE_PROFILE_QUERY = (
    "MATCH (u:User {id: $id}) "
    "SET u.email = coalesce($email, u.email), u.username = coalesce($username, u.username), "
    "u.username_key = coalesce($username_key, u.username_key), "
    "u.password_hash = coalesce($password_hash, u.password_hash), u.updated_at = $now "
    f"RETURN u {USER_MAP} AS row"
)
# An admin's edit of another account: each property only when given. Taking the admin
# role from the last admin returns no row (and changes nothing); the write to the other
# admins serialises two such edits on Neo4j, as in DELETE_USER_QUERY.
ADMIN_UPDATE_USER_QUERY = (
    "MATCH (u:User {id: $id}) "
    "OPTIONAL MATCH (other:User {role: $admin}) WHERE u.role = $admin AND other.id <> u.id "
    "WITH u, collect(other) AS admins "
    "FOREACH (a IN admins | SET a.role = a.role) "
    "WITH u, admins WHERE $role IS NULL OR $role = $admin OR u.role <> $admin "
    "OR size(admins) > 0 "
    "SET u.email = coalesce($email, u.email), u.username = coalesce($username, u.username), "
    "u.username_key = coalesce($username_key, u.username_key), "
    "u.name = coalesce($name, u.name), u.role = coalesce($role, u.role), "
    "u.password_hash = coalesce($password_hash, u.password_hash), u.updated_at = $now "
    f"RETURN u {USER_MAP} AS row"
)
USERS_PAGE_QUERY = (
    "MATCH (u:User) WHERE $after_id IS NULL OR u.id > $after_id "
    f"WITH u ORDER BY u.id LIMIT $limit RETURN u {USER_MAP} AS row, u.id AS sort_key"
)
USERS_COUNT_QUERY = "MATCH (u:User) RETURN count(u) AS total"

# A refresh-token family: every rotation replaces `current_jti`; presenting any
# other (older) jti of the family is reuse, which revokes the family.
CREATE_FAMILY_QUERY = (
    "MATCH (u:User {id: $user_id}) "
    "CREATE (u)-[:HAS_SESSION]->(f:TokenFamily {id: $id, user_id: $user_id, current_jti: $jti,"
    " revoked: false, created_at: $now, expires_at: $expires_at}) RETURN f.id AS id"
)
# The SET before the check takes the family's write lock first, so that concurrent
# rotations of one token serialise and only the first sees its jti as current. The
# others present the family's previous jti within $raced_after (epoch ms) of that
# rotation: they lost a race (a client refreshing from several tabs at once) and are
# refused without revoking, so that the winner's new token stays valid. Any other
# token that is not current is a replay, and revokes the family.
ROTATE_FAMILY_QUERY = (
    "MATCH (f:TokenFamily {id: $id}) "
    "SET f.rotations = coalesce(f.rotations, 0) + 1 "
    "WITH f, f.current_jti = $jti AND NOT f.revoked AND f.expires_at > $now AS current, "
    "coalesce(f.previous_jti = $jti AND NOT f.revoked "
    "AND f.rotated_at >= $raced_after, false) AS raced "
    "SET f.previous_jti = CASE WHEN current THEN f.current_jti ELSE f.previous_jti END, "
    "f.rotated_at = CASE WHEN current THEN $now ELSE f.rotated_at END, "
    "f.current_jti = CASE WHEN current THEN $new_jti ELSE f.current_jti END, "
    "f.revoked = CASE WHEN current OR raced THEN f.revoked ELSE true END, "
    "f.expires_at = CASE WHEN current THEN $expires_at ELSE f.expires_at END "
    "RETURN current, raced, f.user_id AS user_id"
)
REVOKE_FAMILY_QUERY = (
    "MATCH (f:TokenFamily {id: $id, user_id: $user_id}) SET f.revoked = true RETURN f.id AS id"
)
REVOKE_USER_FAMILIES_QUERY = (
    "MATCH (f:TokenFamily {user_id: $user_id}) WHERE NOT f.revoked AND f.id <> $keep "
    "SET f.revoked = true RETURN count(f) AS revoked, collect(f.id) AS ids"
)

REVOKE_JTI_QUERY = (
    "MERGE (r:RevokedToken {jti: $jti}) ON CREATE SET r.expires_at = $expires_at "
    "RETURN r.jti AS jti"
)
# Several entries at once (the families of a password change); an entry's expiry only
# moves later.
REVOKE_JTIS_QUERY = (
    "UNWIND $rows AS row MERGE (r:RevokedToken {jti: row.jti}) "
    "SET r.expires_at = CASE WHEN coalesce(r.expires_at, 0) > row.expires_at "
    "THEN r.expires_at ELSE row.expires_at END "
    "RETURN count(r) AS revoked"
)
REVOKED_JTIS_QUERY = (
    "MATCH (r:RevokedToken) WHERE r.expires_at > $now "
    "RETURN r.jti AS jti, r.expires_at AS expires_at"
)

KEY_MAP = "{.id, .name, .prefix, .created_at, .last_used_at, .revoked_at}"
CREATE_API_KEY_QUERY = (
    "MATCH (u:User {id: $user_id}) "
    "CREATE (u)-[:HAS_KEY]->(k:ApiKey {id: $id, name: $name, prefix: $prefix,"
    " secret_hash: $secret_hash, user_id: $user_id, created_at: $now}) "
    f"RETURN k {KEY_MAP} AS row"
)
API_KEY_QUERY = (
    "MATCH (k:ApiKey {id: $id})<-[:HAS_KEY]-(u:User) WHERE k.revoked_at IS NULL "
    "RETURN k.secret_hash AS secret_hash, u.id AS user_id, u.role AS role"
)
API_KEYS_OF_USER_QUERY = (
    f"MATCH (:User {{id: $user_id}})-[:HAS_KEY]->(k:ApiKey) RETURN k {KEY_MAP} AS row "
    "ORDER BY k.created_at DESC"
)
REVOKE_API_KEY_QUERY = (
    "MATCH (:User {id: $user_id})-[:HAS_KEY]->(k:ApiKey {id: $id}) "
    f"SET k.revoked_at = coalesce(k.revoked_at, $now) RETURN k {KEY_MAP} AS row"
)
REVOKED_JTI_QUERY = (
    "UNWIND $jtis AS jti MATCH (r:RevokedToken {jti: jti}) RETURN r.jti AS jti LIMIT 1"
)

# An account goes in one transaction: its collections, sessions, API keys and mailed
# tokens, then the user with its PLAYED and QUEUED edges and its preferences (a
# property). `$entry`, a RevokedToken, refuses the user's access tokens until the last
# of them would expire. The last admin stays: no row comes back. Deleting an admin
# first writes to the other admins, so that on Neo4j two admins deleting themselves at
# once serialise (one waits, deadlocks and is retried) instead of both seeing the other
# still there.
DELETE_USER_QUERY = (
    "MATCH (u:User {id: $id}) "
    "OPTIONAL MATCH (other:User {role: $admin}) WHERE u.role = $admin AND other.id <> u.id "
    "WITH u, collect(other) AS admins "
    "FOREACH (a IN admins | SET a.role = a.role) "
    "WITH u, admins WHERE u.role <> $admin OR size(admins) > 0 "
    "OPTIONAL MATCH (u)-[:OWNS]->(c:Collection) "
    "WITH u, collect(c) AS collections "
    "OPTIONAL MATCH (u)-[:HAS_SESSION]->(f:TokenFamily) "
    "WITH u, collections, collect(f) AS families "
    "OPTIONAL MATCH (u)-[:HAS_KEY]->(k:ApiKey) "
    "WITH u, collections, families, collect(k) AS keys "
    "OPTIONAL MATCH (u)-[:HAS_ACCOUNT_TOKEN]->(m:AccountToken) "
    "WITH u, collections, families, keys, collect(m) AS mailed "
    "WITH u, collections + families + keys + mailed AS owned, "
    "[c IN collections | c.id] AS collection_ids, [k IN keys | k.id] AS key_ids "
    "FOREACH (x IN owned | DETACH DELETE x) "
    "MERGE (r:RevokedToken {jti: $entry}) SET r.expires_at = $expires_at "
    "WITH u, collection_ids, key_ids, u.id AS id DETACH DELETE u "
    "RETURN id, collection_ids, key_ids"
)
USER_ROLE_QUERY = "MATCH (u:User {id: $id}) RETURN u.role AS role"

# Single-use, expiring tokens mailed for a password reset or an e-mail verification. Only
# the token's SHA-256 is stored. Consuming counts the uses first, which takes the node's
# write lock, so that of two requests racing with one token only the first sees use 1.
CREATE_ACCOUNT_TOKEN_QUERY = (
    "MATCH (u:User {id: $user_id}) "
    "CREATE (u)-[:HAS_ACCOUNT_TOKEN]->(t:AccountToken {hash: $hash, purpose: $purpose,"
    " user_id: $user_id, email: u.email, uses: 0, created_at: $now, expires_at: $expires_at}) "
    "RETURN t.hash AS hash"
)
CONSUME_ACCOUNT_TOKEN_QUERY = (
    "MATCH (t:AccountToken {hash: $hash}) "
    "SET t.uses = t.uses + 1 "
    "WITH t WHERE t.uses = 1 AND t.purpose = $purpose AND t.expires_at > $now "
    "MATCH (u:User {id: t.user_id}) WHERE u.email = t.email "
    "RETURN u.id AS user_id"
)
SET_EMAIL_VERIFIED_QUERY = (
    "MATCH (u:User {id: $id}) SET u.email_verified_at = coalesce(u.email_verified_at, $now) "
    f"RETURN u {USER_MAP} AS row"
)
