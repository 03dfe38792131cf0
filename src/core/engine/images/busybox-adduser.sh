#!/bin/sh
# adduser, addgroup, deluser and delgroup for Hangar's built-in busybox image
# (Debian's busybox-static leaves these applets out; Docker's busybox image
# has them). Same options and defaults as busybox's own: see --help.
set -e
me=${0##*/}
die() { echo "$me: $*" >&2; exit 1; }
has() { cut -d: -f1 "$2" 2>/dev/null | grep -qx -- "$1"; }
idtaken() { cut -d: -f3 "$2" 2>/dev/null | grep -qx -- "$1"; }
# The first free id from $1 to $2 in file $3.
freeid() { i=$1; while idtaken "$i" "$3"; do i=$((i + 1)); [ "$i" -le "$2" ] || die "no free id"; done; echo "$i"; }
gidof() { awk -F: -v n="$1" '$1 == n || $3 == n { print $3; exit }' /etc/group; }
# Appends user $1 to group $2's member list.
member() {
  has "$2" /etc/group || die "unknown group $2"
  awk -F: -v OFS=: -v u="$1" -v g="$2" '$1 == g { n = split($4, m, ","); f = 0; for (i = 1; i <= n; i++) if (m[i] == u) f = 1; if (!f) $4 = ($4 == "" ? u : $4 "," u) } { print }' /etc/group >/etc/group.new
  cat /etc/group.new >/etc/group && rm -f /etc/group.new
}
usage() {
  case $me in
    adduser) echo "Usage: adduser [-h DIR] [-g GECOS] [-s SHELL] [-G GRP] [-S] [-D] [-H] [-u UID] [-k SKEL] USER [GROUP]" ;;
    addgroup) echo "Usage: addgroup [-g GID] [-S] [USER] GROUP" ;;
    deluser) echo "Usage: deluser USER" ;;
    delgroup) echo "Usage: delgroup [USER] GROUP" ;;
  esac
}
[ "${1:-}" != --help ] || { usage; exit 0; }
case $me in
  adduser)
    home='' gecos='Linux User,,,' shell=/bin/sh group='' system='' nohome='' uid='' skel=/etc/skel
    while getopts h:g:s:G:SDHu:k: o; do
      case $o in
        h) home=$OPTARG ;; g) gecos=$OPTARG ;; s) shell=$OPTARG ;; G) group=$OPTARG ;; S) system=1 ;;
        D) ;; H) nohome=1 ;; u) uid=$OPTARG ;; k) skel=$OPTARG ;; *) usage >&2; exit 1 ;;
      esac
    done
    shift $((OPTIND - 1))
    case $# in 1 | 2) ;; *) usage >&2; exit 1 ;; esac
    name=$1
    if [ $# = 2 ]; then has "$name" /etc/passwd || die "unknown user $name"; member "$name" "$2"; exit 0; fi
    case $name in '' | -* | *[!A-Za-z0-9._-]*) die "invalid user name '$name'" ;; esac
    has "$name" /etc/passwd && die "user '$name' in use"
    if [ -n "$uid" ]; then idtaken "$uid" /etc/passwd && die "uid '$uid' in use"
    elif [ -n "$system" ]; then uid=$(freeid 100 999 /etc/passwd)
    else uid=$(freeid 1000 60000 /etc/passwd); fi
    if [ -n "$group" ]; then gid=$(gidof "$group"); [ -n "$gid" ] || die "unknown group $group"
    elif [ -n "$system" ]; then gid=$(gidof nogroup); [ -n "$gid" ] || gid=65534
    else
      has "$name" /etc/group && die "group '$name' in use"
      gid=$uid; idtaken "$gid" /etc/group && gid=$(freeid 1000 60000 /etc/group)
      echo "$name:x:$gid:" >>/etc/group
    fi
    [ -n "$home" ] || home=/home/$name
    echo "$name:x:$uid:$gid:$gecos:$home:$shell" >>/etc/passwd
    [ ! -f /etc/shadow ] || echo "$name:!:$(($(date +%s) / 86400)):0:99999:7:::" >>/etc/shadow
    if [ -z "$nohome" ] && [ ! -e "$home" ]; then
      mkdir -p "$home"
      [ ! -d "$skel" ] || cp -a "$skel/." "$home/"
      chown -R "$uid:$gid" "$home"
      chmod 755 "$home"
    fi
    ;;
  addgroup)
    gid='' system=''
    while getopts g:S o; do case $o in g) gid=$OPTARG ;; S) system=1 ;; *) usage >&2; exit 1 ;; esac; done
    shift $((OPTIND - 1))
    case $# in 1 | 2) ;; *) usage >&2; exit 1 ;; esac
    if [ $# = 2 ]; then has "$1" /etc/passwd || die "unknown user $1"; member "$1" "$2"; exit 0; fi
    case $1 in '' | -* | *[!A-Za-z0-9._-]*) die "invalid group name '$1'" ;; esac
    has "$1" /etc/group && die "group '$1' in use"
    if [ -n "$gid" ]; then idtaken "$gid" /etc/group && die "gid '$gid' in use"
    elif [ -n "$system" ]; then gid=$(freeid 100 999 /etc/group)
    else gid=$(freeid 1000 60000 /etc/group); fi
    echo "$1:x:$gid:" >>/etc/group
    ;;
  deluser)
    [ $# = 1 ] || { usage >&2; exit 1; }
    has "$1" /etc/passwd || die "unknown user $1"
    for f in /etc/passwd /etc/shadow; do [ ! -f "$f" ] || { grep -v "^$1:" "$f" >"$f.new" || :; cat "$f.new" >"$f"; rm -f "$f.new"; }; done
    awk -F: -v OFS=: -v u="$1" '{ n = split($4, m, ","); s = ""; for (i = 1; i <= n; i++) if (m[i] != u) s = (s == "" ? m[i] : s "," m[i]); $4 = s; print }' /etc/group >/etc/group.new
    cat /etc/group.new >/etc/group && rm -f /etc/group.new
    ;;
  delgroup)
    case $# in 1 | 2) ;; *) usage >&2; exit 1 ;; esac
    if [ $# = 2 ]; then
      awk -F: -v OFS=: -v u="$1" -v g="$2" '$1 == g { n = split($4, m, ","); s = ""; for (i = 1; i <= n; i++) if (m[i] != u) s = (s == "" ? m[i] : s "," m[i]); $4 = s } { print }' /etc/group >/etc/group.new
    else
      has "$1" /etc/group || die "unknown group $1"
      grep -v "^$1:" /etc/group >/etc/group.new || :
    fi
    cat /etc/group.new >/etc/group && rm -f /etc/group.new
    ;;
esac
