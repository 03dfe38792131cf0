import { test } from "node:test";
import assert from "node:assert/strict";
import { computeCompletions } from "../../../../../src/core/vagrantfile/language/vagrantfile-completion";
import type { CompletionItemData } from "../../../../../src/core/vagrantfile/language/language-types";
import {
  FORWARDED_PORT_OPTIONS,
  KNOWN_PROVIDERS,
  PROVIDER_SETTINGS,
  SHELL_PROVISIONER_OPTIONS,
  SSH_ATTRIBUTES,
  SYNCED_FOLDER_OPTIONS,
  VM_ATTRIBUTES,
  VM_METHODS,
} from "../../../../../src/core/vagrantfile/vagrant-settings";
import { atCursor, inConfigure } from "./cursor";

function complete(source: string): CompletionItemData[] {
  const { text, offset } = atCursor(source);
  return computeCompletions(text, offset);
}
const labels = (source: string): string[] => complete(source).map((i) => i.label);
const find = (items: CompletionItemData[], label: string): CompletionItemData => {
  const found = items.find((i) => i.label === label);
  assert.ok(found, `no item ${label} among ${items.map((i) => i.label).join(", ")}`);
  return found;
};

test("after the configure block's parameter: the namespaces", () => {
  assert.deepEqual(labels(inConfigure("config.‸")), ["vm", "ssh", "vagrant", "winrm", "winssh"]);
  const vm = find(complete(inConfigure("config.v‸")), "vm");
  assert.equal(vm.kind, "property");
  assert.equal(vm.detail, "config.vm");
  assert.match(vm.documentation, /box, networks/);
  // The typed part is what the item replaces.
  const { offset } = atCursor(inConfigure("config.v‸"));
  assert.deepEqual(vm.range, { start: offset - 1, end: offset });
});

test("the parameter keeps whatever name the block gives it", () => {
  assert.deepEqual(labels('Vagrant.configure("2") do |c|\n  c.‸\nend\n'), ["vm", "ssh", "vagrant", "winrm", "winssh"]);
  assert.deepEqual(labels('Vagrant.configure("2") { |cfg| cfg.‸ }\n'), ["vm", "ssh", "vagrant", "winrm", "winssh"]);
  // `config` is no block parameter here: nothing to offer.
  assert.deepEqual(labels('Vagrant.configure("2") do |c|\n  config.‸\nend\n'), []);
});

test("after config.vm.: attributes as `name = `, methods as snippets", () => {
  const items = complete(inConfigure("config.vm.‸"));
  assert.deepEqual(
    items.map((i) => i.label),
    [...VM_ATTRIBUTES, ...VM_METHODS].map((d) => d.name),
  );
  const box = find(items, "box");
  assert.equal(box.kind, "property");
  assert.equal(box.insertText, "box = ");
  assert.equal(box.isSnippet, false);
  assert.equal(box.detail, "config.vm.box");
  assert.match(box.documentation, /Name of the box/);
  const network = find(items, "network");
  assert.equal(network.kind, "method");
  assert.equal(network.isSnippet, true);
  assert.match(network.insertText, /^network "\$\{1\|forwarded_port,private_network,public_network\|\}"/);
  // Items keep the docs' order.
  assert.ok(box.sortText < find(items, "hostname").sortText);
});

test("renaming an existing setting replaces the whole name and adds no second `=`", () => {
  const { text, offset } = atCursor(inConfigure('config.vm.bo‸x_url = "x"'));
  const box = find(computeCompletions(text, offset), "box");
  assert.equal(box.insertText, "box");
  assert.equal(text.slice(box.range.start, box.range.end), "box_url");
  const provider = find(complete(inConfigure('config.vm.prov‸ "hangar" do |h|', "end")), "provider");
  assert.equal(provider.isSnippet, false);
  assert.equal(provider.insertText, "provider");
});

