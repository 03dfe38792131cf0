/**
 * The Vagrant settings Hangar knows, with short docs: the one list that
 * validation ("The following settings shouldn't exist"), completion and hover
 * all read. Names follow Vagrant 2.x.
 */
export interface SettingDoc {
  name: string;
  doc: string;
  /** A snippet to insert on completion (VS Code snippet syntax), if not `name = `. */
  snippet?: string;
}

const s = (name: string, doc: string, snippet?: string): SettingDoc => (snippet ? { name, doc, snippet } : { name, doc });

/** `config.vm.*`: attributes, then the methods taking arguments. */
export const VM_ATTRIBUTES: SettingDoc[] = [
  s("box", "Name of the box the machine is created from, e.g. `hangar/debian-busybox`."),
  s("box_version", 'Version constraint of the box, e.g. `">= 1.0, < 2.0"`.'),
  s("box_url", "URL or path the box is downloaded from when it is not installed."),
  s("box_check_update", "Check for a newer box version on `up` (default true)."),
  s("box_download_insecure", "Skip TLS certificate checks when downloading the box."),
  s("box_download_checksum", "Expected checksum of the box file."),
  s("box_download_checksum_type", "Checksum algorithm of `box_download_checksum` (sha1, sha256, …)."),
  s("box_architecture", "CPU architecture of the box to use."),
  s("hostname", "Hostname set in the guest."),
  s("boot_timeout", "Seconds to wait for the machine to boot and answer SSH (default 300)."),
  s("graceful_halt_timeout", "Seconds to wait for a graceful halt before forcing it (default 60)."),
  s("post_up_message", "Message shown after `up` finishes."),
  s("communicator", "How the host talks to the guest: `ssh` (default) or `winrm`."),
  s("guest", "Guest OS type, detected when unset."),
  s("base_mac", "MAC address of the first network interface."),
  s("base_address", "IP address of the first network interface."),
  s("usable_port_range", "Host ports used when auto-correcting forwarded-port collisions."),
  s("allow_fstab_modification", "Allow Vagrant to add synced folders to /etc/fstab."),
  s("allow_hosts_modification", "Allow Vagrant to change /etc/hosts in the guest."),
  s("ignore_box_vagrantfile", "Ignore the Vagrantfile shipped inside the box."),
  s("box_server_url", "Server to look boxes up on, instead of the public catalogue."),
  s("box_download_ca_cert", "CA certificate for the box download."),
  s("box_download_ca_path", "Folder of CA certificates for the box download."),
  s("box_download_client_cert", "Client certificate for the box download."),
  s("box_download_options", "Extra options for the box download (hash)."),
  s("box_download_location_trusted", "Send credentials to redirected box download locations."),
  s("allowed_synced_folder_types", "Synced folder implementations this machine may use."),
  s("cloud_init_first_boot_only", "Apply cloud-init only on the first boot (default true)."),
];

export const VM_METHODS: SettingDoc[] = [
  s("define", "Defines a machine of a multi-machine environment. Options: `primary: true`, `autostart: false`.", 'define "${1:name}" do |${2:node}|\n\t$0\nend'),
  s(
    "provider",
    "Provider-specific settings (`hangar`, `virtualbox`, `libvirt`, …): `memory`, `cpus` and more.",
    'provider "${1|hangar,virtualbox,libvirt,vmware_desktop,hyperv,parallels,docker,qemu|}" do |${2:p}|\n\t${2:p}.memory = ${3:1024}\n\t${2:p}.cpus = ${4:1}\nend',
  ),
  s(
    "provision",
    "Runs a provisioner on first `up` (or per `run:`): `shell` (inline, path, args, env, privileged) or `file` (source, destination).",
    'provision "shell", inline: <<-SHELL\n\t$0\nSHELL',
  ),
  s(
    "network",
    'Network settings: `forwarded_port` (guest, host), `private_network` (ip or type: "dhcp"), `public_network`.',
    'network "${1|forwarded_port,private_network,public_network|}", ${2:guest: 80, host: 8080}',
  ),
  s("synced_folder", "Keeps a host folder in sync with a guest path. The project folder is synced to /vagrant by default.", 'synced_folder "${1:.}", "${2:/vagrant}"'),
  s(
    "disk",
    'Disks: `disk :disk, size: "20GB", primary: true` sizes the root disk of a box whose root is a disk (hangar/debian-bookworm); other disks are not attached.',
    'disk :disk, size: "${1:20GB}", primary: true',
  ),
  s("cloud_init", "cloud-init user data for the guest."),
];

