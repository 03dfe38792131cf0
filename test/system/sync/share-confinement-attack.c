/*
 * A hostile guest process against its 9P share (share-confinement.test.ts).
 * Built on the host as a static i386 program: gcc -m32 -static.
 *
 * usage: share-attack DIR OUTSIDE [WAIT]
 *   DIR      a fresh folder in the share (/vagrant/...)
 *   OUTSIDE  a host folder outside the share holding a file named "secret"
 *   WAIT     if given, a guest path: after the swap, write "ready" next to
 *            it and wait until it exists (the host suspends and resumes the
 *            machine meanwhile, so the server reopens the files)
 *
 * It opens two files in the share, swaps each for a symlink to the outside
 * file (the file itself: DIR/f -> OUTSIDE/secret; its folder: DIR/d ->
 * OUTSIDE, so DIR/d/secret names the outside file), then truncates, writes
 * and chmods through the handles it still holds. Only the files it opened may
 * change; the host checks OUTSIDE/secret.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void report(const char *what, const char *name, int rc) {
  if (rc < 0) printf("%s %s: -1 %s\n", what, name, strerror(errno));
  else printf("%s %s: %d\n", what, name, rc);
}

static int must(int rc, const char *what) {
  if (rc < 0) {
    perror(what);
    _exit(2);
  }
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s DIR OUTSIDE [WAIT]\n", argv[0]);
    return 2;
  }
  char f[4096], d[4096], df[4096], target[4096], ready[4096];
  snprintf(f, sizeof f, "%s/f", argv[1]);
  snprintf(d, sizeof d, "%s/d", argv[1]);
  snprintf(df, sizeof df, "%s/d/secret", argv[1]);
  snprintf(target, sizeof target, "%s/secret", argv[2]);

  must(mkdir(d, 0755), "mkdir d");
  int fdFile = must(open(f, O_RDWR | O_CREAT | O_EXCL, 0644), "create f");
  int fdInDir = must(open(df, O_RDWR | O_CREAT | O_EXCL, 0644), "create d/secret");
  must(write(fdFile, "inside\n", 7), "write f");
  must(write(fdInDir, "inside\n", 7), "write d/secret");

  /* The swap: the names the server knows the open files by now lead out of the share. */
  must(unlink(f), "unlink f");
  must(symlink(target, f), "symlink f");
  must(unlink(df), "unlink d/secret");
  must(rmdir(d), "rmdir d");
  must(symlink(argv[2], d), "symlink d");
  printf("swapped\n");
  fflush(stdout);

  if (argc > 3) {
    snprintf(ready, sizeof ready, "%s.ready", argv[3]);
    close(must(open(ready, O_WRONLY | O_CREAT, 0644), "ready"));
    while (access(argv[3], F_OK) != 0) sleep(1);
  }

  int fds[2] = {fdFile, fdInDir};
  const char *names[2] = {"f", "d/secret"};
  for (int i = 0; i < 2; i++) {
    report("ftruncate", names[i], ftruncate(fds[i], 1));
    report("pwrite", names[i], (int)pwrite(fds[i], "pwned", 5, 0));
    report("fchmod", names[i], fchmod(fds[i], 06755));
  }
  printf("done\n");
  return 0;
}
