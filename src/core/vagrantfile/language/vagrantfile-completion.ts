/**
 * Completion for Vagrantfiles, from the text alone (no Ruby): what may follow
 * the cursor given the text before it on its line, the statement it
 * continues, and the blocks open there.
 *
 *   config.|                                  namespaces (vm, ssh, vagrant, winrm, winssh)
 *   config.vm.|   config.ssh.|                that namespace's settings (vm methods as snippets)
 *   config.vm.network "|"                     network kinds; likewise provider "|", provision "|"
 *   config.vm.network "forwarded_port", |     that kind's options as `key: `
 *   config.vm.provision "shell", |            shell (or file) provisioner options
 *   config.vm.synced_folder "a", "b", |       synced folder options
 *   provider "virtualbox" do |vb| vb.|        provider settings
 *   provision "shell" do |s| s.|              shell provisioner options as attributes
 *
 * `config` is whatever a `Vagrant.configure`/`define` block (or a provider
 * block's second parameter) names its parameter. Comments, heredoc bodies
 * and other strings get nothing.
 */
import {
  FILE_PROVISIONER_OPTIONS,
  FORWARDED_PORT_OPTIONS,
  KNOWN_PROVIDERS,
  NAMESPACE_DOCS,
  NAMESPACES,
  NETWORK_KINDS,
  PRIVATE_NETWORK_OPTIONS,
  PROVIDER_SETTINGS,
  PUBLIC_NETWORK_OPTIONS,
  SHELL_PROVISIONER_OPTIONS,
  SYNCED_FOLDER_OPTIONS,
  VM_METHODS,
  type SettingDoc,
} from "../vagrant-settings";
import type { CompletionItemData, CompletionKind, OffsetRange } from "./language-types";
import { lineStartOf, scanRuby, type RubyScan } from "./ruby-scan";
import { PROVISIONER_TYPE_DOCS, VAGRANT_METHODS, providerDoc } from "./vagrantfile-docs";
import { openBlocks, optionContextAt, resolveReceiver, valueContextOf, type BlockFrame, type OptionContext, type ReceiverRole } from "./vagrantfile-context";

/** Provider settings that are method calls, not `name = value`. */
const PROVIDER_SNIPPETS: Record<string, string> = {
  customize: 'customize ["${1:modifyvm}", :id, "${2:--memory}", "${3:1024}"]',
};

const METHOD_NAMES = new Set(VM_METHODS.map((m) => m.name));

export function computeCompletions(text: string, offset: number): CompletionItemData[] {
  const scan = scanRuby(text, offset);
  if (scan.mode === "comment" || scan.mode === "heredoc") return [];
  const frames = openBlocks(scan);
  if (scan.mode === "string") return valueCompletions(text, offset, scan, frames);
  return memberCompletions(text, offset, scan.masked, frames) ?? optionCompletions(text, offset, scan, frames) ?? [];
}

/** The `\w` run around `offset` (the part before it is what was typed). */
function wordAround(text: string, offset: number, before: string): OffsetRange {
  const after = /^[\w]*[?!]?/.exec(text.slice(offset))?.[0] ?? "";
  return { start: offset - before.length, end: offset + after.length };
}

/** `recv.|`, `recv.ns.|`, `Vagrant.|` */
function memberCompletions(text: string, offset: number, masked: string, frames: BlockFrame[]): CompletionItemData[] | null {
  const line = masked.slice(lineStartOf(masked, offset), offset);
  const m = /(?<![\w.:@$])([A-Za-z_]\w*)\.(?:([a-z_]\w*)\.)?(\w*)$/.exec(line);
  if (!m) return null;
  const [, recv, ns, partial] = m;
  const range = wordAround(text, offset, partial);
  // Editing the name of an existing `x.box = …` or `x.provider "…"`: replace the name only.
  const lineEnd = text.indexOf("\n", range.end);
  const bare = text.slice(range.end, lineEnd === -1 ? text.length : lineEnd).trim() !== "";
  if (recv === "Vagrant" && !ns) return VAGRANT_METHODS.map((d, i) => item(d, "method", `Vagrant.${d.name}`, bare ? d.name : (d.snippet ?? d.name), !bare, range, i));
  const role = resolveReceiver(frames, recv);
  if (!role) return [];
  if (role.kind === "config") {
    if (!ns) return NAMESPACE_DOCS.map((d, i) => item(d, "property", `${recv}.${d.name}`, d.name, false, range, i));
    const docs = NAMESPACES[ns];
    if (!docs) return [];
    return docs.map((d, i) => {
      const detail = `${recv}.${ns}.${d.name}`;
      if (ns === "vm" && METHOD_NAMES.has(d.name)) return item(d, "method", detail, bare ? d.name : (d.snippet ?? `${d.name} `), !bare && !!d.snippet, range, i);
      return item(d, "property", detail, bare ? d.name : `${d.name} = `, false, range, i);
    });
  }
  const attributes = ns ? null : attributesOf(role);
  if (!attributes) return [];
  return attributes.map((d, i) => {
    const snippet = role.kind === "provider" ? PROVIDER_SNIPPETS[d.name] : undefined;
    if (snippet) return item(d, "method", `${recv}.${d.name}`, bare ? d.name : snippet, !bare, range, i);
    return item(d, "property", `${recv}.${d.name}`, bare ? d.name : `${d.name} = `, false, range, i);
  });
}

