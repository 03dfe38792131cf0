/**
 * Starter files for `Create Vagrantfile` / `Create Dockerfile`. They name the
 * embedded default box and the built-in busybox image, so they work with
 * nothing else installed.
 */
export const DEFAULT_BOX = "hangar/debian-busybox";

export function vagrantfileTemplate(box: string = DEFAULT_BOX): string {
  return `# -*- mode: ruby -*-
# vi: set ft=ruby :

# Machines for this project. Run "hangar up" (or "Up" in the Hangar view).
Vagrant.configure("2") do |config|
  config.vm.box = "${box}"

  # Memory in MiB for the embedded emulator.
  config.vm.provider "hangar" do |h|
    h.memory = 256
  end

  # The project folder is kept in sync with /vagrant in the guest.
  config.vm.synced_folder ".", "/vagrant"

  config.vm.provision "shell", inline: <<-SHELL
    echo "Hello from $(hostname)"
  SHELL
end
`;
}

export function dockerfileTemplate(): string {
  return `# Build with "Build Image" above, or: docker build -t my-app .
FROM busybox:latest

WORKDIR /app
COPY . /app

CMD ["sh", "-c", "echo Hello from a Hangar container"]
`;
}
