// findComposeClient and runCompose with real programs: a client found on
// PATH (a small script standing in for docker-compose, since which Compose a
// machine has is the machine's business), the clear error when none runs,
// the configured command, a failing run's last lines, and cancellation.
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, it } from "node:test";
import { ComposeClientMissingError, findComposeClient, splitCommand } from "../../../../src/core/compose/compose-client";
import { composeArgs, ComposeFailedError, runCompose } from "../../../../src/core/compose/compose-run";
import { CancelledError } from "../../../../src/core/util/errors";

describe("Compose client", { skip: process.platform === "win32" }, () => {
  let bin: string;
  before(async () => {
    bin = await mkdtemp(path.join(os.tmpdir(), "hangar-compose-client-"));
    // Answers `version`, echoes its arguments and folder, fails on `fail`, sleeps on `wait` until interrupted.
    await writeFile(
      path.join(bin, "docker-compose"),
      '#!/bin/sh\ncase "$1" in version) echo "docker-compose version 9";; fail) echo step one; echo "it broke" >&2; exit 3;; wait) trap \'echo interrupted; exit 130\' INT; echo waiting; while :; do sleep 0.1; done;; *) echo "args: $* in $(pwd) host $DOCKER_HOST";; esac\n',
    );
    await chmod(path.join(bin, "docker-compose"), 0o755);
  });
  after(() => rm(bin, { recursive: true, force: true }));

  it("finds docker-compose when the docker CLI has no compose plugin, and says what to install when nothing runs", async () => {
    const client = await findComposeClient({ env: { PATH: bin } });
    assert.deepEqual(client, { command: "docker-compose", args: [], label: "docker-compose" });
    await assert.rejects(
      findComposeClient({ env: { PATH: path.join(bin, "none") } }),
      (err: Error) => err instanceof ComposeClientMissingError && /docker-compose-plugin/.test(err.message) && /hangar\.compose\.command/.test(err.message),
    );
  });

  it("uses the configured command (quoted words kept whole), and names the setting when it does not run", async () => {
    assert.deepEqual(splitCommand(`"/opt/my tools/compose" --ansi never`), ["/opt/my tools/compose", "--ansi", "never"]);
    const client = await findComposeClient({ configured: `'${path.join(bin, "docker-compose")}'`, env: {} });
    assert.equal(client.command, path.join(bin, "docker-compose"));
    await assert.rejects(findComposeClient({ configured: "/nonexistent/compose", env: {} }), (err: Error) => err instanceof ComposeClientMissingError && /hangar\.compose\.command/.test(err.message));
  });

  it("runs a verb with the files and project first, in the target's folder, with the environment", async () => {
    const client = await findComposeClient({ env: { PATH: bin } });
    const args = composeArgs({ cwd: bin, files: ["/p/compose.yaml", "/p/compose.dev.yaml"], project: "shop" }, "downVolumes");
    assert.deepEqual(args, ["-f", "/p/compose.yaml", "-f", "/p/compose.dev.yaml", "-p", "shop", "down", "-v"]);
    const seen: string[] = [];
    const out = await runCompose({ client, args, cwd: bin, env: { PATH: `${bin}:/usr/bin:/bin`, DOCKER_HOST: "unix:///x.sock" }, onOutput: (t) => seen.push(t) });
    assert.equal(out, `args: ${args.join(" ")} in ${bin} host unix:///x.sock\n`);
    assert.equal(seen.join(""), out);
  });

  it("fails with the client's last lines, and is cancelled like Ctrl-C", async () => {
    const client = await findComposeClient({ env: { PATH: bin } });
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    await assert.rejects(
      runCompose({ client, args: ["fail"], cwd: bin, env }),
      (err: Error) => err instanceof ComposeFailedError && /exit code 3/.test(err.message) && /step one\s+it broke/.test(err.message),
    );
    const abort = new AbortController();
    const running = runCompose({ client, args: ["wait"], cwd: bin, env, signal: abort.signal, onOutput: (t) => t.includes("waiting") && abort.abort() });
    await assert.rejects(running, (err: Error) => err instanceof CancelledError);
  });
});
