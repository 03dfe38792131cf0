/**
 * Writes a cpio "newc" archive, the format the Linux kernel unpacks as an
 * initramfs. Deterministic: inode numbers in insertion order, uid/gid 0,
 * mtime 0 — the same entries always give the same bytes.
 */
export type CpioEntry =
  | { path: string; type: "file"; mode: number; data: Buffer }
  | { path: string; type: "directory"; mode: number }
  | { path: string; type: "symlink"; target: string }
  | { path: string; type: "char"; mode: number; major: number; minor: number };

const TYPE_BITS = { file: 0o100000, directory: 0o040000, symlink: 0o120000, char: 0o020000 } as const;

export function writeCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  let size = 0;
  const pad = (): void => {
    const n = (4 - (size % 4)) % 4;
    if (n) {
      parts.push(Buffer.alloc(n));
      size += n;
    }
  };
  const add = (name: string, mode: number, data: Buffer, rdev: [number, number] = [0, 0], nlink = 1): void => {
    const nameBuf = Buffer.from(name + "\0", "utf8");
    const hex = (n: number): string => n.toString(16).padStart(8, "0");
    const header = "070701" + [ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0].map(hex).join("");
    parts.push(Buffer.from(header, "latin1"), nameBuf);
    size += header.length + nameBuf.length;
    pad();
    parts.push(data);
    size += data.length;
    pad();
  };
  for (const e of entries) {
    const p = e.path.replace(/^\/+/, "");
    switch (e.type) {
      case "file":
        add(p, TYPE_BITS.file | (e.mode & 0o7777), e.data);
        break;
      case "directory":
        add(p, TYPE_BITS.directory | (e.mode & 0o7777), Buffer.alloc(0), [0, 0], 2);
        break;
      case "symlink":
        add(p, TYPE_BITS.symlink | 0o777, Buffer.from(e.target, "utf8"));
        break;
      case "char":
        add(p, TYPE_BITS.char | (e.mode & 0o7777), Buffer.alloc(0), [e.major, e.minor]);
        break;
    }
  }
  ino = 0;
  add("TRAILER!!!", 0, Buffer.alloc(0), [0, 0], 1);
  return Buffer.concat(parts);
}
