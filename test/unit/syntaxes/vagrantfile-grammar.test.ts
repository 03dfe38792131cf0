// Tokenizes Vagrantfiles with the real TextMate engine (vscode-textmate +
// vscode-oniguruma, as VS Code does) and checks the scopes of chosen tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as vsctm from "vscode-textmate";
import * as oniguruma from "vscode-oniguruma";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const GRAMMAR_FILE = path.join(ROOT, "syntaxes", "vagrantfile.tmLanguage.json");
const CASES = path.join(__dirname, "cases");
const SCOPE = "source.ruby.vagrantfile";

// A deliberately greedy stand-in for VS Code's shell grammar: its strings and
// if-blocks span lines, so a heredoc with an unbalanced quote would swallow the
// rest of the file if the terminator line depended on the shell grammar.
const STUB_SHELL = vsctm.parseRawGrammar(
  JSON.stringify({
    scopeName: "source.shell",
    patterns: [
      { begin: "'", end: "'", name: "string.quoted.single.shell" },
      { begin: '"', end: '"', name: "string.quoted.double.shell" },
      { begin: "\\bif\\b", end: "\\bfi\\b", name: "meta.scope.if-block.shell", patterns: [{ include: "$self" }] },
      { match: "\\becho\\b", name: "support.function.builtin.shell" },
    ],
  }),
  "stub-shell.json",
);

let onigReady: Promise<vsctm.IOnigLib> | undefined;
function onigLib(): Promise<vsctm.IOnigLib> {
  onigReady ??= (async () => {
    const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
    await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength) as ArrayBuffer);
    return {
      createOnigScanner: (patterns: string[]) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s: string) => new oniguruma.OnigString(s),
    };
  })();
  return onigReady;
}

async function loadGrammar(withShell: boolean): Promise<vsctm.IGrammar> {
  const registry = new vsctm.Registry({
    onigLib: onigLib(),
    loadGrammar: async (scopeName) => {
      if (scopeName === SCOPE) return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR_FILE, "utf8"), GRAMMAR_FILE);
      if (scopeName === "source.shell" && withShell) return STUB_SHELL;
      return null; // e.g. source.shell when VS Code's shell grammar is not there
    },
  });
  const grammar = await registry.loadGrammar(SCOPE);
  assert.ok(grammar, "grammar loads");
  return grammar;
}

interface Token {
  text: string;
  start: number;
  end: number;
  scopes: string[];
}

class Tokenized {
  readonly lines: string[];
  readonly tokens: Token[][] = [];
  readonly finalDepth: number;

  constructor(grammar: vsctm.IGrammar, source: string) {
    this.lines = source.split(/\r?\n/);
    let state = vsctm.INITIAL;
    for (const line of this.lines) {
      const r = grammar.tokenizeLine(line, state);
      this.tokens.push(r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), start: t.startIndex, end: t.endIndex, scopes: t.scopes })));
      state = r.ruleStack;
    }
    this.finalDepth = state.depth;
  }

  /** Tokens covering `needle` in the `nth` line containing `lineText` (default: the needle itself);
   *  the needle is looked for inside `lineText` first, else anywhere on that line. */
  at(needle: string, lineText: string = needle, nth = 0): Token[] {
    const rows = this.lines.map((l, i) => [l, i] as const).filter(([l]) => l.includes(lineText));
    const row = rows[nth];
    assert.ok(row, `no line #${nth} containing ${JSON.stringify(lineText)}`);
    const [line, index] = row;
    const inText = lineText.indexOf(needle);
    const col = inText >= 0 ? line.indexOf(lineText) + inText : line.indexOf(needle);
    assert.ok(col >= 0, `${JSON.stringify(needle)} not in line ${index + 1}: ${line}`);
    return this.tokens[index].filter((t) => t.end > col && t.start < col + needle.length);
  }

  /** Non-blank tokens of the first non-blank line after the line that is exactly `line`. */
  lineAfter(line: string): Token[] {
    const at = this.lines.indexOf(line);
    assert.ok(at >= 0, `no line ${JSON.stringify(line)}`);
    const next = this.lines.findIndex((l, i) => i > at && l.trim() !== "");
    assert.ok(next > at, `nothing after ${JSON.stringify(line)}`);
    return this.tokens[next].filter((t) => t.text.trim() !== "");
  }

  /** Scopes of the single token that is exactly `needle`. */
  token(needle: string, lineText: string = needle, nth = 0): string[] {
    const found = this.at(needle, lineText, nth);
    assert.equal(found.length, 1, `${JSON.stringify(needle)} should be one token, got ${describe(found)}`);
    assert.equal(found[0].text, needle, `token boundaries around ${JSON.stringify(needle)}: ${describe(found)}`);
    return found[0].scopes;
  }
}

