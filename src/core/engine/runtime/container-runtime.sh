#!/bin/sh
# Hangar's container runtime: the engine machine's side of starting one
# container, shipped in the default box (/usr/lib/hangar/container-runtime)
# and driven by guest-runtime.ts with the container's spec as data:
#
#   container-runtime run ID IMAGE [OPTION VALUE...] -- [NAME=VALUE...] -- ARGV...
#
# ID is the container's 64 hex characters, IMAGE its image's; the words
# between the two `--` are the process's whole environment, the rest its
# argv. Options, each a word and its value(s), any order:
#   hostname NAME      workdir PATH      user SPEC (Docker's -u)
#   memory BYTES       pids N            cpus "QUOTA PERIOD" (cpu.max)
#   drop CAPS          capsh's --drop list (what the container may not do)
#   privileged 1       nnp 1 (no-new-privileges)
#   rm 1               clean up after the process ends (--rm)
#   tty 1              the channel's pty is the process's terminal
#   stdin 1            the channel's stdin is the process's (else /dev/null)
#   net bridge|host    bridge: its own network namespace; host: the engine's;
#                      absent: its own, loopback only
#   iface BRIDGE IP PREFIX GATEWAY MAC VETH   one per interface, eth0 first
#   mount KIND RO COPYUP SOURCE DEST OPTIONS  bind|tmpfs, 1 or empty, parents first
#   hosts TEXT   etchostname TEXT   resolv TEXT (empty: the engine's own)
# The exit status is the process's; 125 when the container could not be
# set up. On stderr, one line of its own says when the process exists:
# hangar-container-started-ID.
#
# What it does, and why, is in guest-runtime.ts and container-confinement.ts:
# an overlay over the image, namespaces, a cgroup, mounts, the container's
# root moved into the read-only tools folder and pivot_root'ed there, capsh
# dropping capabilities. Every process costs the emulated guest ~10 ms, so
# the shell's own builtins and generated fstabs (one `mount -a` for many
# mounts) do the work wherever they can.
#
# HANGAR_RUNTIME_ROOT prefixes every engine path (tests run it in a folder).

# (the functions below are called through eval, which shellcheck cannot follow)
# shellcheck disable=SC2317
R=${HANGAR_RUNTIME_ROOT:-}
self=$0
mode=$1
shift
id=$1
image=$2

# q: $1 quoted for eval (the shell's own parameter expansion: no process).
quote() {
  q=
  s=$1
  while :; do
    case $s in
      *\'*)
        q="$q${s%%\'*}'\\''"
        s=${s#*\'}
        ;;
      *)
        q="'$q$s'"
        return
        ;;
    esac
  done
}

o_hostname='' o_workdir=/ o_user='' o_memory='' o_pids='' o_cpus='' o_drop='' o_privileged='' o_nnp='' o_rm='' o_tty='' o_stdin=''
o_net='' o_hosts='' o_etchostname='' o_resolv=''
# Lists as eval-able text: interfaces and mounts as calls (`iface 'br0' … &&`), env and argv as quoted words.
ifaces='' mounts='' envq='' argvq='' restore=''
state=options want=0 key='' item='' i=0
for a; do
  i=$((i + 1))
  [ "$i" -gt 2 ] || continue
  if [ "$want" -gt 0 ]; then
    want=$((want - 1))
    case $key in
      iface | mount)
        quote "$a"
        item="$item $q"
        if [ "$want" -eq 0 ]; then
          if [ "$key" = iface ]; then ifaces="$ifaces iface$item &&"; else mounts="$mounts mnt$item &&"; fi
        fi
        ;;
      *) eval "o_$key=\$a" ;;
    esac
    continue
  fi
  case $state:$a in
    options:--) state='env' ;;
    options:iface | options:mount) key=$a want=6 item='' ;;
    options:hostname | options:workdir | options:user | options:memory | options:pids | options:cpus | options:drop | \
      options:privileged | options:nnp | options:rm | options:tty | options:stdin | options:net | options:hosts | \
      options:etchostname | options:resolv) key=${a#options:} want=1 ;;
    options:*)
      echo "hangar: the container runtime has no option '$a'" >&2
      exit 125
      ;;
    env:--) state='argv' ;;
    env:*)
      quote "$a"
      envq="$envq $q"
      # The shell variables the entry helper unsets are put back when the container sets them itself.
      case $a in SHLVL=* | PWD=* | OLDPWD=*) restore="$restore export $q;" ;; esac
      ;;
    argv:*)
      quote "$a"
      argvq="$argvq $q"
      ;;
  esac
