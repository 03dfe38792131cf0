import { utils as sshUtils } from "ssh2";

/**
 * A new ed25519 key pair in OpenSSH format. ssh2's generator writes about
 * one key in 300 with a 31-byte public key (a leading zero byte dropped),
 * which nothing can parse afterwards, ssh2 included: such a pair is made
 * again.
 */
export function generateEd25519KeyPair(comment: string): { private: string; public: string } {
  for (;;) {
    const pair = sshUtils.generateKeyPairSync("ed25519", { comment });
    if (isUsablePrivateKey(pair.private) && !(sshUtils.parseKey(pair.public) instanceof Error)) return pair;
  }
}

/** Whether ssh2 can parse this private key (an earlier Hangar may have stored a malformed one). */
export function isUsablePrivateKey(key: string | Buffer): boolean {
  return !(sshUtils.parseKey(key) instanceof Error);
}
