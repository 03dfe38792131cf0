import { test } from "node:test";
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { TextScreen, type ScreenEvents } from "../../../../src/core/emulator/text-screen";

/** Stands in for v86's bus: the same event name and payload shape ([row, col, charCode]). */
function screenSource(): ScreenEvents & { put(row: number, text: string): void } {
  const bus = new EventEmitter();
  return {
    add_listener: (e, l) => void bus.on(e, l),
    remove_listener: (e, l) => void bus.off(e, l),
    put: (row, text) => [...text].forEach((c, col) => bus.emit("screen-put-char", [row, col, c.charCodeAt(0)])),
  };
}

test("rebuilds lines from put-char events and resolves when text appears", async () => {
  const source = screenSource();
  const screen = new TextScreen(source);
  const seen = screen.waitFor(/No bootable device/, 1000);
  source.put(0, "SeaBIOS (version x)");
  source.put(2, "No bootable device.");
  await seen;
  assert.equal(screen.text(), "SeaBIOS (version x)\n\nNo bootable device.");
  screen.dispose();
});

test("times out with the screen's text in the error", async () => {
  const source = screenSource();
  const screen = new TextScreen(source);
  source.put(0, "Booting from Hard Disk...");
  await assert.rejects(screen.waitFor(/login:/, 50), /login:.*\n[\s\S]*Booting from Hard Disk/);
  screen.dispose();
});