done
[ "$state" = argv ] || {
  echo "hangar: the container runtime needs ID IMAGE [OPTION VALUE...] -- [ENV...] -- ARGV..." >&2
  exit 125
}

c=$R/var/lib/hangar/containers/$id
g=$R/sys/fs/cgroup/hangar/$id
y=$R/var/lib/hangar/ptys/$id
rootfs=$c/rootfs
marker=hangar-container-started-$id
# The container's end of an interface while it moves between namespaces: 15 characters at most, its own.
short=${id%"${id#???????????}"}
# Wired: interfaces to plug in from outside once the namespace exists.
wired=
if [ "$o_net" = bridge ] && [ -n "$ifaces" ]; then wired=1; fi

if [ "$mode" = run ]; then
  set -e
  mkdir -p "$c/upper" "$c/work" "$rootfs" "$c/proc-ro" "$g" "$y"
  # (read by the shell: a restarted container's overlay is still mounted)
  m=
  while read -r _ p _; do [ "$p" != "$rootfs" ] || m=1; done <"$R/proc/mounts"
  [ -n "$m" ] || mount -t overlay overlay -o "lowerdir=$R/var/lib/hangar/init:$R/var/lib/hangar/images/$image/rootfs,upperdir=$c/upper,workdir=$c/work" "$rootfs"
  [ -d "$rootfs/tmp" ] || mkdir -p "$rootfs/tmp"
  # cgroup v2 limits apply from before the process starts: this shell joins the cgroup first.
  if [ -n "$o_memory" ]; then
    echo "$o_memory" >"$g/memory.max"
    { echo 0 >"$g/memory.swap.max"; } 2>/dev/null || :
  fi
  [ -z "$o_pids" ] || echo "$o_pids" >"$g/pids.max"
  [ -z "$o_cpus" ] || echo "$o_cpus" >"$g/cpu.max"
  echo $$ >"$g/cgroup.procs"
  if [ -n "$o_net" ]; then
    # The files Docker binds over the image's /etc (not part of the container's layer).
    printf %s "$o_hosts" >"$c/hosts"
    printf '%s\n' "$o_etchostname" >"$c/hostname"
    if [ -n "$o_resolv" ]; then
      printf %s "$o_resolv" >"$c/resolv.conf"
    else
      { while IFS= read -r l; do printf '%s\n' "$l"; done <"$R/etc/resolv.conf"; } >"$c/resolv.conf" 2>/dev/null || : >"$c/resolv.conf"
    fi
  fi
  if [ -n "$wired" ]; then
    # The named pipes the two sides meet at (kept for a restart), and each bridge (made once per boot; two
    # containers starting at once may both try: the loser's "exists" errors are harmless). The engine machine
    # routes containers' packets out (to the NAT) but never from one network's bridge into another's: a rule
    # per network prohibits routing to its subnet (its own containers reach each other through the bridge,
    # unrouted; the engine's own traffic and replies from outside are looked up before it).
    [ -p "$c/net.fifo" ] || mkfifo "$c/ns.fifo" "$c/net.fifo"
    iface() {
      [ -d "$R/sys/class/net/$1" ] || {
        ip link add name "$1" type bridge 2>/dev/null || :
        ip addr add "$4/$3" dev "$1" 2>/dev/null || :
        if n=$(ipcalc -n "$4/$3"); then ip rule add pref 200 to "${n#NETWORK=}/$3" type prohibit 2>/dev/null || :; fi
        ip link set "$1" up
      }
    }
    eval "$ifaces :"
  fi
  # With a TTY the process's terminal (the channel's pty) is bound where the container's /dev/pts shows it.
  if [ -n "$o_tty" ]; then
    t=$(tty)
    t=${t#/dev/pts/}
    : >"$y/$t"
    mount --bind "/dev/pts/$t" "$y/$t"
  fi
  set +e
  [ -n "$o_stdin$o_tty" ] || exec </dev/null
  # fd 4 is the channel's stderr, for the container; the shell's own report of a killed job ("Killed") is not its output.
  exec 4>&2 2>/dev/null
  if [ -n "$wired" ]; then
    # The network is wired from outside the container's namespace once that exists (the container side says so
    # through ns.fifo): a veth pair per interface, the container's end renamed and moved in, the other end on
    # the bridge. Then the container side hears whether it held, and the started mark follows.
    iface() {
      ip link add name "$6" type veth &&
        {
          # busybox's ip cannot name the peer: the kernel names it; its index is this end's iflink.
          p=
          read -r i <"$R/sys/class/net/$6/iflink"
          for x in "$R"/sys/class/net/*/ifindex; do
            { read -r n <"$x"; } 2>/dev/null || continue
            [ "$n" != "$i" ] || p=${x%/ifindex}
          done
          p=${p##*/}
          [ -n "$p" ]
        } &&
        ip link set "$p" name "c$v$short" netns "$u" &&
        ip link set "$6" master "$1" up &&
        v=$((v + 1))
    }
    (
      read -r _ <"$c/ns.fifo"
      r=failed v=0
      read -r u <"$c/unshare.pid" && eval "$ifaces :" && r=ok
      echo "$r" 1<>"$c/net.fifo"
      echo "$marker"
    ) >&4 2>&4 &
  fi
  # In the foreground (a background job would start with SIGINT and SIGQUIT ignored for good), through a wrapper
  # that records its pid, which becomes unshare's: the container's PID 1 is its child (what kill signals).
  started=$marker
  [ -z "$wired" ] || started=
  n=n
  [ "$o_net" != host ] || n=
  # shellcheck disable=SC2016 # (the wrapper's own $$, $0, $1)
  sh -c 'echo $$ >"$0"; [ -z "$1" ] || echo "$1" >&2; shift; exec "$@"' "$c/unshare.pid" "$started" \
    unshare --propagation slave "-fmupi$n" sh "$self" inner "$@" 2>&4 4>&-
  status=$?
  # A container that ended before its namespace was wired leaves the wiring side waiting: a line (through a
  # read-write open, which never blocks) lets it go.
  [ -z "$wired" ] || echo 1<>"$c/ns.fifo"
  [ -z "$o_tty" ] || {
    umount "$y/$t"
    rm -f "$y/$t"
  }
  # (the container's /proc and /dev were mounted in its own namespace only, and went with it)
  if [ -n "$o_rm" ]; then
    # After the status is reported: in the background, away from the channel, which closes as this shell exits
    # (the shell leaves the cgroup first so it can go).
    echo $$ >"$R/sys/fs/cgroup/cgroup.procs"
    {
      umount "$rootfs"
      rm -rf "$c"
      rmdir "$g" "$y"
    } </dev/null >/dev/null 2>&1 4>&- &
  else
    # (emptied by the shell itself: the container no longer runs)
    : >"$c/unshare.pid"
  fi
  exit $status
