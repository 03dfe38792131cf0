import { test } from "node:test";
import assert from "node:assert/strict";
import { computeHover } from "../../../../../src/core/vagrantfile/language/vagrantfile-hover";
import type { HoverData } from "../../../../../src/core/vagrantfile/language/language-types";
import { atCursor, inConfigure } from "./cursor";

function hover(source: string): (HoverData & { word: string }) | null {
  const { text, offset } = atCursor(source);
  const h = computeHover(text, offset);
  return h && { ...h, word: text.slice(h.range.start, h.range.end) };
}

test("config.vm.box: the box doc, over the word", () => {
  const h = hover(inConfigure('config.vm.b‸ox = "hangar/debian-busybox"'));
  assert.ok(h);
  assert.equal(h.word, "box");
  assert.match(h.contents, /^\*\*`config\.vm\.box`\*\*/);
  assert.match(h.contents, /Name of the box the machine is created from/);
  // At the word's end too (where an editor puts the cursor after typing it).
  assert.equal(hover(inConfigure('config.vm.box‸ = "x"'))?.word, "box");
});

test("namespaces, ssh settings and vm methods", () => {
  assert.match(hover(inConfigure("config.v‸m.box = 1"))?.contents ?? "", /Settings of the machine/);
  assert.match(hover(inConfigure('config.ssh.user‸name = "me"'))?.contents ?? "", /User to SSH in as/);
  assert.match(hover(inConfigure('config.vm.synced‸_folder ".", "/vagrant"'))?.contents ?? "", /Keeps a host folder in sync/);
  assert.equal(hover(inConfigure("config.vm.no‸such = 1")), null);
});

test("forwarded_port in a network call", () => {
  const h = hover(inConfigure('config.vm.network "forward‸ed_port", guest: 80, host: 8080'));
  assert.equal(h?.word, "forwarded_port");
  assert.match(h?.contents ?? "", /Forwards a host port to a guest port/);
  // The same word in another string is no network kind.
  assert.equal(hover(inConfigure('config.vm.hostname = "forward‸ed_port"')), null);
});

test("option keys: inline: in provision, guest: in forwarded_port, also on a continued line", () => {
  const inline = hover(inConfigure('config.vm.provision "shell", in‸line: "echo hi"'));
  assert.equal(inline?.word, "inline");
  assert.match(inline?.contents ?? "", /shell provisioner option/);
  assert.match(inline?.contents ?? "", /Shell script text to run in the guest/);
  assert.match(hover(inConfigure('config.vm.network "forwarded_port", guest: 80, ho‸st: 8080'))?.contents ?? "", /Port on the host/);
  assert.match(hover(inConfigure('config.vm.provision "shell",', "  privileged: false,", '  in‸line: "x"'))?.contents ?? "", /Shell script text/);
  // A value is no option.
  assert.equal(hover(inConfigure('config.vm.provision "shell", inline: "x", run: :al‸ways')), null);
});

test("provider settings inside a provider block; provider names", () => {
  const block = inConfigure('config.vm.provider "virtualbox" do |vb|', "  vb.mem‸ory = 2048", "end");
  assert.match(hover(block)?.contents ?? "", /Memory of the machine in MiB/);
  assert.match(hover(inConfigure('config.vm.provider "virtu‸albox" do |vb|', "end"))?.contents ?? "", /`virtualbox` provider/);
});

test("Vagrant.configure, hovered on either word", () => {
  for (const source of ['Vagrant.conf‸igure("2") do |config|\nend\n', 'Vag‸rant.configure("2") do |config|\nend\n']) {
    const h = hover(source);
    assert.equal(h?.word, "Vagrant.configure");
    assert.match(h?.contents ?? "", /Starts the configuration/);
  }
});

test("nothing in comments, heredocs, for unknown receivers, or between words", () => {
  assert.equal(hover(inConfigure("# config.vm.b‸ox")), null);
  assert.equal(hover(inConfigure('config.vm.provision "shell", inline: <<-SHELL', "  config.vm.b‸ox", "SHELL")), null);
  assert.equal(hover(inConfigure("other.vm.b‸ox = 1")), null);
  assert.equal(hover(inConfigure('config.vm.provider "virtualbox" do |vb|', "  vb.b‸ox = 1", "end")), null);
  assert.equal(hover(inConfigure("config.vm.box =  ‸ 1")), null);
});
