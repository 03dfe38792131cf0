// Launcher (a): runs test/vscode/suite inside a real VS Code that this machine
// can install from the npm registry — code-server 4.100.3 (VS Code 1.100.3) —
// with its workbench in headless Debian chromium driven by playwright-core.
// The tests start through the workbench's payload URL (extensionDevelopmentPath
// + extensionTestsPath), the mechanism VS Code's own browser tests use. While
// they run, a small HTTP "UI bridge" on 127.0.0.1 lets them take screenshots
// and read the workbench DOM (see suite/ui-bridge.ts).
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { format } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";
import { outputDir, prepareWorkspace, repoRoot, testsEntry } from "./workspace";
import { copySharedCache, homeWithDefaultBox } from "../../system/fixtures/default-box-home";
import { adoptWarmMachineIfReady } from "../../system/fixtures/engine-under-test";

const CODE_SERVER = path.join(repoRoot, ".vscode-test", "code-server", "node_modules", ".bin", "code-server");
const CHROMIUM = process.env.HANGAR_CHROMIUM ?? "/usr/bin/chromium";
const TEST_TIMEOUT_MS = Number(process.env.HANGAR_VSCODE_TEST_TIMEOUT_MS ?? 10 * 60_000);

// Workbench chatter that says nothing about Hangar; HANGAR_VSCODE_VERBOSE=1 shows it.
const NOISE = /^(Ignoring fetching additional builtin|Updating additional builtin|Creating a socket|\[Service Worker\]|ChatSessionStore|Resolv(ing|ed) connection token)/;

function log(message: string): void {
  console.log(`[code-server launcher] ${message}`);
}

/** Serves the tests' requests for what only the page can see. */
function startUiBridge(page: () => Page | undefined): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", async () => {
      const reply = (status: number, value: unknown): void => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(value));
      };
      try {
        const p = page();
        if (!p) return reply(503, "the workbench page is not open");
        const args = JSON.parse(body || "{}") as { selector?: string; name?: string };
        switch (req.url) {
          case "/query":
            return reply(200, await p.$$eval(args.selector ?? "body", (els) => els.map((e) => (e.textContent ?? "").trim())));
          case "/classes":
            return reply(200, await p.$$eval(args.selector ?? "body", (els) => els.map((e) => e.className)));
          case "/screenshot": {
            if (!args.name || !/^[\w.-]+$/.test(args.name)) return reply(400, "screenshot needs a plain file name");
            const file = path.join(outputDir, `${args.name}.png`);
            if (args.selector) await p.locator(args.selector).first().screenshot({ path: file });
            else await p.screenshot({ path: file });
            return reply(200, { path: file });
          }
          case "/click":
            await p
              .locator(args.selector ?? "body")
              .first()
              .click({ timeout: 10_000 });
            return reply(200, {});
          default:
            return reply(404, `unknown action ${req.url}`);
        }
      } catch (err) {
        reply(500, String(err));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

function waitForPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) resolve(Number(m[1]));
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`code-server exited (${code}) before listening:\n${seen}`)));
    setTimeout(() => reject(new Error(`code-server did not start listening within 60 s:\n${seen}`)), 60_000).unref();
  });
}

/**
 * One code-server and one workbench page in `browser`, running the suite in
 * its extension host. `untrusted`: workspace trust is on (no
 * --disable-workspace-trust, no startup prompt) and the folder untrusted —
 * a fresh browser context trusts nothing — and only *.untrusted.test.js run.
 */
