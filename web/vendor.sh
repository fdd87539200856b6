#!/usr/bin/env bash
# Refresh the front-end libraries that /explore ships as static assets (no CDN at run
# time): install the versions pinned in web/package-lock.json, then copy each library's
# minified build and licence into server/static/vendor/. Commit what it copies;
# web/node_modules/ itself is never shipped. To upgrade, change the version in
# web/package.json, run `npm install` in web/, then this script.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
out=../server/static/vendor/cytoscape
mkdir -p "$out"
cp node_modules/cytoscape/dist/cytoscape.min.js "$out/"
cp node_modules/cytoscape/LICENSE "$out/LICENSE"
node -p "require('./node_modules/cytoscape/package.json').version" > "$out/VERSION"
echo "cytoscape $(cat "$out/VERSION") -> $out"
