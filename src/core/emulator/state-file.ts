import { promises as fs } from "node:fs";
import { promisify } from "node:util";
import * as zlib from "node:zlib";
import type { FidRecord } from "../shares/host-share-server";
import { writeFileAtomic } from "../util/atomic-file";

/**
 * A machine's saved state on disk: v86's own state plus what lives outside
 * v86 but belongs to the same instant — the 9p server's open handles, without
 * which a restored guest's mounts would point at nothing.
 *
 * Layout: "HANGARSTATE1\n", u32 LE header length, JSON header, payload (v86's
 * state, gzip-compressed when the header says so). One file, written
 * atomically, so the two halves can never disagree after a crash.
 */
const MAGIC = Buffer.from("HANGARSTATE1\n");
const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

interface StateHeader {
  compression: "none" | "gzip";
  bytes: number;
  ninep: FidRecord[];
}

export interface MachineState {
  v86: ArrayBuffer;
  ninep: FidRecord[];
}

/**
 * Writes a state. Compression (gzip level 1, in Node's thread pool: about a
 * third of the size, ~0.4 s for a 40 MB state) is for states kept per machine
 * — suspends and snapshots; a box's booted state, read at every `up`, stays
 * raw so restoring it costs no decompression. Returns the bytes written.
 */
export async function writeStateFile(file: string, v86: Uint8Array, ninep: FidRecord[], compress: boolean): Promise<number> {
  const payload = compress ? await gzip(v86, { level: 1 }) : v86;
  const header = Buffer.from(JSON.stringify({ compression: compress ? "gzip" : "none", bytes: v86.byteLength, ninep } satisfies StateHeader));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  const data = Buffer.concat([MAGIC, length, header, payload]);
  await writeFileAtomic(file, data);
  return data.length;
}

export async function readStateFile(file: string): Promise<MachineState> {
  const data = await fs.readFile(file);
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${file} is not a Hangar machine state (an older format, or damaged).`);
  const headerLength = data.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  const header = JSON.parse(data.subarray(start, start + headerLength).toString("utf8")) as StateHeader;
  const payload = data.subarray(start + headerLength);
  const raw = header.compression === "gzip" ? await gunzip(payload) : payload;
  if (raw.byteLength !== header.bytes) throw new Error(`${file} is truncated (${raw.byteLength} of ${header.bytes} bytes).`);
  return { v86: raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer, ninep: header.ninep };
}