async function runSuite(browser: Browser, setPage: (p: Page | undefined) => void, o: { tmp: string; workspace: string; env: NodeJS.ProcessEnv; untrusted?: boolean }): Promise<number> {
  const xdg = (name: string): string => path.join(o.tmp, name);
  // The Docker views start no engine in the homes the machine and box suites use (a cold boot each, beside
  // the system tests): the engine suites turn that on where they want it (useEngineHome).
  const settings: Record<string, unknown> = { "hangar.engine.startWithViews": false };
  if (o.untrusted) Object.assign(settings, { "security.workspace.trust.enabled": true, "security.workspace.trust.startupPrompt": "never" });
  mkdirSync(xdg("user-data/User"), { recursive: true });
  writeFileSync(xdg("user-data/User/settings.json"), JSON.stringify(settings));
  const server = spawn(
    CODE_SERVER,
    [
      "--bind-addr",
      "127.0.0.1:0",
      "--auth",
      "none",
      "--user-data-dir",
      xdg("user-data"),
      "--extensions-dir",
      xdg("extensions"),
      "--disable-telemetry",
      "--disable-update-check",
      ...(o.untrusted ? [] : ["--disable-workspace-trust"]),
      "--disable-getting-started-override",
      "--ignore-last-opened",
    ],
    {
      detached: true, // its own process group, so the whole tree is killed at the end
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        EXTENSIONS_GALLERY: "{}",
        XDG_CONFIG_HOME: xdg("config"),
        XDG_DATA_HOME: xdg("data"),
        XDG_CACHE_HOME: xdg("cache"),
        HANGAR_HOME: xdg("hangar-home"),
        ...o.env,
        ...(o.untrusted ? { HANGAR_VSCODE_UNTRUSTED: "1" } : {}),
      },
    },
  );
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    const port = await waitForPort(server);
    const origin = `http://127.0.0.1:${port}`;
    const remote = (p: string): string => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ["extensionDevelopmentPath", remote(repoRoot)],
      ["extensionTestsPath", remote(testsEntry)],
      ["skipWelcome", "true"],
    ];
    const url = `${origin}/?folder=${encodeURIComponent(o.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    log(`code-server listening on ${origin}; workspace ${o.workspace}${o.untrusted ? " (untrusted: Restricted Mode)" : ""}`);

    const page = await context.newPage();
    setPage(page);
    let resolveExit!: (code: number) => void;
    const exited = new Promise<number>((resolve) => (resolveExit = resolve));
    await page.exposeFunction("codeAutomationLog", (_type: string, args: unknown) => {
      // The workbench forwards console calls as [format, ...values].
      const text = Array.isArray(args) ? format(...(args as unknown[])) : String(args);
      if (NOISE.test(text) && !process.env.HANGAR_VSCODE_VERBOSE) return;
      process.stdout.write(text.endsWith("\n") ? text : text + "\n");
    });
    await page.exposeFunction("codeAutomationExit", (code: number) => resolveExit(code));
    page.on("pageerror", (err) => log(`page error: ${err.message}`));
    await page.goto(url);
    const timeout = new Promise<number>((resolve) =>
      setTimeout(() => {
        log(`tests did not finish within ${TEST_TIMEOUT_MS / 1000} s`);
        resolve(1);
      }, TEST_TIMEOUT_MS).unref(),
    );
    const code = await Promise.race([exited, timeout]);
    await page.screenshot({ path: path.join(outputDir, o.untrusted ? "vscode-final-untrusted.png" : "vscode-final.png") }).catch(() => undefined);
    log(`extension host tests${o.untrusted ? " (Restricted Mode)" : ""} finished with exit code ${code}`);
    return code;
  } finally {
    setPage(undefined);
    await context.close().catch(() => undefined);
    try {
      process.kill(-server.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

async function main(): Promise<number> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (or set HANGAR_CHROMIUM).`);
  execFileSync("bash", [path.join(repoRoot, "scripts", "install-code-server.sh")], { stdio: "inherit" });
  execFileSync(process.execPath, [path.join(repoRoot, "test", "vscode", "build-tests.mjs")], { stdio: "inherit", cwd: repoRoot });
  mkdirSync(outputDir, { recursive: true });
  const { tmp, workspace } = prepareWorkspace();
  const untrusted = prepareWorkspace();
  // HANGAR_VSCODE_ONLY=untrusted|trusted runs one of the two launches, for working on one.
  const only = process.env.HANGAR_VSCODE_ONLY;
  // The machine tests need the default box: built once per machine (shared with the system tests), copied here.
  const boxHome = only === "untrusted" ? "" : await homeWithDefaultBox();
  if (boxHome) {
    // Its Debian downloads (a box build there downloads nothing), and the system tests' warm engine machine when
    // there is one for this build: the Docker views' engine then resumes it instead of starting the machine cold.
    await copySharedCache(boxHome);
    if (await adoptWarmMachineIfReady(boxHome)) log("the engine machine in the box home is the system tests' warm one");
  }

  let page: Page | undefined;
  const bridge = await startUiBridge(() => page);
  const bridgeUrl = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
    });
    const setPage = (p: Page | undefined): void => void (page = p);
    const env = { HANGAR_TEST_UI_BRIDGE: bridgeUrl };
    const trustedCode = only === "untrusted" ? 0 : await runSuite(browser, setPage, { tmp, workspace, env: { ...env, HANGAR_TEST_BOX_HOME: boxHome } });
    // Restricted Mode needs workspace trust on, which is a server flag: a second, small launch (same browser) runs only its suite.
    const untrustedCode = only === "trusted" ? 0 : await runSuite(browser, setPage, { ...untrusted, env, untrusted: true });
    return trustedCode || untrustedCode;
  } finally {
    await browser?.close().catch(() => undefined);
    bridge.close();
    // The machine daemon started by the tests is not in code-server's process group.
    try {
      if (boxHome) execFileSync("pkill", ["-f", `daemon.js ${boxHome}`]);
    } catch {
      // none left
    }
    // Nor are container engines the Docker views started (one per hangar.home the tests used): stop them.
    for (const home of [tmp, boxHome, path.join(os.tmpdir(), "hangar-vscode-home-"), path.join(os.tmpdir(), "hangar-second-engine-")].filter(Boolean)) {
      try {
        execFileSync("pkill", ["-TERM", "-f", `engine.js ${home}`]);
      } catch {
        // none left
      }
    }
    for (const dir of [tmp, untrusted.tmp, boxHome].filter(Boolean)) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