export const SSH_ATTRIBUTES: SettingDoc[] = [
  s("username", "User to SSH in as (default `vagrant`)."),
  s("password", "Password for SSH, if no key is used."),
  s("private_key_path", "Path(s) of the private key(s) to log in with."),
  s("port", "Guest SSH port (default 22)."),
  s("guest_port", "Port the SSH server listens on in the guest."),
  s("host", "Hostname or IP to SSH to."),
  s("forward_agent", "Forward the SSH agent into the guest."),
  s("forward_x11", "Forward X11."),
  s("forward_env", "Environment variables sent to the guest."),
  s("insert_key", "Replace the box's insecure key with a generated one on first `up` (default true)."),
  s("keys_only", "Use only the configured keys, not the agent's."),
  s("shell", "Shell used for SSH commands (default `bash -l`)."),
  s("pty", "Use a pty for provisioning (default false)."),
  s("connect_timeout", "Seconds to wait for an SSH connection."),
  s("keep_alive", "Send keep-alive packets (default true)."),
  s("verify_host_key", "Verify the guest's host key."),
  s("extra_args", "Extra arguments for the ssh command line."),
  s("compression", "Enable SSH compression."),
  s("config", "Path to an ssh_config file to use."),
  s("remote_user", "User for `vagrant ssh` to become after logging in."),
  s("proxy_command", "ProxyCommand for the SSH connection."),
  s("sudo_command", "Command used for privileged commands."),
  s("export_command_template", "Template for exporting environment variables."),
  s("dsa_authentication", "Allow DSA keys."),
  s("paranoid", "Deprecated alias of verify_host_key."),
  s("ssh_command", "Command used to run ssh."),
  s("connect_retries", "How often to retry the SSH connection."),
  s("connect_retry_delay", "Seconds between SSH connection retries."),
  s("key_type", "Type of key generated for insert_key (e.g. ed25519)."),
  s("disable_deprecated_algorithms", "Refuse deprecated SSH algorithms."),
];

export const VAGRANT_ATTRIBUTES: SettingDoc[] = [
  s("plugins", "Plugins this Vagrantfile needs (Hangar cannot install Vagrant plugins)."),
  s("sensitive", "Values hidden from Vagrant's output."),
  s("host", "Host OS type, detected when unset."),
];

export const WINRM_ATTRIBUTES: SettingDoc[] = [
  "username",
  "password",
  "host",
  "port",
  "guest_port",
  "transport",
  "basic_auth_only",
  "ssl_peer_verification",
  "timeout",
  "retry_limit",
  "retry_delay",
  "max_tries",
  "codepage",
  "execution_time_limit",
].map((n) => s(n, `WinRM ${n.replace(/_/g, " ")}.`));

export const NAMESPACES: Record<string, SettingDoc[]> = {
  vm: [...VM_ATTRIBUTES, ...VM_METHODS],
  ssh: SSH_ATTRIBUTES,
  vagrant: VAGRANT_ATTRIBUTES,
  winrm: WINRM_ATTRIBUTES,
  winssh: SSH_ATTRIBUTES,
};

export const NAMESPACE_DOCS: SettingDoc[] = [
  s("vm", "Settings of the machine: box, networks, synced folders, provisioners, providers."),
  s("ssh", "How Hangar connects to the guest over SSH."),
  s("vagrant", "Settings of Vagrant itself (plugins, sensitive values)."),
  s("winrm", "WinRM settings for Windows guests."),
  s("winssh", "SSH settings for Windows guests."),
];

export const NETWORK_KINDS: SettingDoc[] = [
  s("forwarded_port", "Forwards a host port to a guest port: `guest:`, `host:`, `host_ip:`, `guest_ip:`, `protocol:` (tcp/udp), `id:`, `auto_correct:`."),
  s("private_network", 'A host-only network: `ip:` (static) or `type: "dhcp"`.'),
  s("public_network", "A bridged network: `bridge:`, `ip:`."),
];

export const FORWARDED_PORT_OPTIONS: SettingDoc[] = [
  s("guest", "Port in the guest."),
  s("host", "Port on the host."),
  s("host_ip", "Host address to bind (default all; Hangar binds 127.0.0.1)."),
  s("guest_ip", "Guest address to forward to."),
  s("protocol", "`tcp` (default) or `udp`."),
  s("id", "Name of the forward; a later forward with the same id replaces it."),
  s("auto_correct", "Pick another host port when this one is taken."),
];

export const PRIVATE_NETWORK_OPTIONS: SettingDoc[] = [
  s("ip", "Static IP address of the guest on this network."),
  s("type", "`dhcp` for an address assigned by DHCP."),
  s("netmask", "Netmask of the network (default 255.255.255.0)."),
  s("auto_config", "Configure the interface in the guest (default true)."),
  s("virtualbox__intnet", "VirtualBox internal network name."),
];

