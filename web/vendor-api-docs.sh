#!/usr/bin/env bash
# Refresh the API documentation assets served at /api/docs (Swagger UI) and /api/redoc
# (ReDoc) from their npm packages, so that no page loads anything from a CDN.
# Usage: bash web/vendor-api-docs.sh [SWAGGER_UI_VERSION] [REDOC_VERSION]
set -euo pipefail
swagger_version="${1:-5.35.0}"
redoc_version="${2:-3.0.1}"
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/server/static/vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "swagger-ui-dist@$swagger_version" "redoc@$redoc_version" >/dev/null
mkdir swagger redoc
tar -xzf swagger-ui-dist-*.tgz -C swagger
tar -xzf redoc-*.tgz -C redoc
mkdir -p "$dest/swagger-ui" "$dest/redoc"
cp swagger/package/swagger-ui-bundle.js swagger/package/swagger-ui.css \
   swagger/package/LICENSE "$dest/swagger-ui/"
cp redoc/package/bundles/redoc.standalone.js redoc/package/LICENSE "$dest/redoc/"
# ReDoc's sidebar logo comes from cdn.redoc.ly: serve ours instead (server/static/api-docs/),
# so that /api/redoc asks nothing of another host.
sed -i -e 's#https://cdn.redoc.ly/redoc/logo-mini-full.svg#/api/static/docs/redoc-logo-mini-full.svg#g' \
       -e 's#https://cdn.redoc.ly/redoc/logo-mini.svg#/api/static/docs/redoc-logo-mini.svg#g' \
       "$dest/redoc/redoc.standalone.js"
if grep -q 'cdn.redoc.ly' "$dest/redoc/redoc.standalone.js"; then
  echo "redoc.standalone.js still names cdn.redoc.ly: update the rewrite above" >&2
  exit 1
fi
echo "swagger-ui-dist $swagger_version" > "$dest/swagger-ui/VERSION"
echo "redoc $redoc_version" > "$dest/redoc/VERSION"
ls -l "$dest/swagger-ui" "$dest/redoc"
