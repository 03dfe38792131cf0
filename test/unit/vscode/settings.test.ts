// Every setting package.json contributes is described (with its default and
// bounds), read somewhere in the extension's code by its key, and listed in
// the README's settings table — a setting nothing reads is a promise broken.
import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import { globSync } from "glob";

const ROOT = path.resolve(__dirname, "../../..");
interface Setting {
  type: string;
  default?: unknown;
  description?: string;
  markdownDescription?: string;
  minimum?: number;
  maximum?: number;
}
const settings = Object.entries(
  (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { contributes: { configuration: { properties: Record<string, Setting> } } }).contributes.configuration.properties,
);
const source = globSync("src/**/*.ts", { cwd: ROOT })
  .map((f) => readFileSync(path.join(ROOT, f), "utf8"))
  .join("\n");
const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");

describe("Settings", () => {
  it("are 25 or more, each with a type, a default and a description", () => {
    assert.ok(settings.length >= 25, `${settings.length} settings`);
    for (const [key, s] of settings) {
      assert.ok(s.type, `${key} has a type`);
      assert.ok("default" in s, `${key} has a default`);
      assert.ok((s.markdownDescription ?? s.description ?? "").length > 20, `${key} is described`);
      if (s.type === "integer") assert.ok(s.minimum !== undefined, `${key} has a minimum`);
    }
  });

  it('are each read by the code under their key (getConfiguration("hangar").get("…"))', () => {
    const unread = settings.map(([key]) => key.replace(/^hangar\./, "")).filter((key) => !source.includes(`"${key}"`));
    assert.deepEqual(unread, []);
  });

  it("are each listed in the README", () => {
    assert.deepEqual(
      settings.map(([key]) => key).filter((key) => !readme.includes(`\`${key}\``)),
      [],
    );
  });
});
