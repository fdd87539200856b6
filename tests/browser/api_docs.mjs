// Loads Swagger UI (/api/docs) and ReDoc (/api/redoc) in Debian's chromium for
// tests/test_api_docs_pages.py: each must render the API under the server's
// Content-Security-Policy: no violation and nothing loaded from elsewhere.
// Environment: BASE_URL. Prints one last line "RESULT <json>"; exits non-zero on a failed step.
import { chromium } from "playwright-core";

const env = process.env;
const base = new URL(env.BASE_URL);
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
  page.setDefaultTimeout(20000);
  page.on("request", (request) => { if (!local(request.url())) offsite.push(request.url()); });
  page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
  page.on("pageerror", (error) => consoleErrors.push(String(error)));

  await page.goto(new URL("/api/docs", base).href);
  await page.locator(".opblock").first().waitFor();
  result.swaggerOperations = await page.locator(".opblock").count();
  result.steps.push("swagger");

  // ReDoc renders the API: its title, and an operation of each tag in the menu. Then
  // it is left a while (telemetry would go out after the first render) and a menu item
  // is clicked (telemetry on interaction), before the off-site requests are read.
  await page.goto(new URL("/api/redoc", base).href);
  await page.locator("h1", { hasText: "Apollonia" }).first().waitFor();
  result.redocTitle = (await page.locator("h1").first().textContent()).trim();
  result.redocOperations = await page.locator("[data-component-name='Menu/MenuItem']").count();
  await page.locator("[data-component-name='Menu/MenuItem']").first().click();
  await page.waitForTimeout(3000);
  result.steps.push("redoc");
} catch (error) {
  result.error = String(error && error.stack || error);
} finally {
  await browser.close();
}
result.offsite = offsite;
result.consoleErrors = consoleErrors;
process.stdout.write("RESULT " + JSON.stringify(result) + "\n");
process.exit(result.error ? 1 : 0);
