// Drives /explore in Debian's chromium for tests/test_explore_page.py.
// Environment: BASE_URL, LOGIN, PASSWORD, QUERY, PICK (a result's title), SCREENSHOT.
// Prints "AWAIT_UPDATE <trackId>" when it waits for a similarity event on that track,
// and one last line "RESULT <json>". Exits non-zero on any failed step.
import { chromium } from "playwright-core";

const env = process.env;
const base = new URL(env.BASE_URL);
const log = (line) => process.stdout.write(line + "\n");
const offsite = [];
const consoleErrors = [];
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
  page.on("websocket", (socket) => { if (!local(socket.url().replace(/^ws/, "http"))) offsite.push(socket.url()); });
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  const state = (expression, arg) => page.evaluate(expression, arg);
  const until = (expression, arg) => page.waitForFunction(expression, arg);

  // Load: the page asks for a login before anything else.
  await page.goto(new URL("/explore", base).href);
  await page.locator("#login-form").waitFor();
  result.explorerHiddenBeforeLogin = await page.locator("#explorer").isHidden();
  result.steps.push("load");

  // Log in.
  await page.fill("#login-name", env.LOGIN);
  await page.fill("#login-password", env.PASSWORD);
  await page.click("#login-form button[type=submit]");
  await until(() => window.explore.signedIn && window.explore.ready);
  result.steps.push("login");

  // Search, then open a result: its neighbourhood is drawn.
  await page.fill("#search", env.QUERY);
  await page.press("#search", "Enter");
  const hit = page.locator("#results button.result", { hasText: env.PICK }).first();
  await hit.waitFor();
  result.resultTitles = await page.locator("#results button.result").allTextContents();
  const first = await hit.getAttribute("data-id");
  await hit.click();
  await until((id) => window.explore.centre === id && window.explore.nodeCount > 0, first);
  result.first = { centre: first, nodes: await state(() => window.explore.nodeCount),
                   edges: await state(() => window.explore.edgeCount) };
  result.colours = await state(() => window.explore.cy.nodes().map((n) => n.style("background-color")));
  result.sizes = await state(() => window.explore.cy.nodes().map((n) => n.data("size")));
  result.steps.push("search");

  // Click a node of the graph (a real mouse click on the canvas): it becomes the centre.
  async function clickNode(id) {
    const box = await page.locator("#graph").boundingBox();
    const at = await state((nodeId) => window.explore.cy.getElementById(nodeId).renderedPosition(), id);
    await page.mouse.click(box.x + at.x, box.y + at.y);
  }
  const target = await state(() => {
    const s = window.explore;
    return s.cy.nodes().filter((n) => n.id() !== s.centre && n.data("distance") === 2)[0].id();
  });
  await clickNode(target);
  await until((id) => window.explore.centre === id && window.explore.subscribedTo === id, target);
  result.second = { centre: target, nodes: await state(() => window.explore.nodeCount) };
  result.steps.push("click");

  // Live: the test adds a neighbour to the centre and publishes similarityUpdated.
  log("AWAIT_UPDATE " + target);
  await until((n) => window.explore.updates > 0 && window.explore.nodeCount === n,
              result.second.nodes + 1, { timeout: 20000 });
  result.live = { updates: await state(() => window.explore.updates),
                  nodes: await state(() => window.explore.nodeCount) };
  result.steps.push("live");

  // Pick two tracks: their sonic path is shown.
  await page.check("#path-mode");
  const [from, to] = await state(() => {
    const s = window.explore;
    const far = s.cy.nodes().filter((n) => n.data("distance") === 2).map((n) => n.id());
    return [s.centre, far[far.length - 1]];
  });
  await clickNode(from);
  await clickNode(to);
  await until(() => window.explore.path.length >= 2);
  result.path = { from, to, tracks: await state(() => window.explore.path),
                  listed: await page.locator("#path li").count() };
  result.steps.push("path");

  await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
  result.steps.push("screenshot");
} catch (error) {
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
result.offsite = offsite;
result.consoleErrors = consoleErrors;
log("RESULT " + JSON.stringify(result));
process.exit(result.error ? 1 : 0);
