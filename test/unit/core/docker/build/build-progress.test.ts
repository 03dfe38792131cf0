// readBuildMessage turns each JSON message of POST /build into log text, the
// step counter, the error that ends a failed build and the built image's ID;
// JsonMessageSplitter cuts the byte stream into those messages wherever the
// chunks happen to end.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { JsonMessageSplitter, readBuildMessage } from "../../../../../src/core/docker/build/build-progress";

describe("readBuildMessage", () => {
  it("reads a Step line into the step counter", () => {
    assert.deepEqual(readBuildMessage({ stream: "Step 2/5 : RUN apk add --no-cache curl\n" }), {
      text: "Step 2/5 : RUN apk add --no-cache curl\n",
      step: { index: 2, total: 5, instruction: "RUN apk add --no-cache curl" },
    });
  });

  it("finds a Step line among other lines of the same message", () => {
    assert.deepEqual(readBuildMessage({ stream: ' ---> 1a2b3c4d5e6f\nStep 3/3 : CMD ["sh"]\n' }).step, { index: 3, total: 3, instruction: 'CMD ["sh"]' });
  });

  it("passes ordinary build output through", () => {
    assert.deepEqual(readBuildMessage({ stream: " ---> Running in 5e6f7a8b9c0d\n" }), { text: " ---> Running in 5e6f7a8b9c0d\n" });
  });

  it("reads errorDetail as the build's error", () => {
    const p = readBuildMessage({
      errorDetail: { code: 1, message: "The command '/bin/sh -c false' returned a non-zero code: 1" },
      error: "The command '/bin/sh -c false' returned a non-zero code: 1",
    });
    assert.deepEqual(p, { text: "The command '/bin/sh -c false' returned a non-zero code: 1\n", error: "The command '/bin/sh -c false' returned a non-zero code: 1" });
  });

  it("prefers errorDetail.message over error", () => {
    assert.equal(readBuildMessage({ errorDetail: { message: "detailed" }, error: "short" }).error, "detailed");
  });

  it("reads error alone, and error beside an empty errorDetail", () => {
    assert.deepEqual(readBuildMessage({ error: "pull access denied for nope" }), { text: "pull access denied for nope\n", error: "pull access denied for nope" });
    assert.equal(readBuildMessage({ errorDetail: {}, error: "short" }).error, "short");
  });

  it("reads aux.ID as the image ID, with no text", () => {
    assert.deepEqual(readBuildMessage({ aux: { ID: "sha256:4c0b8b5f1c7e9a2d3e4f5a6b7c8d9e0f4c0b8b5f1c7e9a2d3e4f5a6b7c8d9e0f" } }), {
      text: "",
      imageId: "sha256:4c0b8b5f1c7e9a2d3e4f5a6b7c8d9e0f4c0b8b5f1c7e9a2d3e4f5a6b7c8d9e0f",
    });
  });

  it("ignores an aux message without an ID", () => assert.deepEqual(readBuildMessage({ aux: { Digest: "sha256:x" } }), { text: "" }));

  it('reads "Successfully built" as the image ID', () => {
    assert.deepEqual(readBuildMessage({ stream: "Successfully built 4c0b8b5f1c7e\n" }), { text: "Successfully built 4c0b8b5f1c7e\n", imageId: "4c0b8b5f1c7e" });
  });

  it('does not take a non-hex word after "Successfully built" for an ID', () => {
    assert.equal(readBuildMessage({ stream: "Successfully built the-thing\n" }).imageId, undefined);
  });

  it("prints status with its progress bar on one line", () => {
    assert.deepEqual(readBuildMessage({ status: "Downloading", progressDetail: { current: 1, total: 2 }, progress: "[=====>     ]  1.2MB/2.4MB", id: "abc" }), {
      text: "Downloading [=====>     ]  1.2MB/2.4MB\n",
    });
  });

  it("prints a status without progress on its own", () => {
    assert.deepEqual(readBuildMessage({ status: "Pulling from library/alpine", id: "3.19" }), { text: "Pulling from library/alpine\n" });
  });

  it("gives empty text for an empty, null or unknown message", () => {
    assert.deepEqual(readBuildMessage({}), { text: "" });
    assert.deepEqual(readBuildMessage(null), { text: "" });
    assert.deepEqual(readBuildMessage(undefined), { text: "" });
    assert.deepEqual(readBuildMessage({ stream: 42 }), { text: "" });
  });
});

