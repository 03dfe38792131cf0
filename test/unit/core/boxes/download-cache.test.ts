import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { DownloadCache, DownloadDigestMismatchError, DownloadError } from "../../../../src/core/boxes/download-cache";

const BODY = randomBytes(300_000);
const SHA = sha256(BODY);

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

interface ServerOptions {
  /** Answer Range requests with 206 (else ignore Range and send 200 + everything). */
  range?: boolean;
  /** This many first requests send half the body, then drop the connection. */
  dropFirst?: number;
  /** Send half the body, then never finish (for abort). */
  stall?: boolean;
  /** What /blob serves. */
  body?: Buffer;
}

interface TestServer {
  url: string;
  /** Range header of each request, "" when none. */
  ranges: string[];
  close(): Promise<void>;
}

async function serve(o: ServerOptions = {}): Promise<TestServer> {
  const body = o.body ?? BODY;
  const ranges: string[] = [];
  let drops = o.dropFirst ?? 0;
  const server = http.createServer((req, res) => {
    if (req.url !== "/blob") {
      res.writeHead(404).end("not here");
      return;
    }
    const rangeHeader = req.headers.range ?? "";
    ranges.push(rangeHeader);
    const m = /^bytes=(\d+)-$/.exec(rangeHeader);
    let start = 0;
    if (o.range && m) {
      start = Number(m[1]);
      if (start >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { "content-length": body.length - start, "content-range": `bytes ${start}-${body.length - 1}/${body.length}` });
    } else {
      res.writeHead(200, { "content-length": body.length });
    }
    const rest = body.subarray(start);
    if (drops > 0 || o.stall) {
      drops--;
      res.write(rest.subarray(0, Math.floor(rest.length / 2)), () => {
        if (!o.stall) setTimeout(() => res.socket?.destroy(), 20);
      });
      return;
    }
    res.end(rest);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/blob`,
    ranges,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function withCache(fn: (cache: DownloadCache, dir: string) => Promise<void>): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-cache-"));
  try {
    await fn(new DownloadCache(dir), dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

async function withServer(o: ServerOptions, fn: (s: TestServer) => Promise<void>): Promise<void> {
  const s = await serve(o);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

test("a download is kept under sha256/<hex>; the next fetch is a hit that asks nothing", async () => {
  await withServer({ range: true }, async (s) => {
    await withCache(async (cache, dir) => {
      const progress: Array<[number, number | undefined]> = [];
      const file = await cache.fetch(s.url, { sha256: SHA.toUpperCase(), onProgress: (r, t) => progress.push([r, t]) });
      assert.equal(file, path.join(dir, "sha256", SHA));
      assert.ok((await fs.readFile(file)).equals(BODY));
      assert.deepEqual(progress.at(-1), [BODY.length, BODY.length], "progress ends at the total from content-length");
      assert.ok(
        progress.every(([r], i) => i === 0 || r >= progress[i - 1][0]),
        "progress never goes back",
      );
      assert.equal(await cache.fetch(s.url, { sha256: SHA, size: BODY.length }), file);
      assert.equal(s.ranges.length, 1);
      assert.equal(existsSync(`${file}.partial`), false);
    });
  });
});

test("a cached file whose size disagrees with the caller's is fetched again", async () => {
  await withServer({ range: true }, async (s) => {
    await withCache(async (cache) => {
      const file = cache.pathFor(SHA);
      await fs.mkdir(path.dirname(file), { recursive: true });
      await fs.writeFile(file, BODY.subarray(0, 10));
      assert.equal(await cache.fetch(s.url, { sha256: SHA }), file, "no size given: the name is trusted");
      assert.equal(s.ranges.length, 0);
      await cache.fetch(s.url, { sha256: SHA, size: BODY.length });
      assert.equal(s.ranges.length, 1);
      assert.ok((await fs.readFile(file)).equals(BODY));
    });
  });
});

test("a transfer the server drops mid-body resumes with a Range request in the same call", async () => {
  await withServer({ range: true, dropFirst: 1 }, async (s) => {
    await withCache(async (cache) => {
      const file = await cache.fetch(s.url, { sha256: SHA, size: BODY.length });
      assert.ok((await fs.readFile(file)).equals(BODY));
      assert.equal(s.ranges.length, 2);
      assert.equal(s.ranges[0], "");
      assert.match(s.ranges[1], /^bytes=\d+-$/);
      assert.ok(Number(/\d+/.exec(s.ranges[1])![0]) > 0);
    });
  });
});

test("an interrupted download is kept as .partial and the next call resumes from it", async () => {
  await withServer({ range: true, dropFirst: 1 }, async (s) => {
    await withCache(async (cache) => {
      await assert.rejects(cache.fetch(s.url, { sha256: SHA, attempts: 1 }), (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.match((err as Error).message, /resumes/);
        return true;
      });
      const partial = `${cache.pathFor(SHA)}.partial`;
      const kept = (await fs.stat(partial)).size;
      assert.ok(kept > 0 && kept < BODY.length);
      assert.equal(existsSync(cache.pathFor(SHA)), false);
      const received: number[] = [];
      const file = await cache.fetch(s.url, { sha256: SHA, onProgress: (r) => received.push(r) });
      assert.equal(s.ranges[1], `bytes=${kept}-`);
      assert.equal(received[0], kept, "progress starts from the resumed part");
      assert.ok((await fs.readFile(file)).equals(BODY));
      assert.equal(existsSync(partial), false);
    });
  });
});

test("a server that ignores Range sends everything, and the part is started over", async () => {
  await withServer({ range: false }, async (s) => {
    await withCache(async (cache) => {
      const partial = `${cache.pathFor(SHA)}.partial`;
      await fs.mkdir(path.dirname(partial), { recursive: true });
      await fs.writeFile(partial, BODY.subarray(0, 1000));
      const file = await cache.fetch(s.url, { sha256: SHA });
      assert.equal(s.ranges[0], "bytes=1000-", "a Range was asked for");
      assert.equal(s.ranges.length, 1, "the 200 answer was used, not a second request");
      assert.ok((await fs.readFile(file)).equals(BODY));
    });
  });
});

test("a left-over part that is wrong is dropped and the file fetched whole", async () => {
  await withServer({ range: true }, async (s) => {
    await withCache(async (cache) => {
      const partial = `${cache.pathFor(SHA)}.partial`;
      await fs.mkdir(path.dirname(partial), { recursive: true });
      await fs.writeFile(partial, randomBytes(1000));
      const file = await cache.fetch(s.url, { sha256: SHA });
      assert.deepEqual(s.ranges, ["bytes=1000-", ""]);
      assert.ok((await fs.readFile(file)).equals(BODY));
    });
  });
});

test("a digest mismatch is refused with URL, expected and actual digests, and nothing is cached", async () => {
  const wrong = Buffer.from("not what the index said");
  await withServer({ range: true, body: wrong }, async (s) => {
    await withCache(async (cache, dir) => {
      await assert.rejects(cache.fetch(s.url, { sha256: SHA }), (err: unknown) => {
        assert.ok(err instanceof DownloadDigestMismatchError);
        assert.equal(err.url, s.url);
        assert.equal(err.expected, SHA);
        assert.equal(err.actual, sha256(wrong));
        assert.ok(err.message.includes(s.url) && err.message.includes(SHA) && err.message.includes(sha256(wrong)));
        return true;
      });
      assert.deepEqual(await fs.readdir(path.join(dir, "sha256")), []);
    });
  });
});

test("a server sending more than the expected size is stopped and nothing is kept", async () => {
  await withServer({ range: true }, async (s) => {
    await withCache(async (cache, dir) => {
      await assert.rejects(cache.fetch(s.url, { sha256: SHA, size: 1000 }), (err: unknown) => err instanceof DownloadError && /more than the expected 1000 bytes/.test(err.message));
      assert.deepEqual(await fs.readdir(path.join(dir, "sha256")), []);
    });
  });
});

test("an HTTP error is reported once, not retried", async () => {
  await withServer({ range: true }, async (s) => {
    await withCache(async (cache) => {
      await assert.rejects(cache.fetch(`${s.url}-missing`, { sha256: SHA }), (err: unknown) => {
        assert.ok(err instanceof DownloadError);
        assert.match((err as Error).message, /HTTP 404/);
        return true;
      });
    });
  });
});

test("abort stops the transfer, keeps the part, publishes nothing; a later call resumes", async () => {
  await withServer({ range: true, stall: true }, async (s) => {
    await withCache(async (cache) => {
      const controller = new AbortController();
      const pending = cache.fetch(s.url, {
        sha256: SHA,
        signal: controller.signal,
        onProgress: (received) => {
          if (received > 0) controller.abort();
        },
      });
      await assert.rejects(pending, { name: "AbortError" });
      assert.equal(existsSync(cache.pathFor(SHA)), false);
      const kept = (await fs.stat(`${cache.pathFor(SHA)}.partial`)).size;
      assert.ok(kept > 0);
      await assert.rejects(cache.fetch(s.url, { sha256: SHA, signal: AbortSignal.abort() }), { name: "AbortError" }, "an aborted signal stops before any request");
      assert.equal(s.ranges.length, 1);
    });
  });
  await withServer({ range: true }, async (s) => {
    await withCache(async (cache) => {
      const partial = `${cache.pathFor(SHA)}.partial`;
      await fs.mkdir(path.dirname(partial), { recursive: true });
      await fs.writeFile(partial, BODY.subarray(0, 5000));
      assert.ok((await fs.readFile(await cache.fetch(s.url, { sha256: SHA }))).equals(BODY));
      assert.deepEqual(s.ranges, ["bytes=5000-"]);
    });
  });
});

test("two fetches of one digest at once make one request", async () => {
  await withServer({ range: true }, async (s) => {
    await withCache(async (cache) => {
      const [a, b] = await Promise.all([cache.fetch(s.url, { sha256: SHA }), cache.fetch(s.url, { sha256: SHA })]);
      assert.equal(a, b);
      assert.equal(s.ranges.length, 1);
    });
  });
});

test("a malformed digest is refused before anything is fetched", async () => {
  await withCache(async (cache) => {
    await assert.rejects(cache.fetch("http://127.0.0.1:9/blob", { sha256: "abc" }), /not a sha256 digest/);
  });
});