/** The settings of a provider or provisioner block's parameter. */
export function attributesOf(role: ReceiverRole): SettingDoc[] | null {
  if (role.kind === "provider") return PROVIDER_SETTINGS;
  if (role.kind === "provisioner" && role.type === "shell") return SHELL_PROVISIONER_OPTIONS;
  if (role.kind === "provisioner" && role.type === "file") return FILE_PROVISIONER_OPTIONS;
  return null;
}

/** The keyword options of a call, by call and kind; null when Hangar knows none. */
export function optionsFor(ctx: OptionContext): { docs: SettingDoc[]; what: string } | null {
  if (ctx.call === "synced_folder") return { docs: SYNCED_FOLDER_OPTIONS, what: "synced_folder" };
  if (ctx.call === "network") {
    const docs = { forwarded_port: FORWARDED_PORT_OPTIONS, private_network: PRIVATE_NETWORK_OPTIONS, public_network: PUBLIC_NETWORK_OPTIONS }[ctx.kind];
    return docs ? { docs, what: ctx.kind } : null;
  }
  if (ctx.kind === "shell") return { docs: SHELL_PROVISIONER_OPTIONS, what: "shell provisioner" };
  if (ctx.kind === "file") return { docs: FILE_PROVISIONER_OPTIONS, what: "file provisioner" };
  return null;
}

/** `network "forwarded_port", |` and the like: options as `key: `. */
function optionCompletions(text: string, offset: number, scan: RubyScan, frames: BlockFrame[]): CompletionItemData[] | null {
  const partial = /\w*$/.exec(scan.masked)![0];
  const at = offset - partial.length;
  const ctx = optionContextAt(scan, frames, at);
  if (!ctx) return null;
  const options = optionsFor(ctx);
  if (!options) return [];
  const range = wordAround(text, offset, partial);
  // Right after the comma (trigger character `,`): put the space in too.
  const space = text[at - 1] === "," ? " " : "";
  const hasColon = /^\s*:(?!:)/.test(text.slice(range.end));
  return options.docs
    .filter((d) => !ctx.used.has(d.name))
    .map((d, i) => item(d, "property", `${options.what} option`, hasColon ? `${space}${d.name}` : `${space}${d.name}: `, false, range, i, `${d.name}:`));
}

/** Inside `network "|"`, `provider "|"`, `provision "|"`. */
function valueCompletions(text: string, offset: number, scan: RubyScan, frames: BlockFrame[]): CompletionItemData[] {
  const ctx = valueContextOf(scan, frames);
  if (!ctx) return [];
  const typed = text.slice(ctx.contentStart, offset);
  if (!/^[\w-]*$/.test(typed)) return [];
  const range = { start: ctx.contentStart, end: offset + (/^[\w-]*/.exec(text.slice(offset))?.[0].length ?? 0) };
  const values: SettingDoc[] = ctx.call === "network" ? NETWORK_KINDS : ctx.call === "provision" ? PROVISIONER_TYPE_DOCS : KNOWN_PROVIDERS.map((name) => ({ name, doc: providerDoc(name) }));
  return values.map((d, i) => item(d, "value", `${ctx.call} "${d.name}"`, d.name, false, range, i));
}

function item(d: SettingDoc, kind: CompletionKind, detail: string, insertText: string, isSnippet: boolean, range: OffsetRange, index: number, label = d.name): CompletionItemData {
  return { label, kind, detail, documentation: d.doc, insertText, isSnippet, range, sortText: String(index).padStart(3, "0") };
}