describe("JsonMessageSplitter", () => {
  it("parses one message a line", () => {
    const s = new JsonMessageSplitter();
    assert.deepEqual(s.push('{"stream":"Step 1/2 : FROM alpine\\n"}\n'), [{ stream: "Step 1/2 : FROM alpine\n" }]);
    assert.deepEqual(s.end(), []);
  });

  it("returns several messages from one chunk, and handles \\r\\n", () => {
    const s = new JsonMessageSplitter();
    assert.deepEqual(s.push('{"stream":"a"}\r\n{"stream":"b"}\r\n\r\n{"aux":{"ID":"sha256:1"}}\r\n'), [{ stream: "a" }, { stream: "b" }, { aux: { ID: "sha256:1" } }]);
  });

  it("keeps a line cut mid-JSON until the rest arrives", () => {
    const s = new JsonMessageSplitter();
    assert.deepEqual(s.push('{"stream":"Step 1/'), []);
    assert.deepEqual(s.push('2 : FROM alpine\\n"}\n{"str'), [{ stream: "Step 1/2 : FROM alpine\n" }]);
    assert.deepEqual(s.push('eam":"done"}'), []);
    assert.deepEqual(s.push("\n"), [{ stream: "done" }]);
  });

  it("gives the same messages whichever way the stream is cut", () => {
    const text = '{"stream":"Step 1/2 : FROM alpine\\n"}\r\n{"status":"Downloading","progress":"[=>  ]"}\r\n{"errorDetail":{"message":"boom"},"error":"boom"}\r\n';
    const whole = new JsonMessageSplitter().push(text);
    assert.equal(whole.length, 3);
    for (let size = 1; size <= 17; size++) {
      const s = new JsonMessageSplitter();
      const got: unknown[] = [];
      for (let i = 0; i < text.length; i += size) got.push(...s.push(text.slice(i, i + size)));
      got.push(...s.end());
      assert.deepEqual(got, whole, `chunks of ${size}`);
    }
  });

  it("turns a line that is not JSON into a stream message", () => {
    const s = new JsonMessageSplitter();
    assert.deepEqual(s.push('plain text from a proxy\n{"stream":"ok"}\n{broken json\n'), [{ stream: "plain text from a proxy\n" }, { stream: "ok" }, { stream: "{broken json\n" }]);
  });

  it("flushes the unterminated tail on end(), once", () => {
    const s = new JsonMessageSplitter();
    assert.deepEqual(s.push('{"stream":"a"}\n{"aux":{"ID":"sha256:2"}}'), [{ stream: "a" }]);
    assert.deepEqual(s.end(), [{ aux: { ID: "sha256:2" } }]);
    assert.deepEqual(s.end(), []);
  });

  it("flushes a non-JSON tail as a stream message, and nothing for whitespace", () => {
    const a = new JsonMessageSplitter();
    a.push("partial");
    assert.deepEqual(a.end(), [{ stream: "partial\n" }]);
    const b = new JsonMessageSplitter();
    b.push("  \r\n  ");
    assert.deepEqual(b.end(), []);
  });

  it("feeds readBuildMessage end to end", () => {
    const s = new JsonMessageSplitter();
    const messages = [...s.push('{"stream":"Step 1/1 : FROM alpine\\n"}\n{"aux":{"ID":"sha256:ab'), ...s.push('c"}}\n{"stream":"Successfully built abcdef012345\\n"}'), ...s.end()];
    const read = messages.map(readBuildMessage);
    assert.deepEqual(
      read.map((p) => p.step?.index),
      [1, undefined, undefined],
    );
    assert.deepEqual(
      read.map((p) => p.imageId),
      [undefined, "sha256:abc", "abcdef012345"],
    );
  });
});
