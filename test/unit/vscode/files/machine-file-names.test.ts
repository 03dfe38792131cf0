// What a hostile guest's SFTP server could list, given to the name checks
// directly: a real file system has no names with `/` or NUL, so the guest in
// the VS Code test ("Machine files") cannot send them; these are the fakes.
import * as assert from "node:assert/strict";
import { describe, it } from "node:test";
import { guestPath, isEntryName, machineAuthority } from "../../../../src/vscode/files/machine-file-names";

describe("machine file names", () => {
  it("takes a guest's odd but real names, and drops what is no single entry of a folder", () => {
    for (const name of ["a.txt", "..\\..\\x", "a%2F..%2Fb", "-rf", "new\nline", "...", "..a", " "]) assert.ok(isEntryName(name), JSON.stringify(name));
    for (const name of ["", ".", "..", "../../etc/passwd", "/etc/passwd", "a/b", "a\0b", undefined, 7]) assert.ok(!isEntryName(name), JSON.stringify(name));
  });

  it("keeps guest paths absolute, with `..` stopping at the guest's root", () => {
    assert.equal(guestPath("/home/../../../../etc/passwd"), "/etc/passwd");
    assert.equal(guestPath("etc//hosts"), "/etc/hosts");
    assert.equal(guestPath(""), "/");
  });

  it("names a machine by its name and a hash of its Vagrantfile, with no host path in the URI", () => {
    const a = machineAuthority("/home/me/p1/Vagrantfile", "default");
    assert.match(a, /^default\.[0-9a-f]{12}$/);
    assert.notEqual(a, machineAuthority("/home/me/p2/Vagrantfile", "default"));
    assert.match(machineAuthority("/p/Vagrantfile", "Web Server!"), /^web-server\.[0-9a-f]{12}$/);
    assert.match(machineAuthority("/p/Vagrantfile", "../.."), /^machine\.[0-9a-f]{12}$/);
  });
});
