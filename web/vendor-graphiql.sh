#!/usr/bin/env bash
# Refresh the GraphiQL explorer served at GET /graphql (server/explorer.py) with no CDN at
# run time: install the versions pinned in web/package-lock.json, then copy the browser
# (UMD) builds of React 18, ReactDOM, GraphiQL and its explorer plugin, with their
# licences, into server/static/vendor/graphiql/. GraphiQL 4 is the last major version
# that ships a UMD build (5 is ES modules only, loaded from esm.sh by Ariadne's page);
# React 19 ships none, hence React 18. Commit what it copies. To upgrade, change the
# versions in web/package.json, run `npm install` in web/, then this script.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../server/static/vendor/graphiql
nm=node_modules
mkdir -p "$out"
# The builds name source maps that are not shipped; drop the reference so that no
# request for one ever 404s.
strip_map() { sed '/^\/\/# sourceMappingURL=/d' "$1" > "$2"; }
cp "$nm/react/umd/react.production.min.js" "$out/"
cp "$nm/react-dom/umd/react-dom.production.min.js" "$out/"
strip_map "$nm/graphiql/graphiql.min.js" "$out/graphiql.min.js"
cp "$nm/graphiql/graphiql.min.css" "$out/"
strip_map "$nm/@graphiql/plugin-explorer/dist/index.umd.js" "$out/plugin-explorer.umd.js"
cp "$nm/@graphiql/plugin-explorer/dist/style.css" "$out/plugin-explorer.css"
# @graphiql/plugin-explorer ships no LICENSE of its own: it is MIT, from the same
# graphql/graphiql repository as graphiql, whose LICENSE covers both. Its build bundles
# graphiql-explorer, which has its own.
explorer="$nm/@graphiql/plugin-explorer/node_modules/graphiql-explorer"
[ -d "$explorer" ] || explorer="$nm/graphiql-explorer"
cp "$nm/graphiql/LICENSE" "$out/LICENSE"
cp "$nm/react/LICENSE" "$out/LICENSE.react"
cp "$nm/react-dom/LICENSE" "$out/LICENSE.react-dom"
cp "$explorer/LICENSE" "$out/LICENSE.graphiql-explorer"
version() { node -p "require('./$1/package.json').version"; }
{
  echo "graphiql $(version "$nm/graphiql")"
  echo "@graphiql/plugin-explorer $(version "$nm/@graphiql/plugin-explorer")"
  echo "graphiql-explorer $(version "$explorer")"
  echo "react $(version "$nm/react")"
  echo "react-dom $(version "$nm/react-dom")"
} > "$out/VERSION"
cat "$out/VERSION"
ls -l "$out"
