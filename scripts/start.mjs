// `npm start`: builds Hangar and opens it in a real VS Code on samples/workspace.
// - With `code` on the PATH: an Extension Development Host window.
// - Otherwise: the browser-hosted VS Code the tests use (code-server 4.100.3,
//   installed on first run), with Hangar loaded as a development extension;
//   prints the URL to open. Ctrl-C stops it.
// Environment: HANGAR_PORT (default 8080) and HANGAR_HOST (default 127.0.0.1) for the browser mode.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const workspace = path.join(root, "samples", "workspace");
execFileSync(process.execPath, [path.join(root, "esbuild.mjs")], { stdio: "inherit", cwd: root });

const hasCode = spawnSync("code", ["--version"], { stdio: "ignore" }).status === 0;
if (hasCode && !process.env.HANGAR_BROWSER) {
  console.log("Opening an Extension Development Host with Hangar on samples/workspace...");
  spawn("code", [`--extensionDevelopmentPath=${root}`, workspace], { stdio: "inherit" }).on("exit", (code) => process.exit(code ?? 0));
} else {
  execFileSync("bash", [path.join(root, "scripts", "install-code-server.sh")], { stdio: "inherit" });
  const host = process.env.HANGAR_HOST ?? "127.0.0.1";
  const port = Number(process.env.HANGAR_PORT ?? 8080);
  const state = path.join(os.homedir(), ".hangar", "code-server");
  mkdirSync(state, { recursive: true });
  const server = spawn(
    path.join(root, ".vscode-test", "code-server", "node_modules", ".bin", "code-server"),
    [
      "--bind-addr",
      `${host}:${port}`,
      "--auth",
      "none",
      "--user-data-dir",
      path.join(state, "user-data"),
      "--extensions-dir",
      path.join(state, "extensions"),
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-getting-started-override",
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, EXTENSIONS_GALLERY: "{}" } },
  );
  let announced = false;
  server.stdout.on("data", (chunk) => {
    if (announced || !/HTTP server listening/.test(chunk.toString())) return;
    announced = true;
    const remote = (p) => `vscode-remote://${host}:${port}${p}`;
    const payload = encodeURIComponent(JSON.stringify([["extensionDevelopmentPath", remote(root)]]));
    console.log(
      `\nHangar is running in VS Code (code-server 4.100.3 = VS Code 1.100.3). Open this URL in a browser:\n\n  http://${host}:${port}/?folder=${encodeURIComponent(workspace)}&payload=${payload}\n\nPress Ctrl-C to stop.`,
    );
  });
  server.on("exit", (code) => process.exit(code ?? 0));
  for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.kill(sig));
}