function describe(tokens: Token[]): string {
  return tokens.map((t) => `${JSON.stringify(t.text)} [${t.scopes.slice(1).join(" ")}]`).join(", ");
}

function matches(scope: string, selector: string): boolean {
  return scope === selector || scope.startsWith(selector + ".");
}

function has(scopes: string[], selector: string): boolean {
  return scopes.some((s) => matches(s, selector));
}

/** Every token covering the needle carries a scope matching `selector` (a scope prefix). */
function assertAll(tokens: Token[], selector: string, what: string): void {
  assert.ok(tokens.length > 0, `${what}: no tokens`);
  for (const t of tokens) assert.ok(has(t.scopes, selector), `${what}: expected ${selector} on ${describe([t])}`);
}

/** No token covering the needle carries a scope matching `selector`. */
function assertNone(tokens: Token[], selector: string, what: string): void {
  assert.ok(tokens.length > 0, `${what}: no tokens`);
  for (const t of tokens) assert.ok(!has(t.scopes, selector), `${what}: unexpected ${selector} on ${describe([t])}`);
}

function assertScope(scopes: string[], selector: string, what: string): void {
  assert.ok(has(scopes, selector), `${what}: expected ${selector} in [${scopes.join(" ")}]`);
}

function assertNoScope(scopes: string[], selector: string, what: string): void {
  assert.ok(!has(scopes, selector), `${what}: unexpected ${selector} in [${scopes.join(" ")}]`);
}

function readCase(name: string): string {
  return fs.readFileSync(path.join(CASES, name), "utf8");
}

test("grammar file: scope name and no dependency on the Ruby grammar", () => {
  const raw = JSON.parse(fs.readFileSync(GRAMMAR_FILE, "utf8"));
  assert.equal(raw.scopeName, SCOPE);
  const includes = JSON.stringify(raw).match(/"include":\s*"[^"]*"/g) ?? [];
  assert.ok(includes.length > 0);
  for (const inc of includes) assert.doesNotMatch(inc, /source\.ruby/, "must not include source.ruby");
  const langConfig = JSON.parse(fs.readFileSync(path.join(ROOT, "language-configuration", "vagrantfile.json"), "utf8"));
  assert.equal(langConfig.comments.lineComment, "#");
  assert.deepEqual(langConfig.comments.blockComment, ["=begin", "=end"]);
  const start = new RegExp(langConfig.folding.markers.start);
  const end = new RegExp(langConfig.folding.markers.end);
  assert.ok(start.test('Vagrant.configure("2") do |config|'));
  assert.ok(start.test("  node.vm.provider :virtualbox do |vb| # comment"));
  assert.ok(!start.test("  puts 'x' if ready"));
  assert.ok(end.test("  end"));
  const inc = new RegExp(langConfig.indentationRules.increaseIndentPattern);
  const dec = new RegExp(langConfig.indentationRules.decreaseIndentPattern);
  assert.ok(inc.test("  (1..3).each do |i|"));
  assert.ok(!inc.test('  config.vm.box = "debian"'));
  assert.ok(dec.test("  end"));
});