test("in a define block, the define's parameter is a config too", () => {
  const source = [
    "MACHINES = %w[web db]",
    'Vagrant.configure("2") do |config|',
    "  MACHINES.each do |name|",
    '    config.vm.define name, primary: name == "web" do |node|',
    "      node.vm.‸",
    "    end",
    "  end",
    "end",
  ].join("\n");
  assert.ok(labels(source).includes("hostname"));
  // `name` comes from `each`: Hangar knows nothing about it.
  assert.deepEqual(labels(source.replace("node.vm.‸", "node.vm.box = 1\n      name.‸")), []);
});

test("after config.ssh.: the SSH settings", () => {
  assert.deepEqual(
    labels(inConfigure("config.ssh.‸")),
    SSH_ATTRIBUTES.map((d) => d.name),
  );
  assert.deepEqual(labels(inConfigure("config.nosuch.‸")), []);
});

test("network kinds inside the first string of config.vm.network", () => {
  const { text, offset } = atCursor(inConfigure('config.vm.network "fo‸"'));
  const items = computeCompletions(text, offset);
  assert.deepEqual(
    items.map((i) => i.label),
    ["forwarded_port", "private_network", "public_network"],
  );
  const forwarded = items[0];
  assert.equal(forwarded.kind, "value");
  assert.equal(forwarded.insertText, "forwarded_port");
  // Replaces what was typed inside the quotes, not the quotes.
  assert.equal(text.slice(forwarded.range.start, forwarded.range.end), "fo");
  assert.deepEqual(labels(inConfigure('config.vm.network("‸")')), ["forwarded_port", "private_network", "public_network"]);
});

test('provider names after provider ", provisioner types after provision "', () => {
  assert.deepEqual(labels(inConfigure('config.vm.provider "‸"')), KNOWN_PROVIDERS);
  assert.deepEqual(labels(inConfigure("config.vm.provider '‸'")), KNOWN_PROVIDERS);
  assert.deepEqual(labels(inConfigure('config.vm.provision "‸"')), ["shell", "file"]);
});

test("forwarded_port options as `key: `, after the comma, without the ones already given", () => {
  const items = complete(inConfigure('config.vm.network "forwarded_port", ‸'));
  assert.deepEqual(
    items.map((i) => i.label),
    FORWARDED_PORT_OPTIONS.map((d) => `${d.name}:`),
  );
  assert.equal(find(items, "guest:").insertText, "guest: ");
  assert.equal(find(items, "guest:").kind, "property");
  assert.match(find(items, "guest:").documentation, /Port in the guest/);
  // Triggered by the comma itself: the item brings its space.
  assert.equal(find(complete(inConfigure('config.vm.network "forwarded_port",‸')), "guest:").insertText, " guest: ");
  const rest = labels(inConfigure('config.vm.network "forwarded_port", guest: 80, h‸'));
  assert.ok(!rest.includes("guest:"));
  assert.ok(rest.includes("host:") && rest.includes("host_ip:"));
  // Continued on the next line.
  assert.ok(labels(inConfigure('config.vm.network "forwarded_port",', "  guest: 80,", "  ‸")).includes("host:"));
});

test("private_network and public_network options", () => {
  assert.deepEqual(labels(inConfigure('config.vm.network "private_network", ‸')), ["ip:", "type:", "netmask:", "auto_config:", "virtualbox__intnet:"]);
  assert.ok(labels(inConfigure("config.vm.network :public_network, ‸")).includes("bridge:"));
});

test("shell and file provisioner options, also for a named provisioner with type:", () => {
  assert.deepEqual(
    labels(inConfigure('config.vm.provision "shell", ‸')),
    SHELL_PROVISIONER_OPTIONS.map((d) => `${d.name}:`),
  );
  assert.deepEqual(labels(inConfigure('config.vm.provision "file", ‸')).slice(0, 2), ["source:", "destination:"]);
  const named = labels(inConfigure('config.vm.provision "setup", type: "shell", ‸'));
  assert.ok(named.includes("inline:") && !named.includes("type:"));
  assert.deepEqual(labels(inConfigure('config.vm.provision "ansible", ‸')), []);
});

