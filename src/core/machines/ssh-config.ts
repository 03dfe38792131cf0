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
