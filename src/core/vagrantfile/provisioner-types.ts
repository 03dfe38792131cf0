/** The provisioner types Vagrant ships (plugins/provisioners), which a Vagrantfile may name in `config.vm.provision`. */
export const PROVISIONER_TYPES: ReadonlySet<string> = new Set([
  "shell",
  "file",
  "ansible",
  "ansible_local",
  "chef_solo",
  "chef_zero",
  "chef_client",
  "chef_apply",
  "docker",
  "podman",
  "puppet",
  "puppet_server",
  "salt",
  "cfengine",
  "container",
]);
