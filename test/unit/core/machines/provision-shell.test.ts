// The shell provisioner's pure parts, checked against Vagrant 2.3's
// plugins/provisioners/shell/provisioner.rb: the command it runs (quoting of
// args and env, run directly so the shebang counts), line endings, where the
// script comes from, and how output lines are cut. The commands are also run
// by this computer's /bin/sh, so the quoting is checked by a real shell.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { guestCommand, lineBuffer, quoteAndEscape, removeAnsiEscapes, scriptBytes, scriptLabel, shellCommand, unixLineEndings } from "../../../../src/core/machines/provision-shell";
import { ProvisionError } from "../../../../src/core/machines/provision";
import { shellQuote } from "../../../../src/core/util/shell-quote";
import { provisioner } from "./provisioner-fixture";

const exec = promisify(execFile);
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), "hangar-provision-"));
  dirs.push(d);
  return d;
}

/** Puts `script` at a fresh upload path and runs Vagrant's command for it with /bin/sh, as the guest's shell would. */
async function runInSh(script: string | Buffer, p: Parameters<typeof shellCommand>[0] extends infer T ? Omit<T, "uploadPath"> : never, wrap = (c: string) => c): Promise<string> {
  const upload = path.join(await tempDir(), "vagrant-shell");
  await writeFile(upload, script);
  const { stdout } = await exec("/bin/sh", ["-c", wrap(shellCommand({ ...p, uploadPath: upload }))], { env: { PATH: process.env.PATH, HOME: "/home/tester" } });
  return stdout;
}

const PRINT_ARGS = '#!/bin/sh\nfor a in "$@"; do printf \'[%s]\\n\' "$a"; done\nprintf \'A=[%s] B=[%s] TERM=[%s]\\n\' "$A" "$B" "$TERM"\n';

test("quote_and_escape: double quotes, each \" closed, escaped and reopened; $ and backslashes left to the guest's shell", () => {
  assert.equal(quoteAndEscape("plain"), '"plain"');
  assert.equal(quoteAndEscape('say "hi"'), '"say "\\""hi"\\"""');
  assert.equal(quoteAndEscape("$HOME/x"), '"$HOME/x"');
  assert.equal(quoteAndEscape(""), '""');
});

test("the command is Vagrant's: chmod +x 'UPLOAD' && K=\"v\" … UPLOAD ARGS", () => {
  assert.equal(shellCommand({ args: [], env: {}, uploadPath: "/tmp/vagrant-shell" }), "chmod +x '/tmp/vagrant-shell' && /tmp/vagrant-shell");
  assert.equal(shellCommand({ args: ["a b", "7"], env: { A: "x y", B: "1" }, uploadPath: "/tmp/vagrant-shell" }), `chmod +x '/tmp/vagrant-shell' && A="x y" B="1" /tmp/vagrant-shell "a b" "7"`);
  assert.equal(shellCommand({ args: "--user vagrant 'a b'", env: {}, uploadPath: "/opt/p.sh" }), "chmod +x '/opt/p.sh' && /opt/p.sh --user vagrant 'a b'");
});

test("a real sh runs it: Array args one word each ($HOME expands, quotes survive), a String of args split by the shell, env values quoted", async () => {
  assert.equal(
    await runInSh(PRINT_ARGS, { args: ["a b", "$HOME", 'say "hi"', "it's"], env: { A: "x y", B: "$HOME" } }),
    '[a b]\n[/home/tester]\n[say "hi"]\n[it\'s]\nA=[x y] B=[/home/tester] TERM=[]\n',
  );
  assert.equal(await runInSh(PRINT_ARGS, { args: "one 'two three' $HOME", env: {} }), "[one]\n[two three]\n[/home/tester]\nA=[] B=[] TERM=[]\n");
});

test("the script runs directly, so its shebang picks the interpreter", async () => {
  const awk = '#!/usr/bin/awk -f\nBEGIN { print "from awk" }\n';
  assert.equal(await runInSh(awk, { args: [], env: {} }), "from awk\n");
});

test("guestCommand: a login shell with TERM=vt100; privileged through sudo -E -H unless the SSH user is root; config.ssh settings honoured", async () => {
  const inner = "chmod +x '/tmp/vagrant-shell' && /tmp/vagrant-shell";
  const quoted = shellQuote(`export TERM=vt100\n${inner}`);
  assert.equal(guestCommand(inner, true, {}, "vagrant"), `sudo -E -H sh -l -c ${quoted}`);
  assert.equal(guestCommand(inner, false, {}, "vagrant"), `sh -l -c ${quoted}`);
  assert.equal(guestCommand(inner, true, {}, "root"), `sh -l -c ${quoted}`);
  assert.equal(guestCommand(inner, true, { sudo_command: "doas %c", shell: "bash -l" }, "vagrant"), `doas bash -l -c ${quoted}`);
  // The inner command's own single quotes survive the wrapping.
  assert.equal(await runInSh(PRINT_ARGS, { args: ["x"], env: {} }, (c) => guestCommand(c, false, { shell: "sh" }, "vagrant")), "[x]\nA=[] B=[] TERM=[vt100]\n");
});

