/**
 * What the text before a position says about it: which blocks are open there
 * (`Vagrant.configure … do |config|`, `config.vm.provider "virtualbox" do |vb|`,
 * …), what each block parameter stands for, and which Vagrant call's
 * arguments a position is in. Shared by completion and hover.
 */
import { statementStart, type RubyScan } from "./ruby-scan";
import { PROVISIONER_TYPES } from "../provisioner-types";

/** What a block parameter is, judged by the call whose block declares it. */
export type ReceiverRole =
  | { kind: "config" }
  | { kind: "provider"; provider: string }
  | { kind: "provisioner"; type: string }
  /** A parameter of some other block (`each do |name|`): nothing Hangar knows. */
  | { kind: "other" };

export interface BlockFrame {
  kind: "do" | "brace" | "keyword" | "loop";
  /** Offset of the opening token. */
  at: number;
  params: string[];
  roles: ReceiverRole[];
  /** For `while … do`: whether the `do` on its line was seen (it opens no block). */
  sawDo?: boolean;
}

const KEYWORDS = /(?<![\w.:$@])(?:do|end|def|class|module|if|unless|while|until|for|case|begin)(?![\w?!:])|[{}]/g;

/**
 * The blocks still open at the end of `scan` (innermost last). Ruby's
 * statement modifiers (`x if y`) and `while … do` open nothing; an endless
 * `def f = …` opens nothing. Unclosed blocks (the one being typed) stay open.
 */
