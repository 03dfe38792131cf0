import { HangarError } from "../util/errors";

/**
 * The guest's serial console as the host drives it: a root shell on ttyS0
 * that only the host reaches (the embedded emulator's UART, QEMU's stdio).
 * Commands are typed with a completion marker and their exit status read
 * back; nothing of their output is trusted.
 */
export interface SerialConsole {
  serial(text: string): void;
  on(event: "serial", listener: (text: string) => void): unknown;
  off(event: "serial", listener: (text: string) => void): unknown;
}

/** The longest command typed as one console line, leaving room for serialRun's wrapping within ash's 1024 characters. */
const CONSOLE_LINE_MAX = 900;

/**
 * Runs shell steps on the console, as few lines as busybox ash's line editor
 * takes (it keeps 1024 characters of a line): resolves with the first
 * non-zero exit code, or 0.
 */
export async function serialSteps(emulator: SerialConsole, steps: string[], timeoutMs: number): Promise<number> {
  const lines: string[] = [];
  for (const step of steps) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + step.length + 2 <= CONSOLE_LINE_MAX) lines[last] += `; ${step}`;
    else lines.push(step);
  }
  for (const line of lines) {
    const code = await serialRun(emulator, line, timeoutMs);
    if (code !== 0) return code;
  }
  return 0;
}

/**
 * Types `command` into the serial console's shell and resolves with its exit
 * code when the guest prints the completion marker. The marker is quoted in
 * the typed line, so the terminal's echo of that line cannot match it.
 */
export async function serialRun(emulator: SerialConsole, command: string, timeoutMs: number): Promise<number> {
  const nonce = Math.random().toString(36).slice(2);
  const done = waitForSerial(emulator, `hangar-done-${nonce}-`, timeoutMs, undefined, "answer on its serial console");
  emulator.serial(`(${command}) >/dev/null 2>&1; echo hangar-done-"${nonce}"-$?\n`);
  const line = await done;
  return Number(/hangar-done-\w+-(\d+)/.exec(line)?.[1] ?? 255);
}

export function waitForSerial(emulator: SerialConsole, marker: string, timeoutMs: number, onLine?: (line: string) => void, what = "finish booting"): Promise<string> {
  return new Promise((resolve, reject) => {
    const tail: string[] = [];
    const timer = setTimeout(() => {
      emulator.off("serial", onSerial);
      reject(
        new HangarError(
          `The machine did not ${what} within ${timeoutMs / 1000} s. Last console lines:\n${tail.join("")}`,
          what === "finish booting" ? "Raise config.vm.boot_timeout, or check the box." : undefined,
        ),
      );
    }, timeoutMs);
    const onSerial = (line: string): void => {
      onLine?.(line);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      if (line.includes(marker)) {
        clearTimeout(timer);
        emulator.off("serial", onSerial);
        resolve(line);
      }
    };
    emulator.on("serial", onSerial);
  });
}