fi

[ "$mode" = inner ] || {
  echo "hangar: container-runtime run|inner …" >&2
  exit 125
}
# Inside the new namespaces: proc and a small /dev of its own, the hostname, the network, the mounts; then the
# container's root replaces the engine machine's and capsh drops what the container may not do.
set -e
# /proc and /dev must be folders of the container's own: a symlink there (left in its layer by a container that
# could unmount them) would take these mounts, and the device template, into the engine machine's folders.
for d in proc dev; do
  if [ -L "$rootfs/$d" ] || [ ! -d "$rootfs/$d" ]; then
    rm -f "$rootfs/$d"
    mkdir "$rootfs/$d"
  fi
done
printf '%s\n' "proc $rootfs/proc proc rw 0 0" "tmpfs $rootfs/dev tmpfs mode=755 0 0" >"$c/fstab0"
mount -a -T "$c/fstab0"
# Device nodes, /dev/pts, /dev/shm and the entry helper come from the template (one cp instead of a process each).
cp -a "$R/var/lib/hangar/dev/." "$rootfs/dev/"
printf %s "$o_hostname" >"$R/proc/sys/kernel/hostname"
if [ "$o_net" != host ]; then
  if [ -n "$wired" ]; then
    echo >"$c/ns.fifo"
    read -r r <"$c/net.fifo"
    [ "$r" = ok ] || {
      echo "hangar: the container's network was not set up" >&2
      exit 125
    }
  fi
  ip link set lo up
  if [ "$o_net" = bridge ]; then
    # Each moved end becomes ethK with the endpoint's MAC and address; the first network has the default route.
    iface() {
      ip link set "c$k$short" name "eth$k" address "$5" up &&
        ip addr add "$2/$3" dev "eth$k" &&
        { [ "$k" != 0 ] || ip route add default via "$4"; } &&
        k=$((k + 1))
    }
    k=0
    eval "$ifaces :"
  fi
