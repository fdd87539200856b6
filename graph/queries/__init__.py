"""All Cypher lives here, one module per domain: `*_QUERY` constants and small builders
returning `(query, params)`. Values are always `$params`; property names that are put
into a string come from an allow-list."""