test("multi-machine Vagrantfile: comments, Vagrant API, config keys, loops, interpolation", async () => {
  const doc = new Tokenized(await loadGrammar(false), readCase("multi-machine.Vagrantfile"));
  assert.equal(doc.finalDepth, 1, "every construct is closed at the end of the file");

  // comments
  assertAll(doc.at("# -*- mode: ruby -*-"), "comment.line.number-sign.ruby", "modeline");
  assertScope(doc.token("#", "# vi: set"), "punctuation.definition.comment.ruby", "comment punctuation");
  assertAll(doc.at("=begin"), "comment.block.documentation.ruby", "=begin");
  assertAll(doc.at("config.vm.box inside this block"), "comment.block.documentation.ruby", "block comment body");
  assertNone(doc.at("config.vm.box inside this block"), "support.function.vagrant", "code words in a block comment");
  assertAll(doc.at("=end"), "comment.block.documentation.ruby", "=end");
  assertAll(doc.at("# a trailing comment"), "comment.line.number-sign.ruby", "trailing comment");
  assertNone(doc.at('"vagrant-vbguest is not installed"'), "comment", "string before a trailing comment");

  // Vagrant API
  assertScope(doc.token("Vagrant", "Vagrant.require_version"), "support.class.vagrant", "Vagrant");
  assertScope(doc.token("require_version"), "support.function.vagrant", "require_version");
  assertScope(doc.token("has_plugin?"), "support.function.vagrant", "has_plugin?");
  assertScope(doc.token("Vagrant", "Vagrant.configure"), "support.class.vagrant", "Vagrant before configure");
  assertScope(doc.token("configure"), "support.function.vagrant", "configure");
  assertScope(doc.token("VAGRANTFILE_API_VERSION", "Vagrant.configure"), "variable.other.constant.ruby", "API version constant");
  assertScope(doc.token("VAGRANTFILE_API_VERSION", "VAGRANTFILE_API_VERSION = "), "variable.other.constant.ruby", "constant definition");
  assertScope(doc.token("config", "|config|"), "variable.parameter.block.ruby", "block parameter");
  assertScope(doc.token("|", "|config|"), "punctuation.separator.variable.ruby", "block parameter bar");
  assertScope(doc.token("do", "|config|"), "keyword.control.ruby", "do");

  // config.<namespace>.<key>
  assertScope(doc.token("config", "config.vm.box ="), "variable.other.object.vagrant", "config receiver");
  assertScope(doc.token("vm", "config.vm.box ="), "support.type.namespace.vagrant", "vm namespace");
  assertScope(doc.token("box", "config.vm.box ="), "support.function.vagrant", "box key");
  assertScope(doc.token("box_check_update"), "support.function.vagrant", "box_check_update key");
  assertScope(doc.token("ssh", "config.ssh.insert_key"), "support.type.namespace.vagrant", "ssh namespace");
  assertScope(doc.token("insert_key"), "support.function.vagrant", "insert_key key");
  assertScope(doc.token("vagrant", "config.vagrant.plugins"), "support.type.namespace.vagrant", "vagrant namespace");
  assertScope(doc.token("winrm"), "support.type.namespace.vagrant", "winrm namespace");
  assertScope(doc.token("synced_folder"), "support.function.vagrant", "synced_folder");
  assertScope(doc.token("define"), "support.function.vagrant", "define");
  assertScope(doc.token("provider"), "support.function.vagrant", "provider");
  assertScope(doc.token("provision"), "support.function.vagrant", "provision");
  assertScope(doc.token("ENV"), "support.constant.ruby", "ENV");
  assertScope(doc.token("false", "insert_key"), "constant.language.boolean.ruby", "false");
  assertScope(doc.token("1800"), "constant.numeric.ruby", "number");

  // node.vm.* inside the define block
  assertScope(doc.token("node", "node.vm.hostname"), "variable.other.object.vagrant", "node receiver");
  assertScope(doc.token("vm", "node.vm.hostname"), "support.type.namespace.vagrant", "node's vm");
  assertScope(doc.token("hostname"), "support.function.vagrant", "hostname");
  assertScope(doc.token("network", "node.vm.network :private_network"), "support.function.vagrant", "network");
  assertScope(doc.token("box_version", "override.vm.box_version"), "support.function.vagrant", "override.vm.box_version");
  // provider settings are not Vagrant config keys
  assertNoScope(doc.token("memory", "vb.memory"), "support.function.vagrant", "vb.memory");
  assertNone(doc.at("vb", "vb.memory"), "variable.other.object.vagrant", "vb receiver");

  // hashes, symbols, literals
  assertAll(doc.at("ip:", '"web" =>'), "constant.other.symbol.hashkey.ruby", "hash key");
  assertScope(doc.token("=>", '"web" =>'), "punctuation.separator.key-value.ruby", "hash rocket");
  assertAll(doc.at("primary:"), "constant.other.symbol.hashkey.ruby", "keyword argument");
  assertScope(doc.token("count", "opts[:count]"), "constant.other.symbol.ruby", "symbol");
  assertScope(doc.token(":", "opts[:count]"), "punctuation.definition.constant.ruby", "symbol colon");
  assertScope(doc.token("private_network"), "constant.other.symbol.ruby", ":private_network");
  assertAll(doc.at("%w[curl git nginx]"), "string.quoted.other.literal.ruby", "%w[]");
  assertAll(doc.at("/\\d+$/"), "string.regexp", "regexp argument");
  assertScope(doc.token("last", "|last|"), "variable.parameter.block.ruby", "brace block parameter");

  // loops and keywords
  assertScope(doc.token("each", "NODES.each"), "keyword.control.loop.ruby", "each");
  assertScope(doc.token("role", "|role, opts|"), "variable.parameter.block.ruby", "first loop parameter");
  assertScope(doc.token("opts", "|role, opts|"), "variable.parameter.block.ruby", "second loop parameter");
  assertScope(doc.token("..", "(1..opts"), "keyword.operator.range.ruby", "range");
  assertScope(doc.token("unless"), "keyword.control.ruby", "unless");
  assertScope(doc.token("if", 'if role == "web"'), "keyword.control.ruby", "modifier if");
  assertScope(doc.token("puts"), "support.function.kernel.ruby", "puts");
  assertScope(doc.token("end", "end", doc.lines.filter((l) => l.includes("end")).length - 1), "keyword.control.ruby", "last end");

  // interpolation
  const nameLine = 'name = "#{role}-#{i}"';
  assertScope(doc.token("#{", nameLine), "punctuation.section.embedded.begin.ruby", "#{");
  assertScope(doc.token("role", nameLine), "meta.embedded.line.ruby", "interpolated expression");
  assertScope(doc.token("role", nameLine), "string.quoted.double.ruby", "interpolation sits in its string");
  assertScope(doc.token("}", nameLine), "punctuation.section.embedded.end.ruby", "}");
  assertNoScope(doc.token("-", nameLine), "meta.embedded", "string text between interpolations");
  assertScope(doc.token("-", nameLine), "string.quoted.double.ruby", "string text between interpolations");
  assertAll(doc.at("#{name}", "node.vm.hostname"), "meta.embedded.line.ruby", "#{name}");
  assertNone(doc.at(".local"), "meta.embedded", "text after #{name}");
});

