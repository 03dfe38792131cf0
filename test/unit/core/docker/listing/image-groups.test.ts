// groupImages lays GET /images/json out the way the Images view shows it
// (repositories by name, "<none>" last, tags newest first, one row per tag),
// and shortId / formatSize / formatAge print what the docker CLI prints.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ImageInfo } from "dockerode";
import { formatAge, formatSize, groupImages, shortId, UNTAGGED } from "../../../../../src/core/docker/listing/image-groups";

function image(id: string, repoTags: string[] | null, created: number, extra: Partial<ImageInfo> = {}): ImageInfo {
  return {
    Id: `sha256:${id.padEnd(64, "0")}`,
    ParentId: "",
    RepoTags: repoTags as string[],
    RepoDigests: [],
    Created: created,
    Size: 1000,
    VirtualSize: 1000,
    SharedSize: -1,
    Labels: {},
    Containers: -1,
    ...extra,
  };
}

const layout = (groups: ReturnType<typeof groupImages>): Array<[string, string[]]> => groups.map((g) => [g.repository, g.tags.map((t) => t.tag)]);

describe("groupImages", () => {
  it("returns no groups for no images", () => assert.deepEqual(groupImages([]), []));

  it("groups by repository, sorted by name, tags newest first", () => {
    const groups = groupImages([image("aa", ["nginx:1.25"], 100), image("bb", ["alpine:3.19"], 300), image("cc", ["nginx:1.27"], 300), image("dd", ["nginx:1.26"], 200)]);
    assert.deepEqual(layout(groups), [
      ["alpine", ["3.19"]],
      ["nginx", ["1.27", "1.26", "1.25"]],
    ]);
    assert.equal(groups[1].tags[0].ref, "nginx:1.27");
    assert.equal(groups[1].tags[0].image.Id, `sha256:${"cc".padEnd(64, "0")}`);
  });

  it("orders tags of the same age by name", () => {
    const groups = groupImages([image("aa", ["app:b", "app:a", "app:c"], 100)]);
    assert.deepEqual(layout(groups), [["app", ["a", "b", "c"]]]);
  });

  it("puts untagged images last, under <none>, named by their short ID", () => {
    const groups = groupImages([image("0123456789abcdef", null, 500), image("fedcba9876543210", ["<none>:<none>"], 400), image("aa", ["zeta:1"], 100), image("bb", ["alpha:1"], 100)]);
    assert.deepEqual(layout(groups), [
      ["alpha", ["1"]],
      ["zeta", ["1"]],
      [UNTAGGED, ["0123456789ab", "fedcba987654"]],
    ]);
    assert.equal(UNTAGGED, "<none>");
    assert.deepEqual(
      groups[2].tags.map((t) => t.ref),
      ["0123456789ab", "fedcba987654"],
    );
  });

  it("keeps the tagged names of an image that also has a <none>:<none> entry", () => {
    assert.deepEqual(layout(groupImages([image("aa", ["<none>:<none>", "web:2"], 1)])), [["web", ["2"]]]);
  });

  it("splits a registry host with a port from the tag", () => {
    const groups = groupImages([image("aa", ["localhost:5000/app:1", "localhost:5000/team/api:v2.1"], 10)]);
    assert.deepEqual(layout(groups), [
      ["localhost:5000/app", ["1"]],
      ["localhost:5000/team/api", ["v2.1"]],
    ]);
    assert.equal(groups[0].tags[0].ref, "localhost:5000/app:1");
  });

  it("reads a reference without a tag as :latest, even behind a registry port", () => {
    assert.deepEqual(layout(groupImages([image("aa", ["localhost:5000/app"], 10)])), [["localhost:5000/app", ["latest"]]]);
  });

  it("lists an image with several tags under each of them", () => {
    const groups = groupImages([image("aa", ["app:1.0", "app:latest", "registry.example/app:1.0"], 10), image("bb", ["app:0.9"], 5)]);
    assert.deepEqual(layout(groups), [
      ["app", ["1.0", "latest", "0.9"]],
      ["registry.example/app", ["1.0"]],
    ]);
    const shared = groups.flatMap((g) => g.tags).filter((t) => t.image.Id.startsWith("sha256:aa"));
    assert.equal(shared.length, 3);
    assert.ok(shared.every((t) => t.image === shared[0].image));
  });

  it("carries the container count when the API gave one, -1 otherwise", () => {
    const groups = groupImages([image("aa", ["a:1"], 1, { Containers: 2 }), image("bb", ["b:1"], 1, { Containers: undefined as unknown as number })]);
    assert.deepEqual(
      groups.map((g) => g.tags[0].containers),
      [2, -1],
    );
  });
});

describe("shortId", () => {
  it("drops sha256: and keeps 12 hex digits", () => assert.equal(shortId("sha256:4c0b8b5f1c7e9a2d3e4f5a6b7c8d9e0f"), "4c0b8b5f1c7e"));
  it("shortens a bare ID", () => assert.equal(shortId("4c0b8b5f1c7e9a2d3e4f"), "4c0b8b5f1c7e"));
  it("leaves a short ID alone", () => assert.equal(shortId("abc"), "abc"));
});

describe("formatSize", () => {
  const cases: [number, string][] = [
    [0, "0 B"],
    [999, "999 B"],
    [1000, "1.00 kB"],
    [1024, "1.02 kB"],
    [340_000, "340 kB"],
    [12_345, "12.3 kB"],
    [1_200_000, "1.20 MB"],
    [77_800_000, "77.8 MB"],
    [1_500_000_000, "1.50 GB"],
    [2_000_000_000_000, "2.00 TB"],
    [5_000_000_000_000_000, "5000 TB"],
  ];
  for (const [bytes, text] of cases) it(`prints ${bytes} as ${JSON.stringify(text)}`, () => assert.equal(formatSize(bytes), text));

  it("uses decimal (1000), not binary (1024), steps", () => {
    assert.equal(formatSize(1_000_000), "1.00 MB");
    assert.equal(formatSize(1_048_576), "1.05 MB");
  });

  for (const bad of [-1, NaN, Infinity]) it(`prints ${bad} as "?"`, () => assert.equal(formatSize(bad), "?"));
});

describe("formatAge", () => {
  const now = Date.UTC(2024, 5, 1, 12, 0, 0);
  const nowS = now / 1000;
  const cases: [number, string][] = [
    [0, "just now"],
    [1, "just now"],
    [2, "2 seconds ago"],
    [59, "59 seconds ago"],
    [60, "1 minute ago"],
    [90, "1 minute ago"],
    [3 * 60, "3 minutes ago"],
    [3600, "1 hour ago"],
    [5 * 3600 + 59 * 60, "5 hours ago"],
    [86_400, "1 day ago"],
    [3 * 86_400, "3 days ago"],
    [7 * 86_400, "1 week ago"],
    [20 * 86_400, "2 weeks ago"],
    [31 * 86_400, "1 month ago"],
    [200 * 86_400, "6 months ago"],
    [366 * 86_400, "1 year ago"],
    [3 * 366 * 86_400, "3 years ago"],
  ];
  for (const [ago, text] of cases) it(`prints ${ago}s ago as ${JSON.stringify(text)}`, () => assert.equal(formatAge(nowS - ago, now), text));

  it("treats a creation time in the future as just now", () => assert.equal(formatAge(nowS + 3600, now), "just now"));
  it("rounds to the nearest second of the clock", () => assert.equal(formatAge(nowS - 2, now + 400), "2 seconds ago"));
});
