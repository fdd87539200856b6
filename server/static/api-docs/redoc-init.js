// Starts ReDoc (/api/redoc) from a module file this server serves, so that the page
// needs no inline script and its Content-Security-Policy stays strict. ReDoc 3's bundle
// is an ES module; left to start itself (a <redoc spec-url> element) it would send
// telemetry to otel.cloud.redocly.com, so it is started here with telemetry off. Its
// sidebar logo is served from here too (web/vendor-api-docs.sh rewrites the CDN's URL).
import { init } from "/api/static/redoc/redoc.standalone.js";

init("/api/openapi.json", { disableTelemetry: true }, document.getElementById("redoc"));
