import type { HangarContext } from "../hangar-context";

/**
 * When VS Code closes, this workspace's running machines are suspended
 * (state saved, compressed) so none is lost and the next `up` resumes each
 * where it was. Machines of other workspaces are left alone. Uses what the
 * daemon knows, not Ruby: an editor that is closing has seconds, not more.
 */
export async function suspendWorkspaceMachines(hangar: HangarContext): Promise<void> {
  const files = await hangar.machines.vagrantfiles().catch(() => []);
  await Promise.all(
    files.map(async (file) => {
      try {
        const names = await hangar.machines.project(file).suspendRunning();
        if (names.length) hangar.log.info(`Suspended ${names.join(", ")} (${file}) as VS Code closed.`);
      } catch (err) {
        hangar.log.error(`Suspending the machines of ${file} on close failed`, err);
      }
    }),
  );
}
