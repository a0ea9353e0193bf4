// Drives voyager serve's dashboard in headless Chromium: submit a message
// and see it finish, requeue a dead letter, save a screenshot.
// Usage: node dashboard.mjs URL SCREENSHOT (tests/serve.rs runs it).
import { chromium } from "playwright-core";

const [url, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector("#count-done");

  // Submit a message through the form; it is picked and shown finished.
  await page.fill("#message", 'seq([call(double, 20), conc([call(double, 1), call(double, 2)])])');
  await page.click("#submit");
  await page.waitForFunction(() => /submitted: item #\d+/.test(document.querySelector("#submit-result").textContent));
  const id = (await page.textContent("#submit-result")).match(/#(\d+)/)[1];
  await page.waitForSelector(`#items tr[data-id="${id}"] [data-state="done"]`, { timeout: 30000 });
  await page.waitForSelector("#detail [data-state=done]", { timeout: 30000 });
  await page.waitForSelector("#tree .node.seq .node.conc .node.call");
  const result = await page.textContent("#result");
  if (result !== "[40,2,4]") throw new Error(`the result shown is ${result}`);

  // A bad expression shows its diagnostic.
  await page.fill("#message", "call(tripple, 1)");
  await page.click("#submit");
  await page.waitForFunction(() => document.querySelector("#submit-result").textContent.includes("E0101"));

  // A failure shows up as a dead letter; its button requeues it.
  await page.fill("#message", 'call(boom, "from the browser")');
  await page.click("#submit");
  await page.waitForSelector("#dead tr button.requeue", { timeout: 30000 });
  const letter = await page.getAttribute("#dead tr", "data-letter");
  await page.click("#dead tr button.requeue");
  await page.waitForFunction((l) => document.querySelector("#submit-result").textContent.includes(`dead letter #${l} requeued`), letter);
  // The requeued message fails again: a new dead letter replaces it.
  await page.waitForFunction((l) => {
    const rows = [...document.querySelectorAll("#dead tr")];
    return rows.length === 1 && rows[0].dataset.letter !== l;
  }, letter, { timeout: 30000 });
  await page.waitForFunction(() => Number(document.querySelector("#count-dead b").textContent) >= 2);

  await page.screenshot({ path: screenshot, fullPage: true });
  if (errors.length) throw new Error("errors on the page: " + errors.join("; "));
  console.log("dashboard: ok");
} finally {
  await browser.close();
}
