/* A guest program that waits for inotify events, as nodemon, webpack or
 * inotifywait do: it watches each path given (a file or a folder) and prints
 * one line per event, "<watched path> <events> <name>", flushed at once.
 * Built static for i386 by the synced-folders test (gcc -m32 -static). */
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int fd = inotify_init();
  if (fd < 0) { perror("inotify_init"); return 1; }
  const char *paths[64];
  int wds[64];
  int n = 0;
  for (int i = 1; i < argc && n < 64; i++, n++) {
    paths[n] = argv[i];
    wds[n] = inotify_add_watch(fd, argv[i], IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE);
    if (wds[n] < 0) { perror(argv[i]); return 1; }
  }
  printf("watching\n");
  fflush(stdout);
  char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
  for (;;) {
    ssize_t len = read(fd, buf, sizeof buf);
    if (len <= 0) return 1;
    for (char *p = buf; p < buf + len;) {
      struct inotify_event *e = (struct inotify_event *)p;
      const char *watched = "?";
      for (int i = 0; i < n; i++) if (wds[i] == e->wd) watched = paths[i];
      printf("%s %s%s%s%s%s%s%s%s %s\n", watched, e->mask & IN_MODIFY ? "MODIFY," : "", e->mask & IN_ATTRIB ? "ATTRIB," : "",
             e->mask & IN_CREATE ? "CREATE," : "", e->mask & IN_DELETE ? "DELETE," : "", e->mask & IN_MOVED_FROM ? "MOVED_FROM," : "",
             e->mask & IN_MOVED_TO ? "MOVED_TO," : "", e->mask & IN_CLOSE_WRITE ? "CLOSE_WRITE," : "", e->mask & IN_ISDIR ? "ISDIR," : "",
             e->len ? e->name : "-");
      fflush(stdout);
      p += sizeof *e + e->len;
    }
  }
}