export const PUBLIC_NETWORK_OPTIONS: SettingDoc[] = [
  s("bridge", "Host interface(s) to bridge to."),
  s("ip", "Static IP address."),
  s("type", "`dhcp` or `static`."),
  s("auto_config", "Configure the interface in the guest (default true)."),
  s("use_dhcp_assigned_default_route", "Use the DHCP default route."),
];

export const SYNCED_FOLDER_OPTIONS: SettingDoc[] = [
  s("disabled", "`true` turns this synced folder off (e.g. the default /vagrant)."),
  s("type", "Sync implementation: `rsync`, `nfs`, `smb`, `virtualbox`; Hangar syncs live whatever the type."),
  s("owner", "Owner of the files in the guest."),
  s("group", "Group of the files in the guest."),
  s("mount_options", "Extra mount options (array of strings)."),
  s("create", "Create the host folder when missing."),
  s("id", "Name of the synced folder (default: the guest path)."),
  s("rsync__exclude", "Paths left out of the sync (string or array, rsync patterns)."),
  s("rsync__args", "Arguments for rsync."),
  s("rsync__auto", "Sync on change with `vagrant rsync-auto` (default true)."),
  s("rsync__chown", "Change ownership after syncing (default true)."),
  s("rsync__verbose", "Verbose rsync output."),
  s("rsync__rsync_path", "Path of rsync in the guest."),
  s("smb_username", "SMB user."),
  s("smb_password", "SMB password."),
  s("nfs_version", "NFS version."),
  s("nfs_udp", "Use UDP for NFS."),
];

export const SHELL_PROVISIONER_OPTIONS: SettingDoc[] = [
  s("inline", "Shell script text to run in the guest."),
  s("path", "Path of a script on the host (relative to the Vagrantfile) to upload and run."),
  s("args", "Arguments for the script (string or array)."),
  s("env", "Environment variables for the script (hash)."),
  s("privileged", "Run as root (default true)."),
  s("run", "When to run: `once` (default), `always` or `never`."),
  s("name", "Name shown in output and used by `--provision-with`."),
  s("type", "Provisioner type when the first argument is a name."),
  s("upload_path", "Where the script is uploaded in the guest."),
  s("binary", "Do not convert line endings."),
  s("keep_color", "Keep the script's colour output."),
  s("sensitive", "Hide the script's env values from output."),
  s("reboot", "Reboot the guest after the script."),
  s("reset", "Reconnect after the script (e.g. after group changes)."),
  s("powershell_args", "Extra arguments for PowerShell (Windows guests)."),
  s("powershell_elevated_interactive", "Run PowerShell elevated and interactive."),
  s("md5", "Expected MD5 of a downloaded script."),
  s("sha1", "Expected SHA-1 of a downloaded script."),
  s("sha256", "Expected SHA-256 of a downloaded script."),
  s("before", "Run before the named provisioner."),
  s("after", "Run after the named provisioner."),
  s("communicator_required", "Skip when the guest cannot be reached."),
];

export const FILE_PROVISIONER_OPTIONS: SettingDoc[] = [
  s("source", "File or folder on the host (relative to the Vagrantfile)."),
  s("destination", "Path in the guest."),
  s("run", "When to run: `once` (default), `always` or `never`."),
  s("name", "Name shown in output."),
  s("type", "Provisioner type when the first argument is a name."),
  s("before", "Run before the named provisioner."),
  s("after", "Run after the named provisioner."),
];

/** Settings Hangar reads from provider blocks; other provider settings are kept as they are. */
export const PROVIDER_SETTINGS: SettingDoc[] = [
  s("memory", "Memory of the machine in MiB."),
  s("cpus", "Number of virtual CPUs."),
  s("name", "Name of the machine in the provider's UI."),
  s("gui", "Show the machine's display (VirtualBox)."),
  s("customize", 'Raw provider commands, e.g. `["modifyvm", :id, "--memory", 2048]` (VirtualBox).'),
  s("linked_clone", "Create machines as linked clones (VirtualBox)."),
];

/** Providers whose memory/cpus Hangar honours, in order of preference after `hangar`. */
export const MEMORY_PROVIDERS = ["hangar", "virtualbox", "libvirt", "vmware_desktop", "hyperv", "parallels"] as const;

export const KNOWN_PROVIDERS = [...MEMORY_PROVIDERS, "vmware_fusion", "vmware_workstation", "docker", "qemu", "aws", "google", "azure", "digital_ocean", "lxc"];
