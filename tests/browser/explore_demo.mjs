// Drives /explore in Debian's chromium for tests/test_explore_demo.py, without signing
// in: search QUERY, open the first hit, wait (until DEADLINE_MS, epoch ms) for its
// neighbourhood to
// have edges (the page redraws on similarityUpdated), then for the <audio> element
// to reach `canplay` on that track. Prints one line "RESULT <json>".
import { chromium } from "playwright-core";

const env = process.env;
const base = new URL(env.BASE_URL);
const result = { steps: [], consoleErrors: [] };
const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--autoplay-policy=no-user-gesture-required", "--disable-background-networking"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(15000);
  page.on("pageerror", (error) => result.consoleErrors.push(String(error)));
  const state = (expression, arg) => page.evaluate(expression, arg);

  await page.goto(new URL("/explore", base).href);
  await page.waitForFunction(() => window.explore.anonymous && window.explore.ready);
  result.loginHidden = await page.locator("#login").isHidden();
  result.steps.push("anonymous");

  let centre = null;
  while (Date.now() < Number(env.DEADLINE_MS)) {
    await page.fill("#search", env.QUERY);
    await page.press("#search", "Enter");
    const hit = page.locator("#results button.result").first();
    await hit.waitFor();
    centre = await hit.getAttribute("data-id");
    await hit.click();
    await page.waitForFunction((id) => window.explore.centre === id, centre);
    const edges = await state(() => window.explore.edgeCount);
    if (edges > 0) break;
    await page.waitForTimeout(3000);
  }
  result.centre = centre;
  result.nodes = await state(() => window.explore.nodeCount);
  result.edges = await state(() => window.explore.edgeCount);
  result.graphAt = Date.now();
  result.steps.push("graph");

  await page.waitForFunction((id) => window.explore.canplay === id, centre, { timeout: 20000 });
  result.playing = await state(() => window.explore.playing);
  result.steps.push("canplay");

  // A sonic path from the centre to the farthest track shown plays in order: its first
  // track, then the next one when that one ends.
  async function clickNode(id) {
    const box = await page.locator("#graph").boundingBox();
    const at = await state((nodeId) => window.explore.cy.getElementById(nodeId).renderedPosition(), id);
    await page.mouse.click(box.x + at.x, box.y + at.y);
  }
  await page.check("#path-mode");
  const [from, to] = await state(() => {
    const s = window.explore;
    const others = s.cy.nodes().filter((n) => n.id() !== s.centre)
      .sort((a, b) => b.data("distance") - a.data("distance"));
    return [s.centre, others[0].id()];
  });
  await clickNode(from);
  await clickNode(to);
  await page.waitForFunction(() => window.explore.path.length >= 2, null, { timeout: 20000 });
  result.path = await state(() => window.explore.path);
  await page.waitForFunction((id) => window.explore.canplay === id, result.path[0], { timeout: 20000 });
  // A live neighbourhood update (the worker may still be linking tracks) redraws the
  // graph but keeps the path and its queue.
  await state(() => window.explore.refresh());
  result.pathAfterRefresh = await state(() => window.explore.path);
  if (JSON.stringify(result.pathAfterRefresh) !== JSON.stringify(result.path)) {
    throw new Error("a live update dropped the sonic path");
  }
  await state(() => document.getElementById("player").dispatchEvent(new Event("ended")));
  await page.waitForFunction((id) => window.explore.canplay === id, result.path[1], { timeout: 20000 });
  result.steps.push("path");
  if (env.SCREENSHOT) await page.screenshot({ path: env.SCREENSHOT, fullPage: true });
} catch (error) {
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
process.exit(result.error ? 1 : 0);
