/**
 * Docs the language services show beyond the settings lists of
 * vagrant-settings.ts: `Vagrant.configure`, provider names, provisioner types.
 */
import { MEMORY_PROVIDERS, type SettingDoc } from "../vagrant-settings";

export const VAGRANT_METHODS: SettingDoc[] = [
  {
    name: "configure",
    doc: 'Starts the configuration: `Vagrant.configure("2") do |config| … end`. "2" is the configuration version; the block parameter (`config`) holds every setting (`config.vm`, `config.ssh`, …).',
    snippet: 'configure("2") do |${1:config}|\n\t$0\nend',
  },
  { name: "has_plugin?", doc: 'Whether a Vagrant plugin is installed: `if Vagrant.has_plugin?("vagrant-vbguest")`. Hangar loads no plugins, so this is false.', snippet: 'has_plugin?("${1:name}")' },
  { name: "require_version", doc: 'Requires a Vagrant version, e.g. `Vagrant.require_version ">= 2.2.0"`.', snippet: 'require_version "${1:>= 2.2.0}"' },
];

export const PROVISIONER_TYPE_DOCS: SettingDoc[] = [
  { name: "shell", doc: "Runs a shell script in the guest: `inline:` text or a `path:` to a script on the host, with `args:`, `env:`, `privileged:`." },
  { name: "file", doc: "Uploads a file or folder from the host (`source:`) to the guest (`destination:`)." },
];

const memoryProviders: readonly string[] = MEMORY_PROVIDERS;

export function providerDoc(name: string): string {
  if (name === "hangar") return "Hangar's own provider: machines run in the embedded x86 emulator. Reads `memory` and `cpus`.";
  if (memoryProviders.includes(name)) return `Settings for the \`${name}\` provider. Hangar reads \`memory\` and \`cpus\` from this block when no \`hangar\` block sets them.`;
  return `Settings for the \`${name}\` provider. Hangar keeps them but does not use them.`;
}