export function openBlocks(scan: RubyScan): BlockFrame[] {
  const { masked } = scan;
  const frames: BlockFrame[] = [];
  KEYWORDS.lastIndex = 0;
  for (let m = KEYWORDS.exec(masked); m; m = KEYWORDS.exec(masked)) {
    const token = m[0];
    const at = m.index;
    const lineStart = masked.lastIndexOf("\n", at - 1) + 1;
    const before = masked.slice(lineStart, at).trimEnd();
    const top = frames[frames.length - 1];
    switch (token) {
      case "{":
      case "do": {
        if (token === "do" && top?.kind === "loop" && !top.sawDo && !masked.slice(top.at, at).includes("\n")) {
          top.sawDo = true;
          break;
        }
        const params = /^(?:do|\{)\s*\|([^|]*)\|/.exec(masked.slice(at, at + 200));
        const names = params ? params[1].split(",").map((p) => /^\s*[*&]*([a-z_]\w*)/.exec(p)?.[1] ?? "") : [];
        const roles = rolesFor(scan, statementStart(masked, at), at, token === "{", names.length);
        frames.push({ kind: token === "do" ? "do" : "brace", at, params: names, roles });
        break;
      }
      case "}": {
        const idx = findLastIndex(frames, (f) => f.kind === "brace");
        if (idx !== -1) frames.length = idx;
        break;
      }
      case "end": {
        const idx = findLastIndex(frames, (f) => f.kind !== "brace");
        if (idx !== -1) frames.length = idx;
        break;
      }
      case "def":
        if (/^def\s+(?:self\.)?[\w]+[?!=]?\s*(?:\([^)]*\))?\s*=(?![=~>])/.test(masked.slice(at, at + 200))) break; // endless def
        frames.push({ kind: "keyword", at, params: [], roles: [] });
        break;
      case "if":
      case "unless":
      case "while":
      case "until":
        // A modifier (`x if y`) follows an expression; a statement starts a line or follows an operator.
        if (before !== "" && !/(?:[=(;,[{|&!?:]|\b(?:and|or|not|then|else|do|return|begin))$/.test(before)) break;
        frames.push({ kind: token === "while" || token === "until" ? "loop" : "keyword", at, params: [], roles: [] });
        break;
      case "for":
        frames.push({ kind: "loop", at, params: [], roles: [] });
        break;
      default: // class, module, case, begin
        frames.push({ kind: "keyword", at, params: [], roles: [] });
    }
  }
  return frames;
}

function findLastIndex<T>(items: T[], pred: (item: T) => boolean): number {
  for (let k = items.length - 1; k >= 0; k--) if (pred(items[k])) return k;
  return -1;
}

const ARG = String.raw`(?:["']([\w-]+)["']|:(\w+))`;

/**
 * Roles of a block's parameters, from the statement before its `do` or `{`
 * (`headerStart` to `at`). A `do` block belongs to the statement's first call
 * (Ruby binds it to the outermost call), a `{ }` block to the call right before it.
 */
function rolesFor(scan: RubyScan, headerStart: number, at: number, brace: boolean, count: number): ReceiverRole[] {
  const roles: ReceiverRole[] = Array.from({ length: count }, () => ({ kind: "other" }));
  if (!count) return roles;
  const masked = scan.masked.slice(headerStart, at);
  const call = brace ? /([A-Za-z_]\w*(?:\.[A-Za-z_]\w*[?!]?)*)\s*(?:\([^()]*\))?\s*$/.exec(masked) : /^\s*(?:[a-z_]\w*\s*=\s*)?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*[?!]?)*)/.exec(masked);
  if (!call) return roles;
  const target = call[1];
  const args = scan.code.slice(headerStart + call.index + call[0].length, at);
  if (target === "Vagrant.configure" || /^[a-z_]\w*\.vm\.define$/.test(target)) {
    roles[0] = { kind: "config" };
  } else if (/^[a-z_]\w*\.vm\.provider$/.test(target)) {
    const name = new RegExp(String.raw`^\s*\(?\s*${ARG}`).exec(args);
    if (name) roles[0] = { kind: "provider", provider: name[1] ?? name[2] };
    // `do |vb, override|`: the second parameter is the machine's config, for provider-specific overrides.
    if (count > 1) roles[1] = { kind: "config" };
  } else if (/^[a-z_]\w*\.vm\.provision$/.test(target)) {
    const type = provisionerType(args);
    if (type) roles[0] = { kind: "provisioner", type };
  }
  return roles;
}

/**
 * The provisioner type of `provision` arguments: the first argument when it is
 * a type (`"shell"`), else a `type:` option (`"setup", type: "shell"`).
 */
export function provisionerType(args: string): string | null {
  const first = new RegExp(String.raw`^\s*\(?\s*${ARG}`).exec(args);
  if (!first) return null;
  const name = first[1] ?? first[2];
  if (PROVISIONER_TYPES.has(name)) return name;
  const type = new RegExp(String.raw`\btype:\s*${ARG}`).exec(args);
  return type ? (type[1] ?? type[2]) : null;
}

/** What `name` stands for where `frames` are open; null when it is no block parameter there. */
export function resolveReceiver(frames: BlockFrame[], name: string): ReceiverRole | null {
  for (let k = frames.length - 1; k >= 0; k--) {
    const idx = frames[k].params.indexOf(name);
    if (idx !== -1) return frames[k].roles[idx] ?? { kind: "other" };
  }
  return null;
}

/** A Vagrant call whose keyword options a position is among. */
export interface OptionContext {
  call: "network" | "provision" | "synced_folder";
  /** The network kind or provisioner type, e.g. "forwarded_port", "shell"; "" for synced_folder. */
  kind: string;
  /** Options already given in the call. */
  used: Set<string>;
}

/**
 * Whether `pos` is where a keyword option of `recv.vm.network "kind", …`,
 * `recv.vm.provision "type", …` or `recv.vm.synced_folder "host", "guest", …`
 * may start: right after a top-level comma of the call's arguments.
 * `scan` covers the text up to `pos`, `frames` are the blocks open there.
 */
export function optionContextAt(scan: RubyScan, frames: BlockFrame[], pos: number): OptionContext | null {
  const start = statementStart(scan.masked, pos);
  const masked = scan.masked.slice(start, pos);
  const code = scan.code.slice(start, pos);
  if (!/,\s*$/.test(masked)) return null;
  const re = /(?<![\w.:@$])([a-z_]\w*)\.vm\.(network|provision|synced_folder)\b/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(masked); m; m = re.exec(masked)) last = m;
  if (!last) return null;
  const role = resolveReceiver(frames, last[1]);
  if (role?.kind !== "config") return null;
  const argsAt = last.index + last[0].length;
  const maskedArgs = masked.slice(argsAt);
  const codeArgs = code.slice(argsAt);
  // The arguments must be at the call's own level: not inside a hash, array or nested call.
  const paren = /^\s*\(/.test(maskedArgs);
  let depth = 0;
  let commas = 0;
  for (const ch of maskedArgs) {
    if ("([{".includes(ch)) depth++;
    else if (")]}".includes(ch)) depth--;
    else if (ch === "," && depth === (paren ? 1 : 0)) commas++;
    if (depth < 0 || (paren && depth === 0 && ch === ")")) return null;
  }
  if (depth !== (paren ? 1 : 0)) return null;
  const used = new Set([...maskedArgs.matchAll(/(?<![\w:])(\w+):(?!:)/g)].map((m) => m[1]));
  const call = last[2] as OptionContext["call"];
  if (call === "synced_folder") return commas >= 2 ? { call, kind: "", used } : null;
  const first = new RegExp(String.raw`^\s*\(?\s*${ARG}\s*,`).exec(codeArgs);
  if (!first) return null;
  const kind = call === "provision" ? provisionerType(codeArgs) : (first[1] ?? first[2]);
  return kind ? { call, kind, used } : null;
}

/** A string argument whose value Hangar knows the choices of. */
export interface ValueContext {
  call: "network" | "provider" | "provision";
  /** Offsets of the literal's contents (between the quotes, or to `pos` when unclosed). */
  contentStart: number;
}

/**
 * Whether the string literal opened at `scan.stringStart` is the first
 * argument of `recv.vm.network`, `recv.vm.provider` or `recv.vm.provision`.
 */
export function valueContextOf(scan: RubyScan, frames: BlockFrame[]): ValueContext | null {
  if (scan.mode !== "string" || (scan.stringQuote !== '"' && scan.stringQuote !== "'")) return null;
  const q = scan.stringStart;
  const start = statementStart(scan.masked, q);
  const m = /(?<![\w.:@$])([a-z_]\w*)\.vm\.(network|provider|provision)\s*\(?\s*$/.exec(scan.masked.slice(start, q));
  if (!m || resolveReceiver(frames, m[1])?.kind !== "config") return null;
  return { call: m[2] as ValueContext["call"], contentStart: q + 1 };
}
