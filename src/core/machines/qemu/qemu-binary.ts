import { constants, promises as fs } from "node:fs";
import * as path from "node:path";
import { HangarError } from "../../util/errors";

/**
 * Where QEMU is and how it can run guests here. The binary is the setting's
 * (hangar.qemu.path, passed as HANGAR_QEMU), else qemu-system-i386 on PATH;
 * the accelerator is the host's hypervisor when it can be used (KVM on Linux,
 * HVF on macOS, WHPX on Windows), else TCG, QEMU's own translator.
 */

export interface QemuInstall {
  binary: string;
  /** qemu-img, beside the binary or on PATH: it makes the machine's qcow2 overlay. */
  img: string;
  accel: "kvm" | "hvf" | "whpx" | "tcg";
}

export const QEMU_ENV = "HANGAR_QEMU";
/** Forces an accelerator (tcg where a hypervisor is there but cannot run the guest). */
export const QEMU_ACCEL_ENV = "HANGAR_QEMU_ACCEL";

export async function findQemu(env: NodeJS.ProcessEnv = process.env): Promise<QemuInstall> {
  const named = env[QEMU_ENV]?.trim();
  const binary = named || (await onPath("qemu-system-i386", env));
  if (!binary || !(await isExecutable(binary)))
    throw new HangarError(
      named ? `The QEMU binary ${named} (${QEMU_ENV} or hangar.qemu.path) cannot be run.` : "The qemu provider needs QEMU, and qemu-system-i386 is not on PATH.",
      "Install QEMU (Debian and Ubuntu: apt-get install qemu-system-x86 qemu-utils; macOS: brew install qemu; Windows: the installer from qemu.org), or set hangar.qemu.path to its qemu-system-i386.",
    );
  const beside = path.join(path.dirname(binary), process.platform === "win32" ? "qemu-img.exe" : "qemu-img");
  const img = (await isExecutable(beside)) ? beside : await onPath("qemu-img", env);
  if (!img) throw new HangarError("The qemu provider needs qemu-img (for the machine's disk), and it is not beside QEMU or on PATH.", "Install it (Debian and Ubuntu: apt-get install qemu-utils).");
  const forced = env[QEMU_ACCEL_ENV]?.trim();
  if (forced && !["kvm", "hvf", "whpx", "tcg"].includes(forced)) throw new HangarError(`${QEMU_ACCEL_ENV}=${forced} is not an accelerator QEMU has (kvm, hvf, whpx, tcg).`);
  return { binary, img, accel: (forced as QemuInstall["accel"] | undefined) || (await accelerator()) };
}

async function accelerator(): Promise<QemuInstall["accel"]> {
  if (process.platform === "darwin") return "hvf";
  if (process.platform === "win32") return "whpx";
  // KVM where this user may open it; containers and most CI machines have no /dev/kvm.
  return (await fs.access("/dev/kvm", constants.R_OK | constants.W_OK).then(
    () => true,
    () => false,
  ))
    ? "kvm"
    : "tcg";
}

async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const exts = process.platform === "win32" ? [".exe", ""] : [""];
  for (const dir of (env.PATH ?? "").split(path.delimiter).filter(Boolean))
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (await isExecutable(file)) return file;
    }
  return undefined;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    await fs.access(file, process.platform === "win32" ? constants.R_OK : constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
