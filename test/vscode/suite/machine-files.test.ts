import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";
import { activateHangar, labelOf, until, workspaceRoot } from "./helpers";
import { click, screenshot, waitForText } from "./ui-bridge";
import { keepAsWalkthroughMedia, remakeWalkthroughMedia, viewPane } from "./walkthrough-media";

const boxHome = process.env.HANGAR_TEST_BOX_HOME;
const exec = promisify(execFile);
const SIDEBAR = ".part.sidebar";
/** Names a guest can give its files that would mean something else as host paths. */
const ODD_NAMES = ["..\\..\\escaped.txt", "a%2F..%2Fb.txt", "-rf", "spaced name.txt", "ünïcødé.txt", "new\nline.txt"];

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

describe("Machine files", function () {
  this.timeout(240_000);
  const folder = "mfiles";
  let ref: { vagrantfile: string; name: string };
  let ssh = "";
  let root: vscode.Uri;
  let passwd = "";

  /** A command in the guest through the real ssh client, as the machine's user. */
  async function guest(command: string): Promise<string> {
    const { stdout } = await exec("sh", ["-c", `${ssh} -o BatchMode=yes -o LogLevel=ERROR ${shellQuote(command)}`], { timeout: 30_000 });
    return stdout;
  }
  const at = (file: string): vscode.Uri => root.with({ path: file });

  before(async function () {
    if (!boxHome) this.skip(); // the launchers provide a HANGAR_HOME with the default box
    await vscode.workspace.getConfiguration("hangar").update("home", boxHome, vscode.ConfigurationTarget.Global);
    const dir = path.join(workspaceRoot().fsPath, folder);
    await fs.mkdir(dir, { recursive: true });
    ref = { vagrantfile: path.join(dir, "Vagrantfile"), name: "default" };
    await fs.writeFile(
      ref.vagrantfile,
      ['Vagrant.configure("2") do |config|', '  config.vm.box = "hangar/debian-busybox"', '  config.vm.provider "hangar" do |h|', "    h.memory = 128", "  end", "end", ""].join("\n"),
    );
  });

  after(async () => {
    if (!boxHome) return;
    try {
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
      await vscode.commands.executeCommand("hangar.machine.destroy", ref, { confirm: false });
    } finally {
      await vscode.workspace.getConfiguration("hangar").update("home", undefined, vscode.ConfigurationTarget.Global);
      await fs.rm(path.dirname(ref.vagrantfile), { recursive: true, force: true });
    }
  });

  it("lists /vagrant and /etc, opens a guest file, and saves an edit from VS Code that ssh reads back", async () => {
    const api = await activateHangar();
    const started = await vscode.commands.executeCommand<{ state: string } | undefined>("hangar.machine.up", ref);
    assert.equal(started?.state, "running", "up started the machine");
    ssh = (await vscode.commands.executeCommand<string>("hangar.machine.copySshCommand", ref)) ?? "";
    assert.match(ssh, /^ssh -p \d+ /);
    // What the tests read: a file to edit; odd names, links to the guest's / and two levels up, a loop, and a sparse file far larger than an editor takes.
    const made = ODD_NAMES.map((n, i) => `printf 'odd-${i}' > ${shellQuote(n)}`).join(" && ");
    await guest(
      `mkdir -p ~/t && cd ~/t && echo original > edit-me.txt && ${made} && ln -s / root-link && ln -s ../../ up-link && ln -s loop loop && dd if=/dev/zero of=huge bs=1 count=0 seek=200M 2>/dev/null`,
    );

    // The Machines view gives a running machine a Files node over the same file system.
    await vscode.commands.executeCommand("workbench.view.extension.hangar");
    let machine: vscode.TreeItem | undefined;
    await until(
      async () => {
        const group = (await api.machinesTree.getChildren()).find((r) => labelOf(r) === `${folder}/Vagrantfile`);
        machine = group && (await api.machinesTree.getChildren(group as never))[0];
        return machine?.description === "running";
      },
      "the machine's item to say running",
      // The view evaluates the Vagrantfile (ruby.wasm) for each refresh: under CI's load beside the Debian box test, over 15 s.
      60_000,
    );
    const [files] = await api.machinesTree.getChildren(machine as never);
    assert.equal(labelOf(files), "Files");
    assert.equal(files.resourceUri?.scheme, "hangar-machine");
    root = files.resourceUri!;
    const top = (await api.machinesTree.getChildren(files as never)).map(labelOf);
    for (const name of ["etc", "home", "vagrant"]) assert.ok(top.includes(name), `/ lists ${name}: ${top.join(", ")}`);

    const vagrant = await vscode.workspace.fs.readDirectory(at("/vagrant"));
    assert.deepEqual(
      vagrant.find(([n]) => n === "Vagrantfile"),
      ["Vagrantfile", vscode.FileType.File],
      "/vagrant is the project folder",
    );
    const etc = new Map(await vscode.workspace.fs.readDirectory(at("/etc")));
    assert.equal(etc.get("passwd"), vscode.FileType.File);

    // Opened from the command as a user would (path given), edited and saved in the editor.
    const opened = await vscode.commands.executeCommand<string>("hangar.machine.browseFiles", ref, "/home/vagrant/t/edit-me.txt");
    assert.equal(vscode.Uri.parse(opened!).scheme, "hangar-machine");
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.toString(), opened);
    assert.equal(editor.document.getText(), "original\n");
    await editor.edit((e) => e.replace(new vscode.Range(0, 0, 1, 0), "edited in VS Code\n"));
    assert.ok(await editor.document.save(), "the editor saved the file");
    const [edited, before] = (await guest("cat ~/t/edit-me.txt; stat -c %U ~/t/edit-me.txt; echo ---; cat /etc/passwd")).split("---\n");
    assert.equal(edited, "edited in VS Code\nvagrant\n");
    passwd = before;

    // The guest's permissions hold: its user cannot write /etc/passwd, and nothing changes.
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(at("/etc/passwd"), Buffer.from("x"))), (e: unknown) => e instanceof vscode.FileSystemError && e.code === "NoPermissions");
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(at("/home/vagrant/t/missing"))), (e: unknown) => e instanceof vscode.FileSystemError && e.code === "FileNotFound");

    if (remakeWalkthroughMedia) {
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
      await vscode.commands.executeCommand("hangar.machines.focus");
      await waitForText(`${SIDEBAR} .monaco-list-row`, (rows) => rows.some((r) => /default\s*running/.test(r)));
      // Room for the machine's files: the other views folded (their headers clicked), unfolded again after.
      const others = ["Boxes", "Images", "Containers", "Registries"];
      for (const title of others) await click(`${SIDEBAR} .pane-header:has-text("${title}")`);
      // Expanded as a user would: the machine, then its Files.
      await click(`${SIDEBAR} .monaco-list-row:has-text("running"):has-text("default")`);
      await waitForText(`${SIDEBAR} .monaco-list-row`, (rows) => rows.some((r) => r.trim() === "Files"));
      await click(`${SIDEBAR} .monaco-list-row[aria-label^="Files"]`);
      await waitForText(`${SIDEBAR} .monaco-list-row`, (rows) => rows.some((r) => r.trim() === "vagrant"));
      await keepAsWalkthroughMedia(await screenshot("walkthrough-machine", viewPane("Machines")), "machine");
      for (const title of others) await click(`${SIDEBAR} .pane-header:has-text("${title}")`);
      const terminal = await vscode.commands.executeCommand<vscode.Terminal>("hangar.machine.openTerminal", ref);
      const pty = () => api.terminals().ptys.find((p) => p.target.name === "default");
      await until(() => /[$#] /.test(pty()?.transcript ?? ""), "a prompt", 30_000);
      terminal.sendText("clear; uname -a; ls /vagrant; echo done-$((6*7))");
      await until(() => Boolean(pty()?.transcript.includes("done-42")), "the commands' output", 20_000);
      await keepAsWalkthroughMedia(await screenshot("walkthrough-terminal", ".part.panel"), "terminal");
      terminal.dispose();
    }
  });

  it("keeps what a hostile guest names, links and sizes inside the guest", async () => {
    assert.ok(root, "the first test found the machine's Files");
    const hostBefore = await fs.readdir(path.dirname(ref.vagrantfile));

    const listed = new Map(await vscode.workspace.fs.readDirectory(at("/home/vagrant/t")));
    for (const [i, name] of ODD_NAMES.entries()) {
      assert.ok(listed.has(name), `${JSON.stringify(name)} is listed as named (have ${JSON.stringify([...listed.keys()])})`);
      const uri = at("/home/vagrant/t").with({ path: path.posix.join("/home/vagrant/t", name) });
      assert.equal(Buffer.from(await vscode.workspace.fs.readFile(uri)).toString(), `odd-${i}`, `${JSON.stringify(name)} reads the guest's file`);
    }
    // A link is the guest's to resolve: to the guest's /, and to the guest's /home.
    assert.equal(listed.get("root-link"), vscode.FileType.SymbolicLink | vscode.FileType.Directory);
    const viaLink = (await vscode.workspace.fs.readDirectory(at("/home/vagrant/t/root-link"))).map(([n]) => n);
    assert.deepEqual(
      viaLink,
      (await vscode.workspace.fs.readDirectory(at("/"))).map(([n]) => n),
    );
    assert.ok(viaLink.includes("vagrant"), "the guest's root (it has /vagrant)");
    // (/etc/passwd as the guest has it, unchanged by the refused write in the first test)
    assert.equal(await guest("cat /etc/passwd"), passwd);
    assert.match(passwd, /^vagrant:/m);
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(at("/home/vagrant/t/root-link/etc/passwd"))).toString(), passwd);
    assert.deepEqual(
      (await vscode.workspace.fs.readDirectory(at("/home/vagrant/t/up-link"))).map(([n]) => n),
      (await vscode.workspace.fs.readDirectory(at("/home"))).map(([n]) => n),
    );
    // `..` in a URI stops at the guest's root.
    assert.equal(Buffer.from(await vscode.workspace.fs.readFile(at("/home/../../../../etc/passwd"))).toString(), passwd);
    // A loop fails as an error, not a hang.
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(at("/home/vagrant/t/loop"))), vscode.FileSystemError);
    // 200 MB is refused from its stated size, at once.
    const t0 = Date.now();
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(at("/home/vagrant/t/huge"))), (e: unknown) => e instanceof vscode.FileSystemError && /200 MiB/.test(e.message));
    assert.ok(Date.now() - t0 < 5000, `refused in ${Date.now() - t0} ms`);

    // Written through VS Code under an odd name: the file is the guest's, and no host folder gained anything.
    await vscode.workspace.fs.writeFile(at("/home/vagrant/t/..%2F..%2Fwritten.txt"), Buffer.from("from the host"));
    assert.deepEqual(await fs.readdir(path.dirname(ref.vagrantfile)), hostBefore);
    for (const name of ODD_NAMES) await assert.rejects(fs.stat(path.join(os.homedir(), name)));
    await assert.rejects(fs.stat(path.join(path.dirname(ref.vagrantfile), "escaped.txt")));

    // Rename and delete (recursive, links removed, never followed).
    await vscode.workspace.fs.rename(at("/home/vagrant/t/spaced name.txt"), at("/home/vagrant/t/renamed.txt"));
    await vscode.workspace.fs.createDirectory(at("/home/vagrant/t/sub"));
    await vscode.workspace.fs.writeFile(at("/home/vagrant/t/sub/f.txt"), Buffer.from("f"));
    await vscode.workspace.fs.delete(at("/home/vagrant/t/sub"), { recursive: true });
    await vscode.workspace.fs.delete(at("/home/vagrant/t/root-link"));
    // (and the sparse file goes, or halt would keep all 200 MB of it)
    await vscode.workspace.fs.delete(at("/home/vagrant/t/huge"));
    assert.equal(
      await guest(
        "cat ~/t/..%2F..%2Fwritten.txt; echo; ls ~/t/renamed.txt; test -e ~/t/sub || echo sub-gone; test -L ~/t/root-link || echo link-gone; test -e ~/t/huge || echo huge-gone; ls / | grep -c vagrant; ps | grep -c [s]ftp-server",
      ),
      // The last line: every request above went over one SFTP session (one sftp-server in the guest).
      "from the host\n/home/vagrant/t/renamed.txt\nsub-gone\nlink-gone\nhuge-gone\n1\n1\n",
    );
  });

  it("fails cleanly once the machine halts", async () => {
    assert.ok(root, "the first test found the machine's Files");
    await vscode.commands.executeCommand("hangar.machine.halt", ref);
    const t0 = Date.now();
    await assert.rejects(
      Promise.resolve(vscode.workspace.fs.readFile(at("/home/vagrant/t/edit-me.txt"))),
      // "poweroff": the halted machine's connection was dropped, and a new one refused before any SSH, with the way out.
      (e: unknown) => e instanceof vscode.FileSystemError && /machine 'default' is poweroff; run `hangar up default` first/i.test(e.message),
    );
    assert.ok(Date.now() - t0 < 15_000, `failed in ${Date.now() - t0} ms`);
  });
});
