import { READY_MARKER } from "../default-box/guest-files";

/**
 * The files hangar/debian-bookworm adds to Debian's packages. Same boot
 * contract with the host as the busybox box (guest-files.ts): "hangar: ready"
 * on ttyS0 once SSH listens, a root shell on ttyS0, v86's 9p at /mnt/host9p,
 * `vagrant` with passwordless sudo, both users' authorized_keys starting with
 * the key on the kernel command line. What differs: the root file system is
 * /dev/sda (ext4 on a host file), OpenSSH serves SSH, and busybox's init runs
 * the boot (Debian's sysvinit would start nothing this box needs, slower).
 */

/** Printed by the initramfs when the second stage ends: the exit status follows. */
export const SECOND_STAGE_MARKER = "hangar: second stage exit";
/** Where the second stage finds the packages to run preinst scripts for, dependencies first. */
export const PACKAGE_ORDER_FILE = "var/lib/hangar/packages";

/** The initramfs's /init: load drivers, mount the disk, then either run the second stage or hand over to busybox init. */
export function debianInitramfsInit(moduleFiles: string[]): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${moduleFiles.join(" ")}; do
  insmod "/lib/modules/$(uname -r)/$m" || echo "hangar: could not load $m"
done
stage=
for arg in $(cat /proc/cmdline); do
  case "$arg" in hangar.stage=*) stage="\${arg#hangar.stage=}" ;; esac
