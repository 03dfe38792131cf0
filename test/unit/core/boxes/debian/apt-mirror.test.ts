import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DebianMirrorNotFoundError, InvalidDebianMirrorError, resolveDebianMirror } from "../../../../../src/core/boxes/debian/apt-mirror";
import { HangarError } from "../../../../../src/core/util/errors";

/** Builds a fixture apt tree: `files` maps paths under etc/apt to contents. */
function withAptRoot(files: Record<string, string>, fn: (root: string) => void): void {
  const root = mkdtempSync(path.join(os.tmpdir(), "hangar-apt-"));
  try {
    for (const [rel, text] of Object.entries(files)) {
      const file = path.join(root, "etc", "apt", rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const noEnv = {};

test("the setting wins over the environment and apt", () => {
  withAptRoot({ "sources.list": "deb http://apt.example/debian bookworm main\n" }, (aptRoot) => {
    const r = resolveDebianMirror({ setting: " http://setting.example/debian/ ", env: { HANGAR_DEBIAN_MIRROR: "http://env.example/debian" }, aptRoot });
    assert.deepEqual(r, { url: "http://setting.example/debian", source: "setting" });
  });
});

test("HANGAR_DEBIAN_MIRROR wins over apt; an empty setting counts as unset", () => {
  withAptRoot({ "sources.list": "deb http://apt.example/debian bookworm main\n" }, (aptRoot) => {
    const r = resolveDebianMirror({ setting: "  ", env: { HANGAR_DEBIAN_MIRROR: "https://env.example/debian//" }, aptRoot });
    assert.deepEqual(r, { url: "https://env.example/debian", source: "env" });
  });
});

test("a setting that is not an http(s) URL is refused with a HangarError naming it", () => {
  assert.throws(
    () => resolveDebianMirror({ setting: "mirror.example/debian", env: noEnv }),
    (err: unknown) => {
      assert.ok(err instanceof InvalidDebianMirrorError);
      assert.match((err as Error).message, /hangar\.debianMirror/);
      return true;
    },
  );
  assert.throws(() => resolveDebianMirror({ env: { HANGAR_DEBIAN_MIRROR: "ftp://mirror.example/debian" } }), /HANGAR_DEBIAN_MIRROR/);
});

test("deb822 sources: skips -security/-updates-only, disabled, deb-src and non-main stanzas", () => {
  const sources = [
    "# a comment before the first stanza",
    "Types: deb",
    "URIs: http://security.example/debian-security",
    "Suites: bookworm-security",
    "Components: main",
    "",
    "Types: deb",
    "URIs: http://updates.example/debian",
    "Suites: bookworm-updates",
    "Components: main",
    "",
    "Types: deb",
    "URIs: http://disabled.example/debian",
    "Suites: bookworm",
    "Components: main",
    "Enabled: no",
    "",
    "Types: deb-src",
    "URIs: http://source.example/debian",
    "Suites: bookworm",
    "Components: main",
    "",
    "Types: deb",
    "URIs: http://contrib.example/debian",
    "Suites: bookworm",
    "Components: contrib non-free",
    "",
    "Types: deb deb-src",
    "# comments may sit inside a stanza",
    "URIs: cdrom:/media/ http://mirror.example/debian/",
    "Suites: bookworm bookworm-updates",
    "Components: main contrib",
    "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
    "",
  ].join("\n");
  withAptRoot({ "sources.list.d/debian.sources": sources }, (aptRoot) => {
    assert.deepEqual(resolveDebianMirror({ env: noEnv, aptRoot }), { url: "http://mirror.example/debian", source: "apt" });
  });
});

test("one-line sources: options in brackets, comments, other suites skipped", () => {
  const list = [
    "# deb http://commented.example/debian bookworm main",
    "deb-src http://source.example/debian bookworm main",
    "deb http://trixie.example/debian trixie main",
    "deb http://security.example/debian-security bookworm-security main",
    "deb [arch=i386,amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main contrib # trailing comment",
  ].join("\n");
  withAptRoot({ "sources.list": list }, (aptRoot) => {
    assert.deepEqual(resolveDebianMirror({ env: noEnv, aptRoot }), { url: "http://mirror.example/debian", source: "apt" });
  });
});

test("apt's file order: sources.list, then sources.list.d/*.list and *.sources by name; other suffixes ignored", () => {
  withAptRoot(
    {
      "sources.list": "# nothing here\n",
      "sources.list.d/a.list.disabled": "deb http://disabled.example/debian bookworm main\n",
      "sources.list.d/b.sources": "Types: deb\nURIs: http://b.example/debian\nSuites: bookworm\nComponents: main\n",
      "sources.list.d/c.list": "deb http://c.example/debian bookworm main\n",
    },
    (aptRoot) => {
      assert.equal(resolveDebianMirror({ env: noEnv, aptRoot }).url, "http://b.example/debian");
    },
  );
  withAptRoot(
    {
      "sources.list": "deb http://first.example/debian bookworm main\n",
      "sources.list.d/b.sources": "Types: deb\nURIs: http://b.example/debian\nSuites: bookworm\nComponents: main\n",
    },
    (aptRoot) => {
      assert.equal(resolveDebianMirror({ env: noEnv, aptRoot }).url, "http://first.example/debian");
    },
  );
});

test("another suite can be asked for", () => {
  withAptRoot({ "sources.list": "deb http://mirror.example/debian bookworm main\ndeb http://mirror.example/debian trixie main\n" }, (aptRoot) => {
    assert.equal(resolveDebianMirror({ env: noEnv, aptRoot, suite: "trixie" }).url, "http://mirror.example/debian");
  });
});

test("nothing configured: a HangarError that says which setting to set", () => {
  withAptRoot({ "sources.list.d/other.sources": "Types: deb\nURIs: http://other.example/repo\nSuites: nodistro\nComponents: main\n" }, (aptRoot) => {
    assert.throws(
      () => resolveDebianMirror({ env: noEnv, aptRoot }),
      (err: unknown) => {
        assert.ok(err instanceof DebianMirrorNotFoundError);
        assert.ok(err instanceof HangarError);
        assert.match(err.message, /hangar\.debianMirror/);
        assert.match(err.message, /HANGAR_DEBIAN_MIRROR/);
        return true;
      },
    );
  });
  // No apt tree at all (macOS, Windows) is the same case.
  assert.throws(() => resolveDebianMirror({ env: noEnv, aptRoot: path.join(os.tmpdir(), "hangar-no-such-root") }), DebianMirrorNotFoundError);
});
