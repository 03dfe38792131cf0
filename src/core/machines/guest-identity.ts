import { promises as fs } from "node:fs";
import { writeFileAtomic } from "../util/atomic-file";
import { exists } from "../util/path-exists";
import { shellQuote } from "../util/shell-quote";
import { generateEd25519KeyPair, isUsablePrivateKey } from "../util/ssh-keys";

/**
 * What makes a started guest this machine, typed on its serial console by
 * every provider: the clock, the machine's own SSH key (Vagrant's
 * insecure-key scheme with a per-box bootstrap key replaced), SSH host keys
 * of its own for a new machine, and its hostname. Each step exits with its
 * own code (identityStepFailure says which failed).
 */

/** The machine's key pair, made when missing or malformed (ssh-keys.ts); true when it is new and must be installed. */
export async function ensureMachineKey(keyFile: string): Promise<boolean> {
  if ((await exists(keyFile)) && isUsablePrivateKey(await fs.readFile(keyFile))) return false;
  const pair = generateEd25519KeyPair("hangar machine key");
  await writeFileAtomic(keyFile, pair.private, { mode: 0o600 });
  await writeFileAtomic(`${keyFile}.pub`, pair.public + "\n");
  return true;
}

export function clockStep(): string {
  return `date -u -s @${Math.floor(Date.now() / 1000)} || exit 11`;
}

/** root's authorized key for the host's own sessions, vagrant's (boxes that have the user) for people and their tools. */
export async function authorizedKeyStep(keyFile: string): Promise<string> {
  const pub = Buffer.from((await fs.readFile(`${keyFile}.pub`, "utf8")).trim() + "\n").toString("base64");
  // A subshell: the umask is the key's, not the console's (files later steps write keep their usual modes).
  return `( umask 077; mkdir -p /root/.ssh && echo ${pub} | base64 -d > /root/.ssh/authorized_keys && if id vagrant >/dev/null 2>&1; then mkdir -p /home/vagrant/.ssh && cp /root/.ssh/authorized_keys /home/vagrant/.ssh/ && chown -R vagrant:vagrant /home/vagrant/.ssh; fi ) || exit 12`;
}

/** New SSH host keys (ed25519, ECDSA: no RSA, which takes an emulated guest minutes); `reload` signals a running sshd to take them. */
export function hostKeysStep(reload: boolean): string {
  const keygen = "rm -f /etc/ssh/ssh_host_*key* && ssh-keygen -q -t ed25519 -N '' -f /etc/ssh/ssh_host_ed25519_key && ssh-keygen -q -t ecdsa -N '' -f /etc/ssh/ssh_host_ecdsa_key";
  return `( umask 022; ${keygen}${reload ? ' && { [ ! -f /run/sshd.pid ] || kill -HUP "$(cat /run/sshd.pid)"; }' : ""} ) || exit 15`;
}

export function hostnameStep(hostname: string): string {
  return `{ hostname ${shellQuote(hostname)} && echo ${shellQuote(hostname)} > /etc/hostname; } || exit 13`;
}

/** What a failed step's exit code says failed. */
export function identityStepFailure(code: number): string {
  return code === 11 ? "clock" : code === 12 ? "SSH key" : code === 13 ? "hostname" : code === 14 ? "private network address" : code === 15 ? "SSH host keys" : "state";
}
