import type { Provisioner } from "../../../../src/core/vagrantfile/machine-config";

/** A provisioner as machine-config.ts makes it, with Vagrant's defaults and `p` over them. */
export function provisioner(p: Partial<Provisioner>): Provisioner {
  return {
    type: "shell",
    name: null,
    inline: "true",
    path: null,
    args: [],
    env: {},
    run: "once",
    privileged: true,
    uploadPath: "/tmp/vagrant-shell",
    binary: false,
    keepColor: false,
    sensitive: false,
    reset: false,
    reboot: false,
    checksums: {},
    source: null,
    destination: null,
    options: {},
    ...p,
  };
}
