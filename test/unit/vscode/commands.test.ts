// The command layout (src/vscode/commands/<noun>/<verb>.ts, one command a
// file, all behind registerCommands' one wrapper), checked by loading the
// real modules. They import `vscode`, which exists only in an extension host:
// a stand-in answers every name, and records what registerCommands registers.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import { describe, it } from "node:test";
import { globSync } from "glob";

const ROOT = path.resolve(__dirname, "../../..");
const COMMANDS_DIR = path.join(ROOT, "src/vscode/commands");

/** Any property, call or `new` gives another stand-in; `then` is absent so it is never taken for a promise. */
function anything(): object {
  return new Proxy(function () {}, {
    get: (_target, key) => (key === "then" ? undefined : key === "prototype" ? {} : anything()),
    apply: () => anything(),
    construct: () => anything(),
  });
}

const registered = new Map<string, Array<(...args: unknown[]) => Promise<unknown>>>();
const warnings: string[] = [];
let trusted = true;
// Own properties for what the tests look at; the prototype answers the rest (the namespace import copies own ones and keeps the prototype).
const vscodeStandIn = Object.assign(Object.create(anything()) as object, {
  commands: {
    registerCommand(id: string, handler: (...args: unknown[]) => Promise<unknown>) {
      registered.set(id, [...(registered.get(id) ?? []), handler]);
      return { dispose() {} };
    },
    executeCommand: () => Promise.resolve(undefined),
  },
  // A getter, not a value: Object.assign would read it once.
  workspace: Object.defineProperty(Object.create(anything()) as object, "isTrusted", { get: () => trusted }),
  window: Object.assign(Object.create(anything()) as object, {
    showWarningMessage: (message: string) => {
      warnings.push(message);
      return Promise.resolve(undefined);
    },
  }),
});
type Load = (request: string, parent: unknown, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const load = loader._load;
loader._load = (request, parent, isMain) => (request === "vscode" ? vscodeStandIn : load(request, parent, isMain));

interface Command {
  id: string;
  requiresTrust?: string;
  run: (...args: unknown[]) => unknown;
}
const isCommand = (x: unknown): x is Command => typeof x === "object" && x !== null && typeof (x as Command).id === "string" && typeof (x as Command).run === "function";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- after the stand-in is in place, which static imports would precede
const { COMMANDS, registerCommands } = require(path.join(COMMANDS_DIR, "registerCommands")) as { COMMANDS: Command[]; registerCommands(env: unknown): void };
const contributed = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { contributes: { commands: Array<{ command: string }> } }).contributes.commands.map((c) => c.command);
const logged: string[] = [];
const subscriptions: unknown[] = [];
registerCommands({ hangar: { extension: { subscriptions }, log: { warn: (m: string) => logged.push(m), error: () => undefined, show: () => undefined } }, trees: {} });

/** Every module under src/vscode/commands with the commands it exports. */
const files = globSync("**/*.ts", { cwd: COMMANDS_DIR, posix: true })
  .sort()
  .map((file) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- each file is loaded by the path the glob found
    const exports = require(path.join(COMMANDS_DIR, file)) as Record<string, unknown>;
    return { file, commands: Object.values(exports).filter(isCommand) };
  });

describe("VS Code commands", () => {
  it("registers every command package.json contributes, each exactly once, and no other", () => {
    const counts = [...registered].filter(([, handlers]) => handlers.length !== 1).map(([id, handlers]) => `${id} ×${handlers.length}`);
    assert.deepEqual(counts, [], "registered more than once");
    assert.deepEqual([...registered.keys()].sort(), [...contributed].sort());
    assert.equal(new Set(contributed).size, contributed.length, "package.json names a command twice");
    assert.equal(subscriptions.length, contributed.length, "every registration is disposed with the extension");
  });

  it("keeps one command per file, at <noun>/<verb>.ts, and registers every command file's command", () => {
    const crowded = files.filter((f) => f.commands.length > 1).map((f) => `${f.file}: ${f.commands.map((c) => c.id).join(", ")}`);
    assert.deepEqual(crowded, [], "files with more than one command");
    const commandFiles = files.filter((f) => f.commands.length === 1);
    assert.deepEqual(commandFiles.map((f) => f.commands[0].id).sort(), COMMANDS.map((c) => c.id).sort(), "the command files are the registered commands");
    for (const {
      file,
      commands: [command],
    } of commandFiles) {
      assert.ok(COMMANDS.includes(command), `${file}: ${command.id} is registered as exported`);
      assert.match(file, /^[a-z]+\/[a-z-]+\.ts$/, `${command.id} lives at <noun>/<verb>.ts`);
      // hangar.<noun>.<verb>: the file is named for the verb (hangar.showLog has no noun part).
      const verb = command.id.split(".")[2];
      if (verb)
        assert.equal(
          path.basename(file, ".ts"),
          verb.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
          `${command.id}'s file`,
        );
    }
  });

  it("declares Restricted Mode preconditions on exactly the commands that run workspace code", () => {
    const gated = COMMANDS.filter((c) => c.requiresTrust)
      .map((c) => c.id)
      .sort();
    assert.deepEqual(gated, [
      // Compose files run as code: they build images, read .env and mount host folders.
      "hangar.compose.down",
      "hangar.compose.downVolumes",
      "hangar.compose.logs",
      "hangar.compose.restart",
      "hangar.compose.up",
      "hangar.image.build",
      "hangar.image.buildAs",
      "hangar.machine.destroy",
      "hangar.machine.halt",
      "hangar.machine.package",
      "hangar.machine.provision",
      "hangar.machine.reload",
      "hangar.machine.resume",
      "hangar.machine.rsync",
      "hangar.machine.snapshotPop",
      "hangar.machine.snapshotPush",
      "hangar.machine.snapshotSave",
      "hangar.machine.suspend",
      "hangar.machine.up",
      "hangar.snapshot.delete",
      "hangar.snapshot.restore",
      "hangar.vagrantfile.validate",
    ]);
  });

  it("refuses a gated command in an untrusted workspace before its handler runs, with a warning", async () => {
    const up = COMMANDS.find((c) => c.id === "hangar.machine.up");
    assert.ok(up?.requiresTrust);
    const run = up.run;
    let ran = false;
    up.run = () => (ran = true);
    trusted = false;
    try {
      assert.equal(await registered.get("hangar.machine.up")?.[0](), undefined);
    } finally {
      trusted = true;
      up.run = run;
    }
    assert.equal(ran, false, "the handler did not run");
    assert.match(logged.at(-1) ?? "", /^hangar\.machine\.up: Running machine commands from a workspace Vagrantfile is off in Restricted Mode/);
    assert.match(warnings.at(-1) ?? "", /is off in Restricted Mode/);
  });
});