done
i=0
while [ ! -b /dev/sda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /newroot
mount -t ext4 -o rw /dev/sda /newroot || { echo "hangar: the root disk /dev/sda does not mount"; exec sh; }
if [ "$stage" = second ] || [ "$stage" = image ]; then
  for d in proc sys dev dev/pts run tmp; do mkdir -p /newroot/$d; done
  mount -t proc proc /newroot/proc
  mount -t sysfs sysfs /newroot/sys
  mount -o bind /dev /newroot/dev
  mount -t devpts devpts /newroot/dev/pts
  mount -t tmpfs -o mode=755 tmpfs /newroot/run
  chroot /newroot /usr/lib/hangar/second-stage
  code=$?
  for d in run dev/pts dev sys proc; do umount /newroot/$d; done
  sync
  # An image's tree leaves as a tar on the second disk (the host reads it up to the archive's end).
  if [ "$stage" = image ] && [ $code = 0 ]; then
    (cd /newroot && tar -cf /dev/sdb .) || code=7
    sync
  fi
  umount /newroot || mount -o remount,ro /newroot
  sync
  echo "${SECOND_STAGE_MARKER} $code"
  exec sh
fi
mount -o move /dev /newroot/dev
umount /proc /sys
exec switch_root /newroot /bin/busybox init
`;
}

/** busybox init's table: the boot script once, a root shell on the console always, a clean file system at shutdown. */
export const INITTAB = `::sysinit:/usr/lib/hangar/boot
ttyS0::respawn:-/bin/sh
::shutdown:/usr/lib/hangar/shutdown
`;

/** The machine's boot, as the busybox box's /init does it after its switch_root. */
export const BOOT_SCRIPT = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mkdir -p /dev/pts /dev/shm /mnt/host9p
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd /run/lock
mount -o remount,rw /
# A disk made larger than the box's file system (config.vm.disk): grow it, online.
resize2fs /dev/sda >/dev/null 2>&1 || echo "hangar: could not grow the root file system"
ip link set lo up
if ip link set eth0 up 2>/dev/null; then
  busybox udhcpc -i eth0 -s /usr/lib/hangar/udhcpc.script -q -n -t 10 -T 1 >/dev/null 2>&1 || echo "hangar: no DHCP lease on eth0"
else
  echo "hangar: no network interface"
fi
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 host9p /mnt/host9p 2>/dev/null || true
hostname -F /etc/hostname 2>/dev/null || hostname hangar
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    hangar.key=*)
      for home in /root /home/vagrant; do
        mkdir -p $home/.ssh && chmod 700 $home/.ssh
        echo "\${arg#hangar.key=}" | base64 -d > $home/.ssh/authorized_keys
        chmod 600 $home/.ssh/authorized_keys
      done
      chown -R vagrant:vagrant /home/vagrant/.ssh ;;
  esac
done
/usr/sbin/sshd || echo "hangar: sshd did not start"
# And what packages enabled starts at boot, as sysvinit's runlevel 2 does (sshd runs already).
for s in /etc/rc2.d/S*; do
  case "$s" in */S*ssh) continue ;; esac
  [ -x "$s" ] && "$s" start </dev/null >/dev/null 2>&1
done
echo "${READY_MARKER}"
`;

/** At shutdown (busybox init's poweroff): nothing half-written on the disk. */
export const SHUTDOWN_SCRIPT = `#!/bin/sh
kill $(cat /run/sshd.pid 2>/dev/null) 2>/dev/null
sync
umount -a -r 2>/dev/null
mount -o remount,ro / 2>/dev/null
sync
`;

/**
 * debootstrap's second stage, in the guest: each package's preinst (install),
 * then dpkg configures everything with the maintainer scripts really
 * running; services are not started meanwhile (policy-rc.d). Then the
 * Vagrant conventions: the vagrant user with passwordless sudo.
 */
export function secondStageScript(o: { vagrant: boolean; finish?: string }): string {
  return `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true
cd /
started=$(date +%s)
for p in $(cat /${PACKAGE_ORDER_FILE}); do
  s=/var/lib/dpkg/info/$p.preinst
  [ -x "$s" ] || continue
  DPKG_MAINTSCRIPT_PACKAGE=\${p%%:*} DPKG_MAINTSCRIPT_NAME=preinst DPKG_MAINTSCRIPT_ARCH=i386 DPKG_ROOT= DPKG_ADMINDIR=/var/lib/dpkg "$s" install || echo "hangar: the preinst of $p failed"
done
echo "hangar: preinst scripts done in $(( $(date +%s) - started )) s"
dpkg --configure -a --force-configure-any --force-depends || exit 2
dpkg --configure -a || exit 3
echo "hangar: packages configured in $(( $(date +%s) - started )) s"
${
  o.vagrant
    ? `id vagrant >/dev/null 2>&1 || useradd --create-home --uid 1000 --user-group --shell /bin/bash vagrant || exit 4
install -m 0440 /dev/null /etc/sudoers.d/vagrant && echo 'vagrant ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/vagrant || exit 5
`
    : ""
}rm -f /usr/sbin/policy-rc.d /${PACKAGE_ORDER_FILE}
rm -rf /var/cache/apt/*.bin /var/log/*.log
${o.finish ?? ""}echo "hangar: second stage done in $(( $(date +%s) - started )) s"
`;
}

/**
 * The runlevel busybox init runs in, as sysvinit's `runlevel` prints it:
 * invoke-rc.d asks it (with /sbin/init there) before it starts what a
 * package installs, so `apt-get install nginx` starts nginx, as on a Debian
 * server. bookworm ships `runlevel` only with an init system.
 */
export const RUNLEVEL_SCRIPT = "#!/bin/sh\necho N 2\n";

/** Refuses every service start while packages configure (invoke-rc.d's policy layer). */
export const POLICY_RC_D = "#!/bin/sh\nexit 101\n";

/** OpenSSH as Vagrant boxes set it: keys only; root logs in with a key (the host's own session). */
export const SSHD_CONFIG = `HostKey /etc/ssh/ssh_host_ed25519_key
HostKey /etc/ssh/ssh_host_ecdsa_key
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
PidFile /run/sshd.pid
`;

export const FSTAB = "/dev/sda / ext4 defaults 0 1\n";
export const HOSTS = "127.0.0.1\tlocalhost\n127.0.1.1\thangar\n::1\tlocalhost ip6-localhost ip6-loopback\n";

/**
 * apt's sources in the guest: the mirror the box was built from. A mirror on
 * the host's loopback is the guest's NAT gateway (the host's 127.0.0.1).
 */
export function aptSources(mirror: string, gateway: string): string {
  const url = new URL(mirror);
  if (url.hostname === "localhost" || url.hostname === "127.0.0.1" || url.hostname === "[::1]") url.hostname = gateway;
  return `Types: deb\nURIs: ${url.toString().replace(/\/+$/, "")}\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`;
}
