import { test } from "node:test";
import assert from "node:assert/strict";
import { utils as sshUtils } from "ssh2";
import { generateEd25519KeyPair, isUsablePrivateKey } from "../../../../src/core/util/ssh-keys";

test("every generated key pair parses (ssh2's own generator makes a malformed one about once in 300)", () => {
  for (let i = 0; i < 2000; i++) {
    const pair = generateEd25519KeyPair("test");
    assert.ok(isUsablePrivateKey(pair.private), pair.private);
    const pub = sshUtils.parseKey(pair.public);
    assert.ok(!(pub instanceof Error) && pub.type === "ssh-ed25519", pair.public);
  }
});

test("a malformed key that ssh2 itself generated is recognised as unusable", () => {
  // Made for real: ssh2's generator, until it writes one of its 31-byte public keys.
  let bad: string | undefined;
  for (let i = 0; i < 20_000 && !bad; i++) {
    const pair = sshUtils.generateKeyPairSync("ed25519");
    if (sshUtils.parseKey(pair.private) instanceof Error) bad = pair.private;
  }
  assert.ok(bad, "ssh2 wrote no malformed key in 20,000 (fixed upstream? then ssh-keys.ts's retry can go)");
  assert.equal(isUsablePrivateKey(bad), false);
});
