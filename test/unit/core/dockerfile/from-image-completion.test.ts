import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DockerfileLanguage } from "../../../../src/core/dockerfile/dockerfile-language";
import { fromImageArgumentRange } from "../../../../src/core/dockerfile/from-image-completion";

const at = (line: number, character: number) => ({ line, character });

describe("FROM image completion", () => {
  it("offers the provider's names and the built-in ones in FROM's image argument", async () => {
    const language = new DockerfileLanguage(async () => ["alpine:3.20", "myapp:dev", "busybox:latest"]);
    const items = await language.computeCompletions("FROM ", at(0, 5));
    const images = items.filter((i) => i.kind === "image");
    assert.deepEqual(
      images.map((i) => i.label),
      ["alpine:3.20", "myapp:dev", "busybox:latest", "debian:bookworm", "debian:bookworm-slim", "scratch"],
    );
    assert.deepEqual(images[0].range, { start: at(0, 5), end: at(0, 5) });
    // The service's own suggestion (--platform) stays.
    assert.ok(items.some((i) => i.label.startsWith("--platform")));
  });

  it("replaces a partly typed name, also after flags and in a later stage", async () => {
    const language = new DockerfileLanguage(async () => ["alpine:3.20"]);
    const text = "FROM busybox AS build\nRUN true\nFROM --platform=linux/386 alp\n";
    const items = await language.computeCompletions(text, at(2, 29));
    const alpine = items.find((i) => i.label === "alpine:3.20");
    assert.ok(alpine, items.map((i) => i.label).join(","));
    assert.deepEqual(alpine.range, { start: at(2, 26), end: at(2, 29) });
  });

  it("offers no image names outside FROM's image argument", () => {
    assert.equal(fromImageArgumentRange("FROM busybox AS b", at(0, 16)), undefined, "on the stage name");
    assert.equal(fromImageArgumentRange("FROM busybox ", at(0, 13)), undefined, "after the image");
    assert.equal(fromImageArgumentRange("FROM busybox\nRUN x", at(1, 5)), undefined, "in RUN");
    assert.equal(fromImageArgumentRange("FROM --platform=linux/386 x", at(0, 10)), undefined, "in a flag");
    assert.equal(fromImageArgumentRange("FROM", at(0, 3)), undefined, "in the keyword");
    assert.deepEqual(fromImageArgumentRange("from busybox", at(0, 7)), { start: at(0, 5), end: at(0, 12) }, "any keyword case");
  });

  it("still offers the built-in names when the provider fails", async () => {
    const language = new DockerfileLanguage(() => Promise.reject(new Error("no engine")));
    const items = await language.computeCompletions("FROM ", at(0, 5));
    assert.deepEqual(
      items.filter((i) => i.kind === "image").map((i) => i.label),
      ["debian:bookworm", "debian:bookworm-slim", "busybox:latest", "scratch"],
    );
  });
});