fi

# Volumes, bind mounts and tmpfs, parents first. The destination is made and resolved inside the container's root
# (its own busybox under chroot), so a symlink in the image leads where it does in the container, never out of it.
inroot() { chroot "$rootfs" /dev/.hangar/busybox "$@"; }
mount_one() {
  src=$R$4
  if [ "$1" = bind ]; then
    # A file (bind of a host file) needs a file to mount on; everything else a directory.
    if [ -d "$src" ]; then inroot mkdir -p "$5"; else inroot mkdir -p "${5%/*}/" && { inroot test -e "$5" || inroot touch "$5"; }; fi
  else
    inroot mkdir -p "$5"
  fi &&
    t="$rootfs$(inroot readlink -f "$5")" &&
    # Docker's copy-up: an empty new volume gets what the image has there (cp's complaints about what 9p cannot
    # hold, device nodes, go to the container's log; the rest is copied).
    { [ "$1:$3" != bind:1 ] || [ ! -d "$t" ] || [ -n "$(ls -A "$src")" ] || cp -a "$t/." "$src/" || true; } &&
    if [ "$1" = bind ]; then mount --bind "$src" "$t"; else mount -t tmpfs -o "$6" tmpfs "$t"; fi &&
    { [ "$1:$2" != bind:1 ] || mount -o remount,bind,ro "$t"; }
}
mnt() {
  mount_one "$@" || {
    if [ "$1" = bind ]; then echo "hangar: mounting $4 at $5 in the container failed" >&2; else echo "hangar: mounting a tmpfs at $5 in the container failed" >&2; fi
    exit 125
  }
}
if [ -n "$mounts" ]; then
  eval "$mounts :"
  # The working directory may lie in a mount: made again now (a read-only one may refuse; cd then says so).
  inroot mkdir -p "$o_workdir" 2>/dev/null || true
fi

# One fstab for the rest: the container's /dev/pts (its read-only view of the terminals' folder), the engine's
# /etc files over the image's, the masks of Docker's /proc paths.
f="
$R/var/lib/hangar/ptys-ro/$id $rootfs/dev/pts none rbind 0 0"
if [ -n "$o_net" ]; then
  for e in hosts hostname resolv.conf; do
    if [ -d "$rootfs/etc" ] && [ ! -L "$rootfs/etc" ] && [ ! -L "$rootfs/etc/$e" ]; then
      [ -f "$rootfs/etc/$e" ] || : >"$rootfs/etc/$e"
      f="$f
