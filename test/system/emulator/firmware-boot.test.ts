import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { loadV86, locateV86Runtime } from "../../../src/core/emulator/v86-runtime";
import { TextScreen } from "../../../src/core/emulator/text-screen";

// Debian's seabios package: the firmware the default box boots with.
const BIOS = "/usr/share/seabios/bios.bin";
const VGA_BIOS = "/usr/share/seabios/vgabios-stdvga.bin";
const DIST = path.resolve(__dirname, "..", "..", "..", "dist");

test("the emulator from dist/ boots Debian's SeaBIOS and reaches the boot-device search", { timeout: 60_000 }, async () => {
  assert.ok(existsSync(BIOS) && existsSync(VGA_BIOS), `${BIOS} is missing: install Debian's seabios package (.ci/run does).`);
  // The packaged runtime, not node_modules: this is what the extension and CLI load.
  const runtime = locateV86Runtime(DIST);
  assert.equal(runtime.wasmFile, path.join(DIST, "v86", "v86.wasm"));
  const V86 = await loadV86(runtime);
  const started = performance.now();
  const emulator = new V86({
    wasm_path: runtime.wasmFile,
    bios: { buffer: toArrayBuffer(readFileSync(BIOS)) },
    vga_bios: { buffer: toArrayBuffer(readFileSync(VGA_BIOS)) },
    memory_size: 32 * 1024 * 1024,
    autostart: true,
  });
  const screen = new TextScreen(emulator);
  try {
    await screen.waitFor(/SeaBIOS \(version [^)]+\)/, 30_000);
    await screen.waitFor(/No bootable device/, 30_000);
    console.log(`SeaBIOS reached "No bootable device" after ${Math.round(performance.now() - started)} ms; screen:\n${screen.text()}`);
    assert.match(screen.text(), /Booting from Hard Disk/);
  } finally {
    screen.dispose();
    await emulator.destroy();
  }
});

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}
