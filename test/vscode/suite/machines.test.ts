import * as assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import * as path from "node:path";
import * as vscode from "vscode";
import { activateHangar, until, workspaceRoot } from "./helpers";
import { screenshot, uiBridgeAvailable, waitForText } from "./ui-bridge";

const SIDEBAR = ".part.sidebar";
const boxHome = process.env.HANGAR_TEST_BOX_HOME;

/** The tail of the "Hangar" output channel, from its log file. */
async function hangarLog(dir: vscode.Uri): Promise<string> {
  const files = await fs.readdir(dir.fsPath).catch(() => [] as string[]);
  const texts = await Promise.all(files.map((f) => fs.readFile(path.join(dir.fsPath, f), "utf8").catch(() => "")));
  return texts.join("\n").split("\n").slice(-40).join("\n");
}

describe("Machines view, terminals and /vagrant (real guest)", function () {
  this.timeout(240_000);
  const folder = "uitest";
  let vagrantfile: vscode.Uri;

  before(async function () {
    if (!boxHome) this.skip(); // the launchers provide a HANGAR_HOME with the default box
    await vscode.workspace.getConfiguration("hangar").update("home", boxHome, vscode.ConfigurationTarget.Global);
    const dir = vscode.Uri.joinPath(workspaceRoot(), folder);
    await fs.mkdir(dir.fsPath, { recursive: true });
    vagrantfile = vscode.Uri.joinPath(dir, "Vagrantfile");
    await fs.mkdir(path.join(dir.fsPath, "rs"), { recursive: true });
    await fs.writeFile(
      vagrantfile.fsPath,
      [
        'Vagrant.configure("2") do |config|',
        '  config.vm.box = "hangar/debian-busybox"',
        '  config.vm.synced_folder "rs", "/srv/rs", type: "rsync"',
        '  config.vm.provider "hangar" do |h|',
        "    h.memory = 128",
        "  end",
        "end",
        "",
      ].join("\n"),
    );
  });

  after(async () => {
    if (!boxHome) return;
    try {
      await vscode.commands.executeCommand("hangar.machine.destroy", { vagrantfile: vagrantfile.fsPath, name: "default" }, { confirm: false });
    } finally {
      await vscode.workspace.getConfiguration("hangar").update("home", undefined, vscode.ConfigurationTarget.Global);
      await fs.rm(path.dirname(vagrantfile.fsPath), { recursive: true, force: true });
    }
  });

  it("lists every Vagrantfile's machines, grouped, with their states", async () => {
    const api = await activateHangar();
    await vscode.commands.executeCommand("workbench.view.extension.hangar");
    const provider = api.machinesTree;
    let roots: vscode.TreeItem[] = [];
    await until(
      async () => {
        roots = await provider.getChildren();
        return roots.some((r) => r.label === `${folder}/Vagrantfile`);
      },
      "two Vagrantfile groups (samples' and uitest's)",
      30_000,
    );
    assert.deepEqual(
      roots.map((r) => r.label),
      ["Vagrantfile", `${folder}/Vagrantfile`],
    );
    const sample = await provider.getChildren(roots[0] as never);
    assert.deepEqual(
      sample.map((m) => [m.label, m.description, m.contextValue]),
      [
        ["web", "not created", "machine.not_created"],
        ["db", "not created", "machine.not_created"],
      ],
    );
    const ours = await provider.getChildren(roots[1] as never);
    assert.deepEqual(
      ours.map((m) => [m.label, m.description]),
      [["default", "not created"]],
    );
  });

  it("up from the view moves the machine to running; a terminal runs commands in the guest", async () => {
    const api = await activateHangar();
    const provider = api.machinesTree;
    const group = (await provider.getChildren()).find((r) => r.label === `${folder}/Vagrantfile`);
    assert.ok(group, "the uitest Vagrantfile's group");
    const [item] = await provider.getChildren(group as never);
    assert.equal(item.contextValue, "machine.not_created");
    const started = await vscode.commands.executeCommand<{ state: string } | undefined>("hangar.machine.up", item);
    assert.equal(started?.state, "running", `up did not start the machine; Hangar's log:\n${await hangarLog(api.logUri)}`);
    await until(
      async () => {
        const g = (await provider.getChildren()).find((r) => r.label === `${folder}/Vagrantfile`)!;
        return (await provider.getChildren(g as never))[0]?.description === "running";
      },
      "the machine's item to say running",
      15_000,
    );

    const terminal = await vscode.commands.executeCommand<vscode.Terminal>("hangar.machine.openTerminal", item);
    assert.ok(terminal, "a terminal opens");
    const pty = () => api.terminals().ptys.find((p) => p.target.name === "default");
    await until(
      () => /[$#] /.test(pty()?.transcript ?? ""),
      () => `the guest's shell prompt (transcript: ${JSON.stringify(pty()?.transcript.slice(-300))})`,
      30_000,
    );
    terminal.sendText("uname -m; whoami; echo exit-$((40+2))");
    await until(() => Boolean(pty()?.transcript.includes("exit-42")), `uname's output (transcript: ${JSON.stringify(pty()?.transcript.slice(-300))})`, 20_000);
    assert.match(pty()!.transcript, /\bi686\b/);
    assert.match(pty()!.transcript, /\bvagrant\b/, "terminals log in as the box's user");

    // The pty has the terminal's size, and a full-screen program draws to it: vi fills every row but its status line with "~".
    const dims = pty()!.dimensions;
    assert.ok(dims, "VS Code gave the terminal a size");
    terminal.sendText("stty size");
    await until(
      () => pty()!.transcript.includes(`${dims.rows} ${dims.columns}`),
      `stty size to print ${dims.rows} ${dims.columns} (transcript: ${JSON.stringify(pty()?.transcript.slice(-200))})`,
      20_000,
    );
    const before = pty()!.transcript.length;
    terminal.sendText("vi /tmp/fullscreen.txt");
    await until(() => (pty()!.transcript.slice(before).match(/~/g) ?? []).length >= dims.rows - 2, "vi to draw its screen", 20_000);
    const drawn = pty()!.transcript.slice(before);
    assert.match(drawn.split("\u001b").join("ESC"), /ESC\[(\d+;\d+)?H/, "vi positions the cursor");
    // Keys as a person types them: an Escape that arrives with the next key in one read is taken for an escape sequence.
    terminal.sendText("ihello from vi", false);
    await new Promise((r) => setTimeout(r, 500));
    terminal.sendText("\x1b", false);
    await new Promise((r) => setTimeout(r, 500));
    terminal.sendText(":wq");
    terminal.sendText("cat /tmp/fullscreen.txt; echo vi-exit-$?");
    await until(
      () => pty()!.transcript.includes("vi-exit-0"),
      () => `vi to save and quit (transcript: ${JSON.stringify(pty()?.transcript.slice(-400))})`,
      20_000,
    );
    assert.match(pty()!.transcript.slice(before), /hello from vi\r?\n/);

    // A file saved in the editor is in the guest at once (/vagrant is the project folder).
    const file = vscode.Uri.joinPath(workspaceRoot(), folder, "saved-in-editor.txt");
    await fs.writeFile(file.fsPath, "");
    const doc = await vscode.workspace.openTextDocument(file);
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((e) => e.insert(new vscode.Position(0, 0), "typed in VS Code\n"));
    await doc.save();
    terminal.sendText("cat /vagrant/saved-in-editor.txt");
    await until(() => Boolean(pty()?.transcript.includes("typed in VS Code")), "the saved file's content in the guest", 20_000);

    // An rsync-type folder is followed while VS Code is open (built-in rsync-auto).
    await fs.writeFile(path.join(workspaceRoot().fsPath, folder, "rs", "copied.txt"), "followed by rsync-auto\n");
    await until(
      async () => {
        terminal.sendText("cat /srv/rs/copied.txt 2>/dev/null || echo not-yet");
        await new Promise((r) => setTimeout(r, 1000));
        return Boolean(pty()?.transcript.includes("followed by rsync-auto"));
      },
      "the rsync folder's new file in the guest",
      30_000,
    );

    if (uiBridgeAvailable) {
      terminal.sendText("clear; uname -a; ls /vagrant");
      await new Promise((r) => setTimeout(r, 1500));
      await vscode.commands.executeCommand("workbench.view.extension.hangar");
      await waitForText(`${SIDEBAR} .monaco-list-row`, (rows) => rows.some((r) => /default\s*running/.test(r)));
      console.log(`    screenshots: ${await screenshot("hangar-machines-view", SIDEBAR)}, ${await screenshot("hangar-machine-terminal")}`);
    }
    terminal.sendText("exit 3");
    const closed = await new Promise<vscode.Terminal>((resolve) => vscode.window.onDidCloseTerminal((t) => t === terminal && resolve(t)));
    assert.equal(closed.exitStatus?.code, 3, "the terminal closes with the shell's exit code");
  });

  it("closing VS Code suspends the workspace's running machines; the next up resumes them with their files", async () => {
    const api = await activateHangar();
    const ref = { vagrantfile: vagrantfile.fsPath, name: "default" };
    const terminal = await vscode.commands.executeCommand<vscode.Terminal>("hangar.machine.openTerminal", ref);
    const pty = () => api.terminals().ptys.find((p) => p.target.name === "default");
    await until(
      () => /[$#] /.test(pty()?.transcript ?? ""),
      () => `a prompt (transcript: ${JSON.stringify(pty()?.transcript.slice(-300))})`,
      30_000,
    );
    terminal.sendText("echo still-here > ~/memo; echo wrote-$((1+1))-memo");
    await until(() => Boolean(pty()?.transcript.includes("wrote-2-memo")), "the memo to be written", 20_000);
    terminal.dispose();
    await api.suspendOnClose();
    const state = async (): Promise<string | undefined> => {
      const g = (await api.machinesTree.getChildren()).find((r) => r.label === `${folder}/Vagrantfile`)!;
      return (await api.machinesTree.getChildren(g as never))[0]?.description as string | undefined;
    };
    api.machinesTree.refresh();
    await until(async () => (await state()) === "saved", "the machine to be saved", 15_000);
    await vscode.commands.executeCommand("hangar.machine.up", ref);
    await until(async () => (await state()) === "running", "the machine to run again", 15_000);
    const again = await vscode.commands.executeCommand<vscode.Terminal>("hangar.machine.openTerminal", ref);
    await until(
      () => /[$#] /.test(pty()?.transcript ?? ""),
      () => `a prompt (transcript: ${JSON.stringify(pty()?.transcript.slice(-300))})`,
      30_000,
    );
    again.sendText("cat ~/memo");
    await until(() => Boolean(pty()?.transcript.includes("still-here")), "the file written before the suspend", 20_000);
    again.dispose();
  });
});
