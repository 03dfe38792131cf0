/**
 * Hover docs for Vagrantfiles, in the same places completion offers names:
 * `config.vm.box`, `config.ssh.username`, `vb.memory` in a provider block,
 * `inline:` in a provision call, `"forwarded_port"`, `Vagrant.configure`, …
 */
import { KNOWN_PROVIDERS, NAMESPACE_DOCS, NAMESPACES, NETWORK_KINDS, type SettingDoc } from "../vagrant-settings";
import type { HoverData } from "./language-types";
import { lineStartOf, scanRuby } from "./ruby-scan";
import { attributesOf, optionsFor } from "./vagrantfile-completion";
import { PROVISIONER_TYPE_DOCS, VAGRANT_METHODS, providerDoc } from "./vagrantfile-docs";
import { openBlocks, optionContextAt, resolveReceiver, valueContextOf } from "./vagrantfile-context";

export function computeHover(text: string, offset: number): HoverData | null {
  const word = wordAt(text, offset);
  if (!word) return null;
  const name = text.slice(word.start, word.end);
  const scan = scanRuby(text, word.start);
  if (scan.mode === "comment" || scan.mode === "heredoc") return null;
  const frames = openBlocks(scan);
  const found = (title: string, doc: SettingDoc | undefined, start = word.start, end = word.end): HoverData | null =>
    doc ? { contents: `**\`${title}\`**\n\n${doc.doc}`, range: { start, end } } : null;

  if (scan.mode === "string") {
    const ctx = valueContextOf(scan, frames);
    // The whole literal must be the word: `"forwarded_port"`, not `"my forwarded_port"`.
    if (!ctx || ctx.contentStart !== word.start || !/^["']/.test(text[word.end] ?? "")) return null;
    if (ctx.call === "network")
      return found(
        name,
        NETWORK_KINDS.find((d) => d.name === name),
      );
    if (ctx.call === "provision")
      return found(
        name,
        PROVISIONER_TYPE_DOCS.find((d) => d.name === name),
      );
    return found(name, { name, doc: KNOWN_PROVIDERS.includes(name) ? providerDoc(name) : `The \`${name}\` provider, unknown to Hangar: its settings are kept but not used.` });
  }
  if (scan.mode !== "code") return null;

  // `Vagrant` of `Vagrant.configure`: the doc of the pair.
  if (name === "Vagrant" && /^\.configure\b/.test(text.slice(word.end))) {
    return found("Vagrant.configure", VAGRANT_METHODS[0], word.start, word.end + ".configure".length);
  }

  const line = scan.masked.slice(lineStartOf(scan.masked, word.start), word.start);
  const member = /(?<![\w.:@$])([A-Za-z_]\w*)\.(?:([a-z_]\w*)\.)?$/.exec(line);
  if (member) {
    const [, recv, ns] = member;
    if (recv === "Vagrant" && !ns) {
      return found(
        `Vagrant.${name}`,
        VAGRANT_METHODS.find((d) => d.name === name),
        name === "configure" ? word.start - "Vagrant.".length : word.start,
      );
    }
    const role = resolveReceiver(frames, recv);
    if (!role) return null;
    if (role.kind === "config") {
      const docs = ns ? NAMESPACES[ns] : NAMESPACE_DOCS;
      return found(
        ns ? `${recv}.${ns}.${name}` : `${recv}.${name}`,
        docs?.find((d) => d.name === name),
      );
    }
    if (ns) return null;
    return found(
      `${recv}.${name}`,
      attributesOf(role)?.find((d) => d.name === name),
    );
  }

  // A keyword option: `inline:` in `provision "shell", inline: …`.
  if (/^:(?!:)/.test(text.slice(word.end)) && text[word.start - 1] !== ":") {
    const ctx = optionContextAt(scan, frames, word.start);
    const options = ctx && optionsFor(ctx);
    if (!options) return null;
    const doc = options.docs.find((d) => d.name === name);
    return doc ? { contents: `**\`${name}:\`** — ${options.what} option\n\n${doc.doc}`, range: { start: word.start, end: word.end } } : null;
  }
  return null;
}

/** The identifier (with a trailing `?`/`!`) at `offset`, or just before it. */
function wordAt(text: string, offset: number): { start: number; end: number } | null {
  const isWord = (ch: string | undefined): boolean => ch !== undefined && /\w/.test(ch);
  let at = offset;
  if (!isWord(text[at]) && isWord(text[at - 1])) at--;
  if (!isWord(text[at])) return null;
  let start = at;
  while (isWord(text[start - 1])) start--;
  let end = at;
  while (isWord(text[end])) end++;
  if (text[end] === "?" || text[end] === "!") end++;
  if (/^\d/.test(text[start])) return null;
  return { start, end };
}
