import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
// xz-decompress: liblzma compiled to WebAssembly, so .deb data (tar.xz) is read
// the same way on Linux, macOS and Windows with no native add-on.
import { XzReadableStream } from "xz-decompress";

/** Decompresses an .xz stream. */
export function xzDecompress(input: Readable): Readable {
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  return Readable.fromWeb(new XzReadableStream(web) as unknown as WebReadableStream<Uint8Array>);
}

export async function xzDecompressBuffer(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of xzDecompress(Readable.from([data]))) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
