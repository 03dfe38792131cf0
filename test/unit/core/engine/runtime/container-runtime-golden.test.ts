// Golden cases of the container runtime script (container-runtime.sh): a
// container's spec in (runtime-golden/<case>/spec.json, as GuestRuntime
// passes it), the script's behaviour out (expected.txt): every command it
// runs that changes the engine machine (mount, ip, unshare, pivot_root,
// capsh through env, …), recorded by stand-in commands on PATH, then the
// fstabs it wrote and its exit status. The script runs for real under the
// host's /bin/sh in a folder standing for the engine machine's root
// (HANGAR_RUNTIME_ROOT); files, pipes and the two sides' wiring are real.
// UPDATE_GOLDEN=1 rewrites expected.txt.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runtimeArguments, type ContainerSpec } from "../../../../../src/core/engine/runtime/guest-runtime";

const HERE = path.join(__dirname, "runtime-golden");
const SCRIPT = path.resolve(__dirname, "../../../../../src/core/engine/runtime/container-runtime.sh");
const ID = "c0ffee".padEnd(64, "0");
const IMAGE = `sha256:${"1a".repeat(32)}`;

/** Stand-ins: each records its arguments (the root folder shown as <R>); some answer as the real one would. */
const SHIMS: Record<string, string> = {
  mount: "",
  umount: "",
  pivot_root: "",
  // A veth pair: the kernel names the peer (veth9 here); its ifindex is the new end's iflink.
  ip: `case "$*" in "link add name "*" type veth") mkdir -p "$HANGAR_RUNTIME_ROOT/sys/class/net/$4" "$HANGAR_RUNTIME_ROOT/sys/class/net/veth9"; echo 9 > "$HANGAR_RUNTIME_ROOT/sys/class/net/$4/iflink"; echo 9 > "$HANGAR_RUNTIME_ROOT/sys/class/net/veth9/ifindex";; esac`,
  // busybox's ipcalc -n ADDRESS/PREFIX: the network's address.
  ipcalc: `IFS=./; set -- $2; m=$(( (0xffffffff << (32 - $5)) & 0xffffffff )); n=$(( ($1 << 24 | $2 << 16 | $3 << 8 | $4) & m )); echo "NETWORK=$((n >> 24 & 255)).$((n >> 16 & 255)).$((n >> 8 & 255)).$((n & 255))"`,
  // unshare runs what it is given (the inner side) in this process's namespaces.
  unshare: 'while [ "${1#-}" != "$1" ] || [ "$1" = slave ]; do shift; done; exec "$@"',
  // (and the entry helper's --ids step: a user, their gid and groups, their home; root when none is named)
  chroot: 'case "$*" in *" readlink -f "*) for a; do l=$a; done; echo "$l";; *" --ids  "*) echo "0 0 0,10 /root";; *" --ids "*) echo "1000 1000 1000,27 /home/app";; esac',
  tty: "echo /dev/pts/5",
  env: "",
};

