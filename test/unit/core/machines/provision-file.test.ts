// The file provisioner's upload plan, by Vagrant 2.3's
// plugins/provisioners/file/provisioner.rb and the SSH communicator's
// `upload`: where a file or a folder lands. The guest command is run by this
// computer's sh and GNU tar (as busybox sh and tar run it in the guest), and a
// project's symlinks must never carry host files from outside the folder.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { lstat, mkdir, mkdtemp, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { fileUploadCommand, fileUploadPlan, packFolder } from "../../../../src/core/machines/provision-file";
import { packPaths, walkTree } from "../../../../src/core/sync/tree-archive";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), "hangar-file-provision-"));
  dirs.push(d);
  return d;
}

/** Runs the guest command with `stdin` in a shell whose HOME is `home`, as the SSH user's would be. */
function runGuest(command: string, stdin: Buffer, home: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", command], { cwd: home, env: { PATH: process.env.PATH, HOME: home } });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stderr }));
    child.stdin.end(stdin);
  });
}

/** The names and kinds in a tar archive, and every file's bytes. */
async function listArchive(archive: Buffer): Promise<{ entries: string[]; bytes: Buffer }> {
  const entries: string[] = [];
  const chunks: Buffer[] = [];
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    entries.push(`${header.type} ${header.name}${header.linkname ? ` -> ${header.linkname}` : ""}`);
    stream.on("data", (c: unknown) => chunks.push(c as Buffer));
    stream.on("end", next);
  });
  const done = new Promise<void>((resolve, reject) => extract.on("finish", resolve).on("error", reject));
  Readable.from([archive]).pipe(extract);
  await done;
  return { entries, bytes: Buffer.concat(chunks) };
}

test("where an upload lands: a folder's contents unless the destination ends in / (then the folder itself), 'dir/.' always its contents", () => {
  const src = "/project/files";
  assert.deepEqual(fileUploadPlan("files", "~/dest", true, src), { kind: "folder", suffix: "" });
  assert.deepEqual(fileUploadPlan("files", "~/into/", true, src), { kind: "folder", suffix: "/files" });
  assert.deepEqual(fileUploadPlan("files/.", "~/into/", true, src), { kind: "folder", suffix: "" });
  assert.deepEqual(fileUploadPlan("files/.", "~/dest", true, src), { kind: "folder", suffix: "" });
  assert.deepEqual(fileUploadPlan("app.conf", "/etc/app.conf", false, "/project/app.conf"), { kind: "file", suffix: "" });
  assert.deepEqual(fileUploadPlan("app.conf", "/tmp/conf/", false, "/project/app.conf"), { kind: "file", suffix: "app.conf" });
});

test("a real sh and tar put a folder where Vagrant does: ~ expanded, spaces kept, nested files, modes, links as links", async () => {
  const project = await tempDir();
  const home = await tempDir();
  const files = path.join(project, "files");
  await mkdir(path.join(files, "nested", "deeper"), { recursive: true });
  await writeFile(path.join(files, "top.txt"), "top\n");
  await writeFile(path.join(files, "nested", "deeper", "run.sh"), "#!/bin/sh\n", { mode: 0o755 });
  await symlink("top.txt", path.join(files, "link-to-top"));
  const { archive } = await packFolder(files);
  for (const [source, destination, where] of [
    ["files", "~/dest dir", "dest dir"],
    ["files", "~/into/", "into/files"],
    ["files/.", "$HOME/dot", "dot"],
  ]) {
    const plan = fileUploadPlan(source, destination, true, files);
    const r = await runGuest(fileUploadCommand(destination, plan), archive, home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(home, where, "top.txt"), "utf8"), "top\n", `${source} => ${destination}`);
    assert.equal((await lstat(path.join(home, where, "nested", "deeper", "run.sh"))).mode & 0o777, 0o755);
    assert.equal(await readlink(path.join(home, where, "link-to-top")), "top.txt");
  }
});

test("a real sh puts a single file at the destination, under a destination ending in /, and as scp does into an existing folder", async () => {
  const home = await tempDir();
  const data = Buffer.from("listen 80;\n");
  for (const [destination, where] of [
    ["~/conf/app.conf", "conf/app.conf"],
    ["~/etc/", "etc/app.conf"],
    ["~/conf", "conf/conf"],
  ]) {
    const r = await runGuest(fileUploadCommand(destination, fileUploadPlan("app.conf", destination, false, "/p/app.conf")), data, home);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(path.join(home, where), "utf8"), "listen 80;\n", destination);
  }
});

test("symlinks in an uploaded folder are never followed: a link to a host secret outside the folder carries only its target's name", async () => {
  const project = await tempDir();
  const outside = await tempDir();
  const secret = path.join(outside, "shadow");
  await writeFile(secret, "HOST-SECRET-4f1c\n");
  await mkdir(path.join(outside, "dir"));
  await writeFile(path.join(outside, "dir", "key"), "HOST-SECRET-4f1c in a folder\n");
  const files = path.join(project, "files");
  await mkdir(files);
  await writeFile(path.join(files, "ok.txt"), "fine\n");
  await symlink(secret, path.join(files, "absolute"));
  await symlink(path.relative(files, secret), path.join(files, "relative"));
  await symlink(path.join(outside, "dir"), path.join(files, "folder-link"));
  await symlink("ok.txt", path.join(files, "inside"));
  const { archive, escaping } = await packFolder(files);
  const { entries, bytes } = await listArchive(archive);
  assert.ok(!archive.includes("HOST-SECRET-4f1c"), "no byte of the outside files is in the archive");
  assert.equal(bytes.toString(), "fine\n");
  assert.deepEqual(entries.sort(), [
    `file ok.txt`,
    `symlink absolute -> ${secret}`,
    `symlink folder-link -> ${path.join(outside, "dir")}`,
    `symlink inside -> ok.txt`,
    `symlink relative -> ${path.relative(files, secret)}`,
  ]);
  assert.deepEqual(escaping.sort(), ["absolute", "folder-link", "relative"]);
});

test("a folder swapped for a symlink after the tree was listed is not followed out of it (a guest can write into a shared project)", async () => {
  const root = await tempDir();
  const outside = await tempDir();
  await mkdir(path.join(root, "sub"));
  await writeFile(path.join(root, "sub", "f"), "inside\n");
  await writeFile(path.join(outside, "f"), "HOST-SECRET-9a2e\n");
  const listed = await walkTree(root, () => false);
  assert.deepEqual(listed, ["sub", "sub/f"]);
  // Between listing and packing, sub becomes a link to a folder outside that holds a file of the same name.
  await rename(path.join(root, "sub"), path.join(root, "moved"));
  await symlink(outside, path.join(root, "sub"));
  const { archive } = await packPaths(root, listed);
  assert.ok(!archive.includes("HOST-SECRET-9a2e"));
  assert.deepEqual((await listArchive(archive)).entries, [`symlink sub -> ${outside}`]);
});
