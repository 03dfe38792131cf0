// The `Host` block of ssh-config and its merge into a user's ~/.ssh/config
// ("Add to ~/.ssh/config" in VS Code): only Hangar's marked block changes.
// The merged file is read back by the real OpenSSH client (ssh -G).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { mergeSshConfig, sshConfigBlock } from "../../../../src/core/machines/ssh-config";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const block = (port: number): string => sshConfigBlock("web", { port, keyFile: "/p/my key", user: "vagrant" });
const LABEL = "web (/p/Vagrantfile)";

test("an empty or missing config gets the marked block alone", () => {
  assert.equal(mergeSshConfig("", LABEL, block(2222)), `# >>> Hangar: ${LABEL}\n${block(2222)}# <<< Hangar: ${LABEL}\n`);
});

test("appended after a blank line; merged again, only the marked block is replaced", () => {
  const mine = "Host build\n  HostName build-1\n  User me\n";
  const once = mergeSshConfig(mine, LABEL, block(2222));
  assert.ok(once.startsWith(`${mine}\n# >>> Hangar: ${LABEL}\n`), once);
  const withMore = `${once}Host after\n  Port 1\n`;
  const twice = mergeSshConfig(withMore, LABEL, block(2200));
  assert.equal(twice, withMore.replace("Port 2222", "Port 2200"));
  // Another machine's block is another label: both stay.
  const other = mergeSshConfig(twice, "db (/p/Vagrantfile)", sshConfigBlock("db", { port: 2201, keyFile: "/k", user: "vagrant" }));
  assert.match(other, /Port 2200[\s\S]*Host db[\s\S]*Port 2201/);
});

test("OpenSSH reads the merged file: the machine's host, port, user and quoted key", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-sshcfg-"));
  dirs.push(dir);
  const file = path.join(dir, "config");
  await writeFile(file, mergeSshConfig("Host build\n  User me\n", LABEL, block(2299)));
  const seen = execFileSync("ssh", ["-G", "-F", file, "web"], { encoding: "utf8" });
  assert.match(seen, /^hostname 127\.0\.0\.1$/m);
  assert.match(seen, /^port 2299$/m);
  assert.match(seen, /^user vagrant$/m);
  assert.match(seen, /^identityfile \/p\/my key$/m);
  assert.match(execFileSync("ssh", ["-G", "-F", file, "build"], { encoding: "utf8" }), /^user me$/m);
});