test("CRLF line endings become LF (a CRLF #!/bin/sh script then runs); binary scripts keep theirs", async () => {
  assert.equal(unixLineEndings(Buffer.from("a\r\nb\r\n")).toString(), "a\nb\n");
  assert.equal(unixLineEndings(Buffer.from("a\rb\r")).toString(), "a\rb\n");
  const bytes = Buffer.from([0xff, 0x0d, 0x0a, 0x80]);
  assert.deepEqual(unixLineEndings(bytes), Buffer.from([0xff, 0x0a, 0x80]), "bytes that are not UTF-8 pass through");
  const crlf = "#!/bin/sh\r\necho converted\r\n";
  assert.equal(await runInSh(unixLineEndings(Buffer.from(crlf)), { args: [], env: {} }), "converted\n");
  // Unconverted, the interpreter would be "/bin/sh\r".
  await assert.rejects(runInSh(crlf, { args: [], env: {} }), (err: { stderr?: string }) => /not found|No such file|bad interpreter/.test(err.stderr ?? ""));
});

test("the script: inline text, a host file relative to the Vagrantfile's folder, or a clear error naming both", async () => {
  const project = await tempDir();
  await mkdir(path.join(project, "scripts"));
  await writeFile(path.join(project, "scripts", "setup.sh"), "echo from file\n");
  const ctx = { projectDir: project, vagrantfile: path.join(project, "Vagrantfile") };
  assert.equal((await scriptBytes(provisioner({ inline: "echo hi" }), ctx)).toString(), "echo hi");
  assert.equal((await scriptBytes(provisioner({ inline: null, path: "scripts/setup.sh" }), ctx)).toString(), "echo from file\n");
  await assert.rejects(scriptBytes(provisioner({ inline: null, path: "scripts/missing.sh" }), ctx), (err: Error) => {
    assert.ok(err instanceof ProvisionError);
    assert.match(err.message, /`path` for shell provisioner does not exist on the host system: .*scripts\/missing\.sh \(path: "scripts\/missing\.sh" in .*Vagrantfile\)/);
    assert.match(err.message, /Fix `path:` in the Vagrantfile/);
    return true;
  });
});

test("a script path that is an http address is downloaded and checked against its checksums", async () => {
  const body = "#!/bin/sh\necho remote\n";
  const server = http.createServer((req, res) => {
    if (req.url === "/bootstrap.sh") res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const ctx = { projectDir: "/nonexistent", vagrantfile: "/nonexistent/Vagrantfile" };
    const sha256 = createHash("sha256").update(body).digest("hex").toUpperCase();
    const ok = provisioner({ inline: null, path: `${base}/bootstrap.sh`, checksums: { sha256, md5: createHash("md5").update(body).digest("hex") } });
    assert.equal((await scriptBytes(ok, ctx)).toString(), body);
    await assert.rejects(scriptBytes({ ...ok, checksums: { sha1: "0".repeat(40) } }, ctx), /The sha1 checksum of the script downloaded from .* is [0-9a-f]{40}, not 0{40}/);
    await assert.rejects(scriptBytes({ ...ok, path: `${base}/missing.sh` }, ctx), /Downloading the shell provisioner's script .*missing\.sh failed: HTTP 404/);
    await assert.rejects(scriptBytes({ ...ok, path: "ftp://example.com/x.sh" }, ctx), /only http and https/);
  } finally {
    server.close();
  }
});

test("Running: lines as Vagrant words them", () => {
  assert.equal(scriptLabel(provisioner({ inline: "x" }), "/p"), "inline script");
  assert.equal(scriptLabel(provisioner({ inline: "x", name: "top-level" }), "/p"), "inline script", "only a shell's own `name:` is shown");
  assert.equal(scriptLabel(provisioner({ inline: "x", name: "seed", options: { name: "seed" } }), "/p"), "script: seed");
  assert.equal(scriptLabel(provisioner({ inline: null, path: "scripts/a.sh" }), "/p"), "/p/scripts/a.sh");
  assert.equal(scriptLabel(provisioner({ inline: null, path: "https://example.com/a.sh" }), "/p"), "https://example.com/a.sh");
});

test("output lines as Vagrant's LineBuffer cuts them: trailing blanks stripped, cursor codes removed, colours and split UTF-8 kept", () => {
  const lines: string[] = [];
  const b = lineBuffer((l) => lines.push(l));
  b.push(Buffer.from("one  \r\ntw"));
  b.push(Buffer.from("o\n\x1b[2Kcleared \x1b[31mred\x1b[0m\n"));
  const snow = Buffer.from("é\n");
  b.push(snow.subarray(0, 1));
  b.push(snow.subarray(1));
  b.push(Buffer.from("no newline"));
  b.close();
  assert.deepEqual(lines, ["one", "two", "cleared \x1b[31mred\x1b[0m", "é", "no newline"]);
  const long: string[] = [];
  const l = lineBuffer((x) => long.push(x));
  l.push(Buffer.from("x".repeat(5001)));
  assert.equal(long.length, 1);
  assert.equal(removeAnsiEscapes("\x1b[1;2Ha\x1b[4Db\x1bMc"), "abc");
});
