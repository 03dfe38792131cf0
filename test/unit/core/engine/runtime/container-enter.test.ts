// The container entry helper (container-enter.ts), run for real: the static
// busybox chrooted into a folder standing for a container's root, as the
// engine runs it. The --ids step resolves users and groups as dockerd and
// runc do (checked against a real dockerd for the busybox image: `-u
// 1000:1000` shows groups=1000, root its /etc/group memberships); then capsh
// and the second step run a real `id` with those ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENTER_SCRIPT } from "../../../../../src/core/engine/runtime/container-enter";

const canChroot = process.getuid?.() === 0 && existsSync("/bin/busybox");
const capsh = ["/usr/sbin/capsh", "/sbin/capsh"].find((p) => existsSync(p));

function containerRoot(passwd: string, group: string): string {
  const root = mkdtempSync(path.join(os.tmpdir(), "hangar-enter-"));
  chmodSync(root, 0o755); // a container's root, which its users may enter
  mkdirSync(path.join(root, "etc"));
  mkdirSync(path.join(root, "dev/.hangar"), { recursive: true });
  writeFileSync(path.join(root, "etc/passwd"), passwd);
  writeFileSync(path.join(root, "etc/group"), group);
  copyFileSync("/bin/busybox", path.join(root, "dev/.hangar/busybox"));
  writeFileSync(path.join(root, "dev/.hangar/enter"), ENTER_SCRIPT);
  return root;
}

function ids(root: string, user: string, workdir = "/"): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync("chroot", [root, "/dev/.hangar/busybox", "sh", "/dev/.hangar/enter", "--ids", user, workdir], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:App:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n2000:x:3000:3000::/home/numeric:/bin/sh\n";
const GROUP = "root:x:0:\nwheel:x:10:root\naudio:x:29:bob,app\napp:x:1000:\nvideo:x:44:app\nstaff:x:50:\nweird:x:notanumber:app\n";

test("--ids resolves users and their groups as dockerd does", { skip: !canChroot && "needs root and a static /bin/busybox for chroot" }, () => {
  const root = containerRoot(PASSWD, GROUP);
  try {
    // root: its gid, then the groups that list it.
    assert.deepEqual(ids(root, ""), { code: 0, stdout: "0 0 0,10 /root\n", stderr: "" });
    // A name: its passwd entry, its gid first, then every group naming it (a gid that is not a number is skipped).
    assert.equal(ids(root, "app").stdout, "1000 1000 1000,29,44 /home/app\n");
    // A uid found in passwd is that user, with its groups.
    assert.equal(ids(root, "1000").stdout, "1000 1000 1000,29,44 /home/app\n");
    // A group given: that gid alone (no memberships), as runc.
    assert.equal(ids(root, "app:staff").stdout, "1000 50 50 /home/app\n");
    assert.equal(ids(root, "1000:1000").stdout, "1000 1000 1000 /home/app\n");
    assert.equal(ids(root, "1000:4242").stdout, "1000 4242 4242 /home/app\n");
    // A uid not in passwd: gid 0, HOME /, and groups=0.
    assert.equal(ids(root, "4242").stdout, "4242 0 0 /\n");
    assert.equal(ids(root, "4242:4242").stdout, "4242 4242 4242 /\n");
    // A numeric name is a name first.
    assert.equal(ids(root, "2000").stdout, "3000 3000 3000 /home/numeric\n");
    // Unknown names fail as Docker does, with 126.
    const user = ids(root, "nosuch");
    assert.equal(user.code, 126);
    assert.match(user.stderr, /unable to find user nosuch: no matching entries in passwd file/);
    const group = ids(root, "app:nosuch");
    assert.equal(group.code, 126);
    assert.match(group.stderr, /unable to find group nosuch: no matching entries in group file/);
    // The working directory is made (as root) when missing.
    assert.equal(ids(root, "app", "/srv/app/data").code, 0);
    assert.ok(statSync(path.join(root, "srv/app/data")).isDirectory());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test(
  "--ids refuses a hostile passwd whose ids are not numbers, and an image without the files runs as Docker's defaults",
  { skip: !canChroot && "needs root and a static /bin/busybox for chroot" },
  () => {
    const root = containerRoot("evil:x:0;reboot:0:x:/:/bin/sh\nspaced:x:1 2:0::/:/bin/sh\n", "g:x:1,2:spaced\n");
    try {
      for (const u of ["evil", "spaced"]) {
        const r = ids(root, u);
        assert.equal(r.code, 126, u);
        assert.match(r.stderr, /has no numeric id/);
      }
      rmSync(path.join(root, "etc"), { recursive: true });
      assert.equal(ids(root, "").stdout, "0 0 0 /\n");
      assert.equal(ids(root, "1000:1000").stdout, "1000 1000 1000 /\n");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  },
);

test("capsh sets the resolved gid and groups, and the second step drops to the uid keeping them", { skip: (!canChroot || !capsh) && "needs root, a static /bin/busybox and capsh" }, () => {
  const root = containerRoot(PASSWD, GROUP);
  try {
    const run = (user: string): string => {
      const [uid, gid, groups, home] = ids(root, user).stdout.trim().split(" ");
      const r = spawnSync(
        capsh!,
        [`--groups=${groups}`, `--gid=${gid}`, `--chroot=${root}`, "--shell=/dev/.hangar/busybox", "--", "sh", "/dev/.hangar/enter", "/dev/.hangar", uid, home, "/", "", "/bin/id"],
        {
          encoding: "utf8",
          env: {},
        },
      );
      return r.stdout + r.stderr;
    };
    // The image's own id (a busybox of its own: the helper deletes itself before exec), and the /proc it execs through.
    mkdirSync(path.join(root, "bin"));
    copyFileSync("/bin/busybox", path.join(root, "bin/busybox"));
    symlinkSync("busybox", path.join(root, "bin/id"));
    mkdirSync(path.join(root, "proc"));
    execFileSync("mount", ["-t", "proc", "proc", path.join(root, "proc")]);
    assert.equal(run("1000:1000").trim(), "uid=1000(app) gid=1000(app) groups=1000(app)");
    assert.ok(!existsSync(path.join(root, "dev/.hangar")), "the helper removed itself");
    mkdirSync(path.join(root, "dev/.hangar"));
    copyFileSync("/bin/busybox", path.join(root, "dev/.hangar/busybox"));
    writeFileSync(path.join(root, "dev/.hangar/enter"), ENTER_SCRIPT);
    assert.equal(run("app").trim(), "uid=1000(app) gid=1000(app) groups=29(audio),44(video),1000(app)");
  } finally {
    spawnSync("umount", [path.join(root, "proc")]);
    rmSync(root, { recursive: true, force: true });
  }
});
