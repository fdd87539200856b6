// Drives the GraphiQL explorer at GET /graphql in Debian's chromium for
// tests/test_graphiql_local.py: the page renders from local files, loads the schema,
// runs a query typed into its editor, and starts a subscription over graphql-transport-ws
// at the same path.
// Environment: BASE_URL, QUERY (typed into the editor), EXPECT (a string the response
// shows), SUBSCRIPTION, SCREENSHOT. Prints one last line "RESULT <json>"; exits non-zero on a failed step.
import { chromium } from "playwright-core";

const env = process.env;
const base = new URL(env.BASE_URL);
const offsite = [];
const consoleErrors = [];
const failed = [];
const sockets = [];
const frames = [];
const result = { steps: [] };

function local(url) {
  if (url.startsWith("data:") || url.startsWith("blob:") || url === "about:blank") return true;
  return new URL(url).host === base.host;
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  page.on("request", (request) => { if (!local(request.url())) offsite.push(request.url()); });
  page.on("websocket", (socket) => {
    if (!local(socket.url().replace(/^ws/, "http"))) offsite.push(socket.url());
    sockets.push(socket.url());
    socket.on("framesent", (frame) => frames.push(JSON.parse(frame.payload)));
    socket.on("framereceived", (frame) => frames.push(JSON.parse(frame.payload)));
  });
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
  page.on("response", (response) => { if (response.status() >= 400) failed.push(response.status() + " " + response.url()); });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));

  // Load: GraphiQL renders, and its introspection query gives it the schema.
  const introspected = page.waitForResponse(
    (response) => response.url().startsWith(new URL("/graphql", base).href)
      && response.request().method() === "POST"
      && (response.request().postData() || "").includes("IntrospectionQuery"),
  );
  await page.goto(new URL("/graphql", base).href);
  await page.locator(".graphiql-container").waitFor();
  result.title = await page.title();
  result.introspectionStatus = (await introspected).status();
  result.steps.push("load");

  // Type a query over the default one and run it.
  async function run(document) {
    await page.locator(".graphiql-query-editor .CodeMirror").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Delete");
    await page.keyboard.type(document);
    await page.waitForTimeout(500);  // GraphiQL parses the document 100 ms after an edit
    await page.keyboard.press("Control+Enter");
  }
  await run(env.QUERY);
  await page.waitForFunction(
    (expected) => document.querySelector(".graphiql-response")?.textContent.includes(expected),
    env.EXPECT,
  );
  result.response = await page.locator(".graphiql-response .CodeMirror-code").innerText();
  result.steps.push("query");
  await page.screenshot({ path: env.SCREENSHOT });
  result.steps.push("screenshot");

  // A subscription: a WebSocket to the page's own path, acknowledged and subscribed.
  await run(env.SUBSCRIPTION);
  const deadline = Date.now() + 10000;
  const seen = (type) => frames.some((frame) => frame.type === type);
  while (!(seen("connection_ack") && seen("subscribe")) && Date.now() < deadline) {
    await page.waitForTimeout(100);
  }
  await page.waitForTimeout(500);  // time for an error, were the subscription refused
  result.sockets = sockets;
  result.frameTypes = frames.map((frame) => frame.type);
  result.steps.push("subscription");

} catch (error) {
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
result.offsite = offsite;
result.consoleErrors = consoleErrors;
result.failed = failed;
process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
process.exit(result.error ? 1 : 0);