test("heredoc provisioner: body is a string, the opener's line and the code after it are Ruby", async () => {
  const doc = new Tokenized(await loadGrammar(false), readCase("multi-machine.Vagrantfile"));
  const opener = 'inline: <<-SHELL, run: "always"';
  assertScope(doc.token("<<-SHELL", opener), "string.unquoted.heredoc.ruby", "opener");
  assertScope(doc.token("<<-SHELL", opener), "punctuation.definition.string.begin.ruby", "opener");
  assertAll(doc.at("inline:", opener), "constant.other.symbol.hashkey.ruby", "inline:");
  assertAll(doc.at("run:", opener), "constant.other.symbol.hashkey.ruby", "run: after the opener");
  assertNone(doc.at("run:", opener), "string", "run: after the opener");
  assertScope(doc.token("always", opener), "string.quoted.double.ruby", "argument after the opener");
  assertNoScope(doc.token("always", opener), "string.unquoted.heredoc", "argument after the opener");

  assertAll(doc.at("set -e"), "string.unquoted.heredoc.ruby", "heredoc body");
  assertAll(doc.at("set -e"), "source.shell", "shell heredoc body");
  assertAll(doc.at("$(whoami)"), "string.unquoted.heredoc.ruby", "shell substitution stays string");
  assertNone(doc.at("$(whoami)"), "meta.embedded.line.ruby", "shell substitution is not Ruby interpolation");
  assertAll(doc.at("#{name}", "provisioning"), "meta.embedded.line.ruby", "interpolation in heredoc");
  assertScope(doc.token("PACKAGES", "apt-get install"), "variable.other.constant.ruby", "Ruby inside heredoc interpolation");
  assertAll(doc.at("if [", "if ["), "string.unquoted.heredoc.ruby", "shell if");
  assertNone(doc.at("if [", "if ["), "keyword.control.ruby", "shell if is not a Ruby keyword");
  assertNone(doc.at("# a shell comment"), "comment.line.number-sign.ruby", "# in a heredoc");
  assertAll(doc.at("fi", "          fi"), "string.unquoted.heredoc.ruby", "fi");

  const terminator = doc.token("SHELL", "        SHELL");
  assertScope(terminator, "punctuation.definition.string.end.ruby", "terminator");
  const after = doc.lineAfter("        SHELL");
  assert.deepEqual(
    after.map((t) => t.text),
    ["end"],
  );
  assertAll(after, "keyword.control.ruby", "end after the heredoc");
  assertNone(after, "string", "end after the heredoc");
});

