import { Readable, Transform } from "node:stream";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import { createGunzip } from "node:zlib";
import { Decompress as ZstdDecompress } from "fzstd";
// xz-decompress is liblzma compiled to WebAssembly: the same code reads .xz on
// Linux, macOS and Windows with no native add-on to build or ship per platform.
import { XzReadableStream } from "xz-decompress";

/** The compressions Debian uses for indexes (Packages.xz/.gz) and package members (data.tar.xz/.zst/.gz). */
export type Compression = "xz" | "gzip" | "zstd" | "none";

/** By file-name suffix; undefined for a suffix Hangar cannot read (e.g. .bz2, .lzma). */
export function compressionOf(name: string): Compression | undefined {
  if (name.endsWith(".xz")) return "xz";
  if (name.endsWith(".gz")) return "gzip";
  if (name.endsWith(".zst")) return "zstd";
  if (/\.(bz2|lzma|lz4|lz|Z)$/.test(name)) return undefined;
  return "none";
}

/** A stream of the decompressed bytes of `input`. Errors (damaged data) are emitted on the returned stream. */
export function decompressStream(input: Readable, compression: Compression): Readable {
  switch (compression) {
    case "none":
      return input;
    case "gzip":
      return forwardErrors(input, input.pipe(createGunzip()));
    case "zstd":
      return forwardErrors(input, input.pipe(zstdTransform()));
    case "xz": {
      const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
      return Readable.fromWeb(new XzReadableStream(web) as unknown as NodeWebReadableStream<Uint8Array>);
    }
  }
}

/** Decompresses a whole buffer (an index file). */
export async function decompressBuffer(data: Uint8Array, compression: Compression, signal?: AbortSignal): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of decompressStream(Readable.from([data]), compression)) {
    signal?.throwIfAborted();
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  }
  return Buffer.concat(chunks);
}

/** fzstd (pure JavaScript) decodes synchronously; this wraps it as a Node Transform. */
function zstdTransform(): Transform {
  let decoder: ZstdDecompress | undefined;
  return new Transform({
    construct(callback) {
      decoder = new ZstdDecompress((chunk) => this.push(Buffer.from(chunk)));
      callback();
    },
    transform(chunk: Buffer, _encoding, callback) {
      try {
        decoder?.push(chunk);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        decoder?.push(new Uint8Array(0), true);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

/** `pipe` does not pass errors on; the consumer listens on the last stream only. */
function forwardErrors(from: Readable, to: Readable): Readable {
  from.on("error", (err) => to.destroy(err));
  return to;
}
