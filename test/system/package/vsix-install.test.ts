import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import packageJson from "../../../package.json";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "..", "..", "..");
const CODE_SERVER = path.join(ROOT, ".vscode-test", "code-server", "node_modules", ".bin", "code-server");

test("`npm run package` makes a .vsix that a real VS Code installs offline, holding only what runs", { timeout: 300_000 }, async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "hangar-vsix-"));
  // `npm test` packages the .vsix once, before every level (scripts/test.mjs), and says where: packaging here
  // would replace dist/ under the test files running beside this one. Run alone, this test packages it itself.
  const packaged = process.env.HANGAR_TEST_VSIX && existsSync(process.env.HANGAR_TEST_VSIX) ? process.env.HANGAR_TEST_VSIX : undefined;
  try {
    const vsix = packaged ?? path.join(tmp, "hangar.vsix");
    if (!packaged) await run(process.execPath, ["scripts/package.mjs", vsix], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    console.log(`hangar.vsix: ${((await stat(vsix)).size / 1024).toFixed(0)} KiB`);
    await run("bash", [path.join(ROOT, "scripts", "install-code-server.sh")], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
    const dirs = ["--extensions-dir", path.join(tmp, "ext"), "--user-data-dir", path.join(tmp, "ud")];
    // No gallery and XDG dirs under tmp: the install must work offline and touch nothing else.
    const env = { ...process.env, EXTENSIONS_GALLERY: "{}", XDG_CONFIG_HOME: path.join(tmp, "config"), XDG_DATA_HOME: path.join(tmp, "data"), XDG_CACHE_HOME: path.join(tmp, "cache") };
    const installed = await run(CODE_SERVER, [...dirs, "--install-extension", vsix], { env });
    assert.match(installed.stdout + installed.stderr, /successfully installed/i);
    const listed = await run(CODE_SERVER, [...dirs, "--list-extensions", "--show-versions"], { env });
    assert.match(listed.stdout, new RegExp(`^hangar-dev\\.hangar@${packageJson.version.replace(/\./g, "\\.")}$`, "m"));

    const folder = (await readdir(path.join(tmp, "ext"))).find((d) => d.startsWith("hangar-dev.hangar-"));
    assert.ok(folder, "the extension folder should exist after install");
    const ext = path.join(tmp, "ext", folder);
    for (const f of [
      "package.json",
      "dist/extension.js",
      "dist/cli.js",
      "dist/ruby-host.js",
      "dist/v86/v86.wasm",
      "dist/ruby/ruby+stdlib.wasm",
      "dist/ruby/vagrant-dsl.rb",
      "media/hangar.svg",
      "syntaxes/vagrantfile.tmLanguage.json",
      "language-configuration/vagrantfile.json",
      "dist/compose-language-server.js",
      "dist/compose-language-client.js",
      "syntaxes/compose.tmLanguage.json",
      "language-configuration/compose.json",
    ]) {
      assert.ok(existsSync(path.join(ext, f)), `${f} should be in the installed extension`);
    }
    for (const f of ["src", "test", "node_modules", "samples", "scripts", "dist/extension.js.map"]) {
      assert.ok(!existsSync(path.join(ext, f)), `${f} must not be shipped`);
    }
    // The installed CLI runs from the extension folder alone.
    const version = await run(process.execPath, [path.join(ext, "dist", "cli.js"), "--version"], { cwd: tmp });
    assert.match(version.stdout, new RegExp(`^Hangar ${packageJson.version.replace(/\./g, "\\.")} `));

    // It carries the default box ready made: the first up of hangar/debian-busybox adds that copy and boots it with
    // no Debian mirror to reach (HANGAR_DEBIAN_MIRROR names a closed port, so a build would fail).
    const box = JSON.parse(await readFile(path.join(ext, "dist", "box", "box.json"), "utf8")) as { name: string; version: string };
    assert.equal(box.name, "hangar/debian-busybox");
    const home = path.join(tmp, "home");
    const project = path.join(tmp, "project");
    await mkdir(project);
    await writeFile(
      path.join(project, "Vagrantfile"),
      'Vagrant.configure("2") do |config|\n  config.vm.box = "hangar/debian-busybox"\n  config.vm.provider "hangar" do |h|\n    h.memory = 128\n  end\nend\n',
    );
    const cli = (args: string[]) =>
      run(process.execPath, [path.join(ext, "dist", "cli.js"), ...args], {
        cwd: project,
        env: { ...process.env, HANGAR_HOME: home, HANGAR_DEBIAN_MIRROR: "http://127.0.0.1:9/debian" },
        maxBuffer: 16 * 1024 * 1024,
      });
    try {
      const up = await cli(["up"]);
      assert.match(up.stdout + up.stderr, /adding the copy Hangar ships/);
      assert.equal((await cli(["ssh", "-c", "echo up-from-the-shipped-box"])).stdout.trim(), "up-from-the-shipped-box");
      assert.match((await cli(["box", "list"])).stdout, new RegExp(`hangar/debian-busybox\\s+\\(embedded, ${box.version.replace(/\./g, "\\.")}\\)`));
    } finally {
      await cli(["destroy", "-f"]).catch(() => undefined);
      // This home's machine daemon (it would otherwise exit on its own when idle).
      await run("pkill", ["-f", `daemon.js ${home}`]).catch(() => undefined);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    // package.mjs built dist/ for production; rebuild the development bundles the other tests expect.
    if (!packaged) await run(process.execPath, ["esbuild.mjs"], { cwd: ROOT });
  }
});