test("synced_folder options only after the host and guest paths", () => {
  assert.deepEqual(
    labels(inConfigure('config.vm.synced_folder ".", "/vagrant", ‸')),
    SYNCED_FOLDER_OPTIONS.map((d) => `${d.name}:`),
  );
  assert.deepEqual(labels(inConfigure('config.vm.synced_folder ".", ‸')), []);
});

test("no options where a value goes, nor inside a nested hash", () => {
  assert.deepEqual(labels(inConfigure('config.vm.network "forwarded_port", guest: ‸')), []);
  assert.deepEqual(labels(inConfigure('config.vm.provision "shell", env: { "A" => "1", ‸ }')), []);
  assert.deepEqual(labels(inConfigure('config.vm.provision "shell", args: ["a", ‸]')), []);
});

test("in a provider block, the parameter gets provider settings, not vm settings", () => {
  const block = (line: string): string => inConfigure('config.vm.provider "virtualbox" do |vb|', `  ${line}`, "end");
  const items = complete(block("vb.‸"));
  assert.deepEqual(
    items.map((i) => i.label),
    PROVIDER_SETTINGS.map((d) => d.name),
  );
  assert.equal(find(items, "memory").insertText, "memory = ");
  assert.equal(find(items, "customize").isSnippet, true);
  assert.ok(!items.some((i) => i.label === "box" || i.label === "vm"));
  assert.deepEqual(labels(block("vb.vm.‸")), []);
  // The second parameter of a provider block overrides the machine's config.
  assert.ok(labels(inConfigure('config.vm.provider "virtualbox" do |vb, override|', "  override.vm.‸", "end")).includes("box"));
  // Outside the block, `vb` means nothing.
  assert.deepEqual(labels(inConfigure('config.vm.provider "virtualbox" do |vb|', "  vb.memory = 1", "end", "vb.‸")), []);
  // The outer config is still reachable inside.
  assert.ok(labels(block("config.vm.‸")).includes("box"));
});

test("in a provision block, the parameter gets the provisioner's options as attributes", () => {
  const items = complete(inConfigure('config.vm.provision "shell" do |s|', "  s.‸", "end"));
  assert.deepEqual(
    items.map((i) => i.label),
    SHELL_PROVISIONER_OPTIONS.map((d) => d.name),
  );
  assert.equal(find(items, "inline").insertText, "inline = ");
  assert.ok(labels(inConfigure('config.vm.provision "file" do |f|', "  f.‸", "end")).includes("destination"));
});

test("nothing in comments, heredoc bodies, other strings, or unknown receivers", () => {
  assert.deepEqual(labels(inConfigure("# config.vm.‸")), []);
  assert.deepEqual(labels(inConfigure('config.vm.box = "x" # config.‸')), []);
  assert.deepEqual(labels(inConfigure('config.vm.box = "config.vm.‸"')), []);
  assert.deepEqual(labels(inConfigure('config.vm.hostname = "‸"')), []);
  assert.deepEqual(labels(inConfigure('config.vm.network "forwarded_port", id: "‸"')), []);
  assert.deepEqual(labels(inConfigure('config.vm.provision "shell", inline: <<-SHELL', "  config.vm.‸", "SHELL")), []);
  assert.deepEqual(labels(["=begin", "config.vm.‸", "=end"].join("\n")), []);
  assert.deepEqual(labels("config.vm.‸"), []);
  assert.deepEqual(labels(inConfigure("config.vm.box = 1", "x.‸")), []);
});

test("after a heredoc ends, and after blocks close, completion works again", () => {
  const source = inConfigure(
    'config.vm.provision "shell", inline: <<~SHELL',
    '  echo "a \\" quote" # not a comment',
    "SHELL",
    "[1, 2].each { |i| puts i }",
    "x = 1 if true",
    "def helper = 42",
    'config.vm.provider "hangar" do |h| h.memory = 1 end',
    "config.vm.‸",
  );
  assert.ok(labels(source).includes("box"));
});

test("after Vagrant.: configure as a snippet", () => {
  const configure = find(complete("Vagrant.‸"), "configure");
  assert.equal(configure.isSnippet, true);
  assert.match(configure.insertText, /^configure\("2"\) do \|\$\{1:config\}\|/);
});