test("heredoc forms: <<~, <<-'QUOTED', bare <<EOF, method call on the opener, %q and %Q", async () => {
  const doc = new Tokenized(await loadGrammar(false), readCase("heredocs.Vagrantfile"));
  assert.equal(doc.finalDepth, 1, "every construct is closed at the end of the file");

  // <<~SCRIPT, the Vagrant docs' form
  assertAll(doc.at("$script", "$script = <<~SCRIPT"), "variable.other.readwrite.global.ruby", "global");
  assertScope(doc.token("<<~SCRIPT"), "string.unquoted.heredoc.ruby", "<<~ opener");
  assertAll(doc.at('echo "I am provisioning..."'), "string.unquoted.heredoc.ruby", "<<~ body");
  assertNone(doc.at('"I am provisioning..."'), "string.quoted.double.ruby", "quotes in a heredoc are not Ruby strings");
  assertScope(doc.token("SCRIPT", "SCRIPT", 1), "punctuation.definition.string.end.ruby", "SCRIPT terminator");

  // <<-'SHELL': no interpolation
  assertAll(doc.at("#{not_interpolated}"), "string.unquoted.heredoc", "quoted heredoc body");
  assertNone(doc.at("#{not_interpolated}"), "meta.embedded.line.ruby", "no interpolation in <<-'SHELL'");
  assertScope(doc.token("SHELL", "  SHELL", 0), "punctuation.definition.string.end.ruby", "indented terminator");

  // <<EOF: interpolates, terminator only at column 0
  assertScope(doc.token("ENV", "Welcome to"), "meta.embedded.line.ruby", "interpolation in <<EOF");
  assertAll(doc.at("'s box"), "string.unquoted.heredoc.ruby", "text after interpolation");
  assertAll(doc.at("  EOF", "  EOF"), "string.unquoted.heredoc.ruby", "indented EOF is body text");
  assertNone(doc.at("  EOF", "  EOF"), "punctuation.definition.string.end", "indented EOF does not end <<EOF");
  assertAll(doc.at("this indented EOF"), "string.unquoted.heredoc.ruby", "body after the indented EOF");
  const eofLine = doc.lines.indexOf("EOF");
  assert.ok(eofLine > 0);
  assertAll(doc.tokens[eofLine], "punctuation.definition.string.end.ruby", "column-0 EOF ends <<EOF");

  // <<-BANNER.strip: the method call is Ruby, the body is not
  assertNoScope(doc.token("strip"), "string", ".strip after the opener");
  assertAll(doc.at("end do if # none"), "string.unquoted.heredoc.ruby", "keywords in a heredoc");
  assertNone(doc.at("end do if # none"), "keyword", "keywords in a heredoc");
  assertNone(doc.at("end do if # none"), "comment", "# in a heredoc");

  // opener inside parentheses, unbalanced quote in the body
  const parenOpener = 'config.vm.provision("shell", inline: <<~SHELL)';
  assertScope(doc.token(")", parenOpener), "punctuation.section.function.end.ruby", ") after the opener");
  assertNoScope(doc.token(")", parenOpener), "string", ") after the opener");
  assertAll(doc.at("echo 'unbalanced"), "string.unquoted.heredoc.ruby", "unbalanced quote body");
  const next = 'config.vm.provision "shell" do |s|';
  assertScope(doc.token("provision", next), "support.function.vagrant", "code after the heredoc");
  assertNoScope(doc.token("provision", next), "string", "code after the heredoc");
  assertScope(doc.token("s", "|s|"), "variable.parameter.block.ruby", "block parameter after the heredoc");

  // percent literals
  assertAll(doc.at('%q(echo "a (nested) literal" #{x})'), "string.quoted.other.literal.ruby", "%q() with nested parens");
  assertNone(doc.at("#{x}", "%q("), "meta.embedded", "%q does not interpolate");
  assertAll(doc.at("#{MOTD.length}"), "meta.embedded.line.ruby", "%Q interpolates");
  assertAll(doc.at('"two"}', "%Q{"), "string.quoted.other.interpolated.ruby", "%Q{} body");
  assertScope(doc.token("=", "s.args ="), "keyword.operator.assignment.ruby", "code before %Q");

  // trigger namespace, symbols, escapes
  assertScope(doc.token("trigger", "config.trigger.after"), "support.type.namespace.vagrant", "trigger namespace");
  assertScope(doc.token("after", "config.trigger.after"), "support.function.vagrant", "after key");
  assertScope(doc.token("up", ":up do"), "constant.other.symbol.ruby", ":up");
  assertScope(doc.token("\\'", "Done: it"), "constant.character.escape.ruby", "escaped quote");
  assertAll(doc.at("s up'", "Done: it"), "string.quoted.single.ruby", "string continues after \\'");
});

