// hangar.containers.shell and hangar.containers.logsTail as the exec command
// and logs option; the "auto" command is run by a real /bin/sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { containerShellCommand, logsTail } from "../../../../src/core/docker/shell/container-shell";

test("auto (and unset) lets the container's sh pick bash or sh; anything else runs as written", () => {
  assert.deepEqual(containerShellCommand(undefined), containerShellCommand("auto"));
  assert.deepEqual(containerShellCommand("bash -l"), ["bash", "-l"]);
  assert.deepEqual(containerShellCommand(" /bin/ash "), ["/bin/ash"]);
  assert.deepEqual(containerShellCommand(""), containerShellCommand("auto"));
});

test("the auto command starts a shell that reads its commands", () => {
  const [sh, ...args] = containerShellCommand("auto");
  assert.equal(execFileSync(sh, args, { input: "echo shell-$((40+2))\n", encoding: "utf8" }).trim(), "shell-42");
});

test("logsTail: 1000 lines by default, every line for 0", () => {
  assert.equal(logsTail(undefined), 1000);
  assert.equal(logsTail(50), 50);
  assert.equal(logsTail(0), undefined);
});
