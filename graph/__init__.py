"""Everything that speaks Cypher: engines, dialects, queries, migrations, repositories."""