function setUp(): { root: string; bin: string; log: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), "hangar-runtime-golden-"));
  const bin = path.join(root, ".bin");
  mkdirSync(bin);
  const log = path.join(root, ".log");
  for (const [name, body] of Object.entries(SHIMS)) {
    const file = path.join(bin, name);
    writeFileSync(
      file,
      `#!/bin/sh\nprintf '%s\\n' "${name} $*" | sed "s#$HANGAR_RUNTIME_ROOT#<R>#g; s#$RUNTIME_SCRIPT#<runtime>#g; s#veth[0-9a-f]\\{7\\}#vethXXXXXXX#g; s#netns [0-9]*#netns <pid>#g" >> "${log}"\n${body}\n`,
    );
    chmodSync(file, 0o755);
  }
  // What the engine machine has before a container starts (guest-runtime.ts prepares it once per boot).
  for (const d of [
    "proc/sys/kernel",
    "proc/acpi",
    "proc/bus",
    "proc/fs",
    "proc/irq",
    "proc/sys",
    "etc",
    "sys/fs/cgroup/hangar",
    "sys/class/net",
    "var/lib/hangar/dev/.hangar",
    "var/lib/hangar/tools/root",
  ])
    mkdirSync(path.join(root, d), { recursive: true });
  for (const f of ["proc/kcore", "proc/keys", "proc/timer_list", "proc/sched_debug", "proc/sysrq-trigger", "proc/sys/kernel/hostname", "proc/mounts", "sys/fs/cgroup/cgroup.procs"])
    writeFileSync(path.join(root, f), "");
  writeFileSync(path.join(root, "etc/resolv.conf"), "nameserver 10.0.2.3\n");
  writeFileSync(path.join(root, "var/lib/hangar/dev/.hangar/enter"), "");
  mkdirSync(path.join(root, "var/lib/hangar/images", IMAGE.slice(7), "rootfs"), { recursive: true });
  // Volumes: one with files (no copy-up), one empty.
  mkdirSync(path.join(root, "var/lib/hangar/volumes/data/_data"), { recursive: true });
  writeFileSync(path.join(root, "var/lib/hangar/volumes/data/_data/kept"), "");
  mkdirSync(path.join(root, "var/lib/hangar/volumes/new/_data"), { recursive: true });
  // The overlay is not mounted for real: the image's folders stand in the container's root.
  for (const d of ["etc", "proc", "dev/pts", "data"]) mkdirSync(path.join(root, "var/lib/hangar/containers", ID, "rootfs", d), { recursive: true });
  return { root, bin, log };
}

function run(spec: ContainerSpec & { stdin?: boolean }): string {
  // (the fstabs and /etc files are read before an --rm run's cleanup removes them: see the case's commands)
  const { root, bin, log } = setUp();
  try {
    const r = spawnSync("sh", [SCRIPT, ...runtimeArguments(spec, !!spec.stdin)], {
      env: { PATH: `${bin}:${process.env.PATH}`, HANGAR_RUNTIME_ROOT: root, RUNTIME_SCRIPT: SCRIPT },
      input: "",
      timeout: 20_000,
      encoding: "utf8",
    });
    const c = path.join(root, "var/lib/hangar/containers", ID);
    // --rm cleans up in the background after the status is reported: until it is done (bounded).
    const deadline = Date.now() + 5_000;
    while (spec.removeAfter && existsSync(c) && Date.now() < deadline) spawnSync("sleep", ["0.05"]);
    const files = ["fstab0", "fstab1", "fstab2", "hosts", "hostname", "resolv.conf"]
      .filter((f) => existsSync(path.join(c, f)))
      .map((f) => `--- ${f}\n${readFileSync(path.join(c, f), "utf8").split(root).join("<R>")}`);
    const commands = existsSync(log) ? readFileSync(log, "utf8") : "";
    const stderr = r.stderr.split(root).join("<R>");
    return [`--- commands`, commands.trimEnd(), ...files.map((f) => f.trimEnd()), `--- stderr`, stderr.trimEnd(), `--- exit ${r.status}`, ""].join("\n");
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

for (const name of readdirSync(HERE).sort()) {
  test(`container runtime golden: ${name}`, () => {
    const spec = JSON.parse(readFileSync(path.join(HERE, name, "spec.json"), "utf8")) as Omit<ContainerSpec, "id" | "imageId"> & { stdin?: boolean };
    const actual = run({ id: ID, imageId: IMAGE, ...spec });
    const expectedFile = path.join(HERE, name, "expected.txt");
    if (process.env.UPDATE_GOLDEN || !existsSync(expectedFile)) writeFileSync(expectedFile, actual);
    assert.equal(actual, readFileSync(expectedFile, "utf8"));
  });
}

test("shellcheck finds nothing in the container runtime script", { skip: spawnSync("shellcheck", ["--version"]).status !== 0 && "shellcheck is not installed" }, () => {
  const r = spawnSync("shellcheck", ["-s", "sh", SCRIPT], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