test("with a shell grammar: heredoc bodies are embedded shell and still end at their terminator", async () => {
  const doc = new Tokenized(await loadGrammar(true), readCase("heredocs.Vagrantfile"));
  assert.equal(doc.finalDepth, 1, "every construct is closed at the end of the file");
  const echo = doc.token("echo", 'echo "I am provisioning..."');
  assertScope(echo, "support.function.builtin.shell", "shell grammar tokenizes the body");
  assertScope(echo, "string.unquoted.heredoc.ruby", "body keeps the heredoc scope");
  assertScope(echo, "meta.embedded.block.shell", "body is marked as embedded shell");

  // the stub's ' string and if-block never close, yet the terminator ends them
  assertAll(doc.at("'unbalanced"), "string.quoted.single.shell", "open shell string");
  assertScope(doc.token("SHELL", "  SHELL", 1), "punctuation.definition.string.end.ruby", "terminator after an open shell string");
  const next = 'config.vm.provision "shell" do |s|';
  assertScope(doc.token("provision", next), "support.function.vagrant", "code after the heredoc");
  assertNoScope(doc.token("provision", next), "source.shell", "code after the heredoc");
  assertNoScope(doc.token("provision", next), "string", "code after the heredoc");

  // literal heredoc: shell, but no Ruby interpolation even inside shell strings
  assertAll(doc.at("#{not_interpolated}"), "string.quoted.double.shell", "shell string");
  assertNone(doc.at("#{not_interpolated}"), "meta.embedded.line.ruby", "no interpolation in <<-'SHELL'");

  const multi = new Tokenized(await loadGrammar(true), readCase("multi-machine.Vagrantfile"));
  assert.equal(multi.finalDepth, 1);
  // #{...} inside a shell string of an interpolating heredoc is still Ruby
  const name = multi.token("name", "provisioning #{name}");
  assertScope(name, "string.quoted.double.shell", "inside the shell string");
  assertScope(name, "meta.embedded.line.ruby", "interpolation inside the shell string");
  const after = multi.lineAfter("        SHELL");
  assertAll(after, "keyword.control.ruby", "end after the heredoc");
  assertNone(after, "source.shell", "end after the heredoc");
});

test("the sample workspace's Vagrantfile tokenizes cleanly", async (t) => {
  const sample = path.join(ROOT, "samples", "workspace", "Vagrantfile");
  if (!fs.existsSync(sample)) return t.skip("no sample Vagrantfile");
  const doc = new Tokenized(await loadGrammar(false), fs.readFileSync(sample, "utf8"));
  assert.equal(doc.finalDepth, 1, "every construct is closed at the end of the file");
  assertScope(doc.token("configure"), "support.function.vagrant", "configure");
  const last = doc.tokens
    .map((line) => line.filter((tok) => tok.text.trim()))
    .filter((line) => line.length)
    .at(-1);
  assert.ok(last);
  assertAll(last, "keyword.control.ruby", "the file ends with end");
});