$c/$e $rootfs/etc/$e none bind 0 0"
    else
      # The image's /etc or file is a symlink: bound from inside the container's root, through a descriptor of
      # the engine's file, so the link leads where the container sees it, never into the engine machine.
      exec 5<"$c/$e"
      # shellcheck disable=SC2016 # (the inner shell's $1)
      chroot "$rootfs" /dev/.hangar/busybox sh -c '[ -d /etc ] || mkdir -p /etc; [ -e "/etc/$1" ] || touch "/etc/$1"; mount --bind /proc/self/fd/5 "/etc/$1"' - "$e"
      exec 5<&-
    fi
  done
fi
# The container's root moves to /root in the read-only tools folder, then pivot_root there detaches the engine
# machine's root: nothing of it (host shares, other containers) exists in this namespace from here on.
tools=$R/var/lib/hangar/tools
move="$rootfs $tools/root none move 0 0"
if [ -n "$o_privileged" ]; then
  printf '%s\n%s\n' "$f" "$move" >"$c/fstab1"
  mount -a -T "$c/fstab1"
else
  # Docker's masked /proc paths (an empty read-only tmpfs for a folder, /dev/null for a file) and read-only ones,
  # bound from a read-only bind of the container's /proc (a bind inherits its source's read-only flag). Which
  # exist is read off the engine machine's own /proc (the same kernel's).
  for m in asound acpi kcore keys latency_stats timer_list timer_stats sched_debug scsi; do
    if [ -d "$R/proc/$m" ]; then
      f="$f
tmpfs $rootfs/proc/$m tmpfs ro,mode=555 0 0"
    elif [ -e "$R/proc/$m" ]; then
      f="$f
/dev/null $rootfs/proc/$m none bind 0 0"
    fi
  done
  ro=
  for m in bus fs irq sys sysrq-trigger; do
    [ ! -e "$R/proc/$m" ] || ro="$ro
$c/proc-ro/$m $rootfs/proc/$m none bind 0 0"
  done
  printf '%s\n%s\n' "$f" "$rootfs/proc $c/proc-ro none bind 0 0" >"$c/fstab1"
  printf '%s\n%s\n' "$ro" "$move" >"$c/fstab2"
  mount -a -T "$c/fstab1"
  mount -o remount,bind,ro "$c/proc-ro"
  mount -a -T "$c/fstab2"
fi
cd "$tools"
pivot_root . old
umount -l /old

# The user's ids first: the helper, chrooted into the container as root, reads them from the container's own
# passwd and group files and makes the working directory (container-enter.ts, its --ids step).
ids=$(chroot /root /dev/.hangar/busybox sh /dev/.hangar/enter --ids "$o_user" "$o_workdir") || exit $?
uid=${ids%% *}
ids=${ids#* }
gid=${ids%% *}
ids=${ids#* }
groups=${ids%% *}
home=${ids#* }
case "$uid:$gid:$groups" in *[!0-9:,]* | :* | *::* | *:)
  echo "unable to resolve the user of the container" >&2
  exit 126
  ;;
esac
# capsh (loaded from the tools, not the container) sets the user's gid and groups, drops the capabilities
# outside the container's set, chroots into its root and runs the static busybox on its private /dev, which
# enters the working directory, removes itself and execs the process as the user (container-enter.ts). With a
# TTY the tools' busybox first makes the process a session leader with its terminal, while it still holds
# CAP_SYS_ADMIN (taking a terminal that leads another session needs it).
quote "$home"
homeq=$q
quote "$o_workdir"
workdirq=$q
quote "$restore"
restoreq=$q
quote "--drop=$o_drop"
dropq=$q
eval "exec env -i $envq ${o_tty:+/bin/busybox setsid -c} /sbin/capsh --quiet --groups=$groups --gid=$gid ${o_drop:+$dropq} ${o_nnp:+--no-new-privs} --chroot=/root --shell=/dev/.hangar/busybox -- sh /dev/.hangar/enter /dev/.hangar $uid $homeq $workdirq $restoreq $argvq"
