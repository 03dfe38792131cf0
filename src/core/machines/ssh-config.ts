/**
 * An OpenSSH `Host` block for a machine's SSH endpoint, as `vagrant
 * ssh-config` prints it, so `ssh -F`, `scp`, `sftp` and `rsync -e ssh` reach
 * the guest with the machine's own key. Host keys are not checked: the
 * endpoint is on loopback and every machine makes its own host key.
 */
export function sshConfigBlock(host: string, target: { port: number; keyFile: string; user: string }): string {
  return [
    `Host ${host}`,
    `  HostName 127.0.0.1`,
    `  User ${target.user}`,
    `  Port ${target.port}`,
    `  UserKnownHostsFile /dev/null`,
    `  StrictHostKeyChecking no`,
    `  PasswordAuthentication no`,
    `  IdentityFile ${quoteIfNeeded(target.keyFile)}`,
    `  IdentitiesOnly yes`,
    `  LogLevel FATAL`,
    "",
  ].join("\n");
}

/** ssh_config splits arguments on spaces unless they are in double quotes. */
function quoteIfNeeded(value: string): string {
  return /[\s"]/.test(value) ? `"${value.replace(/"/g, '\\"')}"` : value;
}

/**
 * `config` (an OpenSSH client config's text) with `block` between Hangar's
 * markers for `label`: replacing the marked block a previous call wrote,
 * else appended after a blank line. Nothing outside the markers changes.
 */
export function mergeSshConfig(config: string, label: string, block: string): string {
  const begin = `# >>> Hangar: ${label}`;
  const end = `# <<< Hangar: ${label}`;
  const marked = `${begin}\n${block.replace(/\n*$/, "\n")}${end}\n`;
  const lines = config.split("\n");
  const from = lines.indexOf(begin);
  const to = from >= 0 ? lines.indexOf(end, from) : -1;
  if (from >= 0 && to > from) {
    const after = lines.slice(to + 1).join("\n");
    return [...lines.slice(0, from), ""].join("\n") + marked + after;
  }
  const base = config.replace(/\n*$/, "");
  return base ? `${base}\n\n${marked}` : marked;
}
