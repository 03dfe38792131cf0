/*
 * A hostile container's process (built static for i386 by the confinement
 * test): as root, it tries the classic chroot escape (mkdir x; chroot x;
 * chdir("..") many times; chroot(".")), then reports what it reached —
 * the listing of its new "/", whether a host file (argv[1]) is readable —
 * and tries mounts a confined container must not make: a tmpfs and the
 * engine machine's 9p device (the host shares).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *secret = argc > 1 ? argv[1] : "/var/lib/hangar/host/0/secret";
  mkdir("/.escape", 0700);
  if (chroot("/.escape") != 0) printf("chroot: %s\n", strerror(errno));
  for (int i = 0; i < 64; i++) {
    if (chdir("..") != 0) break;
  }
  if (chroot(".") != 0) printf("chroot back: %s\n", strerror(errno));
  DIR *d = opendir("/");
  printf("root:");
  for (struct dirent *e; d && (e = readdir(d));) printf(" %s", e->d_name);
  printf("\n");
  FILE *f = fopen(secret, "r");
  if (f) {
    char buf[256] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    printf("REACHED %s: %s\n", secret, buf);
  } else {
    printf("not reached %s: %s\n", secret, strerror(errno));
  }
  /* (on "/", which exists wherever it landed: a missing mount point would fail before the permission check) */
  if (mount("tmpfs", "/", "tmpfs", 0, NULL) == 0) printf("MOUNTED tmpfs\n");
  else printf("mount tmpfs: %s\n", strerror(errno));
  if (mount("host9p", "/", "9p", 0, "trans=virtio,version=9p2000.L") == 0) printf("MOUNTED 9p\n");
  else printf("mount 9p: %s\n", strerror(errno));
  return 0;
}
