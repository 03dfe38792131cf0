import { HangarError } from "../../util/errors";

/**
 * The Unix `ar` container, the outer layer of every .deb (deb(5)). Written by
 * hand because it is tiny: the magic "!<arch>\n", then per member a 60-byte
 * text header — name[16] mtime[12] uid[6] gid[6] mode[8, octal] size[10,
 * decimal] and the terminator "`\n" — the data, and one "\n" of padding
 * after an odd-sized member.
 *
 * Name spellings: dpkg-deb writes plain names ("debian-binary"); GNU ar ends
 * them with "/" and keeps names over 15 characters in a "//" member that
 * "/<offset>" refers to; BSD ar writes "#1/<length>" with the name in front
 * of the data. The GNU symbol table ("/") is skipped.
 */
export interface ArMember {
  name: string;
  mtime: number;
  uid: number;
  gid: number;
  mode: number;
  data: Buffer;
}

export class ArArchiveError extends HangarError {}

const MAGIC = "!<arch>\n";
const HEADER_SIZE = 60;

/** `label` names the archive in error messages (its file name). */
export function readArArchive(buf: Buffer, label: string): ArMember[] {
  if (buf.length < MAGIC.length || buf.toString("latin1", 0, MAGIC.length) !== MAGIC) {
    throw new ArArchiveError(`${label} is not an ar archive (a .deb starts with "!<arch>").`, "The download may be damaged or not a Debian package: delete it and download it again.");
  }
  const members: ArMember[] = [];
  let longNames: Buffer | undefined;
  let off = MAGIC.length;
  while (off < buf.length) {
    // Some writers pad the very end with a newline even after an even member.
    if (buf.length - off === 1 && buf[off] === 0x0a) break;
    if (off + HEADER_SIZE > buf.length) throw truncated(label, off);
    const field = (start: number, length: number): string => buf.toString("latin1", off + start, off + start + length).trimEnd();
    if (buf.toString("latin1", off + 58, off + 60) !== "`\n")
      throw new ArArchiveError(`${label} is damaged: the ar member header at byte ${off} has no terminator.`, "Delete the file and download it again.");
    let name = field(0, 16);
    const size = parseNumber(field(48, 10), 10, label, off, "size");
    const start = off + HEADER_SIZE;
    if (start + size > buf.length) throw truncated(label, off);
    let data = buf.subarray(start, start + size);
    const next = start + size + (size % 2);

    if (name.startsWith("#1/")) {
      const nameLength = parseNumber(name.slice(3), 10, label, off, "name length");
      if (nameLength > size) throw truncated(label, off);
      name = data.toString("utf8", 0, nameLength).replace(/\0+$/, "");
      data = data.subarray(nameLength);
    } else if (name === "/" || name === "/SYM64/") {
      off = next; // GNU symbol table: not a member
      continue;
    } else if (name === "//") {
      longNames = data; // GNU long-name table: "name/\n" records
      off = next;
      continue;
    } else if (/^\/\d+$/.test(name)) {
      const at = Number(name.slice(1));
      if (!longNames || at >= longNames.length) throw new ArArchiveError(`${label} is damaged: member name ${name} points outside the long-name table.`, "Delete the file and download it again.");
      const end = longNames.indexOf("/\n", at, "latin1");
      name = longNames.toString("utf8", at, end < 0 ? longNames.length : end);
    } else if (name.endsWith("/")) {
      name = name.slice(0, -1);
    }

    members.push({
      name,
      mtime: parseNumber(field(16, 12) || "0", 10, label, off, "mtime"),
      uid: parseNumber(field(28, 6) || "0", 10, label, off, "uid"),
      gid: parseNumber(field(34, 6) || "0", 10, label, off, "gid"),
      mode: parseNumber(field(40, 8) || "0", 8, label, off, "mode"),
      data,
    });
    off = next;
  }
  return members;
}

function parseNumber(text: string, radix: 8 | 10, label: string, off: number, what: string): number {
  const valid = radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!valid.test(text)) throw new ArArchiveError(`${label} is damaged: the ar member header at byte ${off} has an invalid ${what} ("${text}").`, "Delete the file and download it again.");
  return parseInt(text, radix);
}

function truncated(label: string, off: number): ArArchiveError {
  return new ArArchiveError(`${label} is truncated: its ar member at byte ${off} runs past the end of the file.`, "The download was cut short: delete it and download it again.");
}
