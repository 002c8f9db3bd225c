// drive.mjs drives the verifier page in headless Chromium for
// node/httpapi's TestWebPage. It reads one JSON command a line on stdin
// and answers each with one JSON line on stdout; the Go test makes the
// assertions. Commands:
//   {op: "launch", executablePath, width, height}
//   {op: "open", url}                      load the page, wait until ready
//   {op: "verify", mode, credential, receipt, rpcUrl, registry, keyboard, screenshot}
//   {op: "eval", fn, arg}                  run an async function in the page
//   {op: "files", files: [{name, text}]}   choose files in the page's file input
//   {op: "viewport", width, height}
//   {op: "screenshot", path}
//   {op: "close"}
// Every answer carries the page's console errors, uncaught exceptions and
// Content-Security-Policy violations since the previous answer.
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const TIMEOUT = 60_000;

let browser;
let page;
let events = [];

function send(msg) {
  process.stdout.write(JSON.stringify({ ...msg, events }) + "\n");
  events = [];
}

async function launch(cmd) {
  browser = await chromium.launch({
    executablePath: cmd.executablePath,
    headless: true,
    // A container often has no user namespaces for Chromium's sandbox.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const context = await browser.newContext({ viewport: { width: cmd.width || 1280, height: cmd.height || 900 } });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error("CSP violation: " + e.violatedDirective + " blocked " + e.blockedURI);
    });
  });
  page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") {
      events.push({ kind: "console-" + m.type(), text: m.text() });
    }
  });
  page.on("pageerror", (err) => events.push({ kind: "pageerror", text: String(err && err.stack ? err.stack : err) }));
  page.on("requestfailed", (r) => events.push({ kind: "requestfailed", text: r.url() + " " + (r.failure() ? r.failure().errorText : "") }));
  return {};
}

async function open(cmd) {
  const resp = await page.goto(cmd.url, { waitUntil: "load" });
  await page.waitForSelector('html[data-ready="true"]', { state: "attached" });
  return { status: resp ? resp.status() : 0, headers: resp ? await resp.allHeaders() : {} };
}

// readResult is what the Go test asserts on: the DOM, not pixels.
function readResult() {
  const result = document.getElementById("result");
  const verdict = document.getElementById("verdict");
  const field = (sel) => {
    const e = document.querySelector(sel);
    return e ? e.textContent.trim() : "";
  };
  const facts = {};
  for (const e of document.querySelectorAll("#result-body [data-fact]")) {
    if (!(e.dataset.fact in facts)) {
      facts[e.dataset.fact] = e.querySelector("dd").textContent.trim();
    }
  }
  return {
    state: result.dataset.state,
    verdict: result.dataset.verdict || "",
    verdictText: verdict ? verdict.textContent.trim() : "",
    checks: [...document.querySelectorAll("#result-body li[data-check]")].map((li) => ({
      scope: li.closest("[data-scope]").dataset.scope,
      check: li.dataset.check,
      ok: li.dataset.ok === "true",
      detail: li.querySelector(".detail").textContent,
      shown: li.textContent.replace(/\s+/g, " ").trim(),
    })),
    statuses: [...document.querySelectorAll("#result-body li[data-purpose]")].map((li) => ({
      purpose: li.dataset.purpose,
      status: li.dataset.status,
      text: li.textContent.replace(/\s+/g, " ").trim(),
    })),
    credentials: [...document.querySelectorAll("#result-body [data-credential]")].map((s) => s.dataset.verdict),
    achievement: field('[data-field="achievement-name"]'),
    description: field('[data-field="achievement-description"]'),
    facts,
    focused: document.activeElement ? document.activeElement.id : "",
  };
}

async function verify(cmd) {
  const before = Number(await page.getAttribute("#result", "data-run"));
  await page.check(cmd.mode === "rpc" ? "#mode-rpc" : "#mode-node");
  await page.fill("#credential", cmd.credential || "");
  await page.fill("#receipt", cmd.receipt || "");
  if (cmd.mode === "rpc") {
    await page.fill("#rpc-url", cmd.rpcUrl || "");
    await page.fill("#registry", cmd.registry || "");
  }
  if (cmd.keyboard) {
    // Submit as a keyboard user would: from the receipt box, Tab to the
    // Verify button (past the fieldsets hidden in this mode) and press Enter.
    await page.focus("#receipt");
    for (let i = 0; i < 10; i++) {
      await page.keyboard.press("Tab");
      if (await page.evaluate(() => document.activeElement && document.activeElement.id === "verify")) {
        break;
      }
    }
    const focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (focused !== "verify") {
      throw new Error("Tab did not reach the Verify button (focus on " + focused + ")");
    }
    await page.keyboard.press("Enter");
  } else {
    await page.click("#verify");
  }
  await page.waitForSelector(`#result[data-state="done"][data-run="${before + 1}"]`, { state: "attached" });
  const dom = await page.evaluate(readResult);
  if (cmd.screenshot) {
    await page.screenshot({ path: cmd.screenshot, fullPage: true });
  }
  return { dom };
}

async function evaluate(cmd) {
  // An expression string runs through the DevTools protocol, which the
  // page's CSP (no eval) does not restrict.
  const value = await page.evaluate("(" + cmd.fn + ")(" + JSON.stringify(cmd.arg === undefined ? null : cmd.arg) + ")");
  return { value };
}

const ops = {
  launch,
  open,
  verify,
  eval: evaluate,
  files: async (cmd) => {
    await page.setInputFiles(
      "#files",
      cmd.files.map((f) => ({ name: f.name, mimeType: "application/json", buffer: Buffer.from(f.text) })),
    );
    // The page reads the files asynchronously: wait until every text is in.
    await page.waitForFunction(
      (n) => ["credential", "receipt"].filter((id) => document.getElementById(id).value !== "").length === n,
      cmd.files.length,
    );
    return {};
  },
  viewport: async (cmd) => {
    await page.setViewportSize({ width: cmd.width, height: cmd.height });
    return {};
  },
  screenshot: async (cmd) => {
    await page.screenshot({ path: cmd.path, fullPage: true });
    return {};
  },
  close: async () => {
    if (browser) {
      await browser.close();
    }
    return {};
  },
};

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) {
    continue;
  }
  let cmd;
  try {
    cmd = JSON.parse(line);
    const op = ops[cmd.op];
    if (!op) {
      throw new Error("unknown op " + cmd.op);
    }
    send({ ok: true, ...(await op(cmd)) });
  } catch (err) {
    send({ ok: false, error: String(err && err.stack ? err.stack : err) });
  }
  if (cmd && cmd.op === "close") {
    break;
  }
}
if (browser) {
  await browser.close().catch(() => {});
}
