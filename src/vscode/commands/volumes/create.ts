import * as vscode from "vscode";
import { checkResourceName, type VolumeSummary } from "../../../core/docker/listing/resource-usage";
import { HangarError } from "../../../core/util/errors";
import type { HangarCommand } from "../hangar-command";

/**
 * Creates a volume of the `local` driver (or the driver given as the second
 * argument): its name validated as Docker validates it, and not taken. A
 * name argument skips the prompt. Returns the new volume's name.
 */
export const createVolume: HangarCommand = {
  id: "hangar.volume.create",
  async run({ hangar }, nameArg?: unknown, driverArg?: unknown) {
    const { Volumes } = (await hangar.docker.use("Listing volumes", (d) => d.listVolumes())) as { Volumes?: VolumeSummary[] | null };
    const taken = new Set((Volumes ?? []).map((v) => v.Name));
    const validate = (value: string): string | undefined => checkResourceName("volume", value.trim()) ?? (taken.has(value.trim()) ? `A volume named "${value.trim()}" already exists.` : undefined);
    const name =
      typeof nameArg === "string"
        ? nameArg.trim()
        : (await vscode.window.showInputBox({ title: "Create Volume", prompt: "Name of the new volume", placeHolder: "my-data", validateInput: validate }))?.trim();
    if (name === undefined) return undefined;
    const problem = validate(name);
    if (problem) throw new HangarError(problem, "Choose another name.");
    const driver = typeof driverArg === "string" && driverArg.trim() ? driverArg.trim() : "local";
    const created = (await hangar.docker.use(`Creating volume ${name}`, (d) => d.createVolume({ Name: name, Driver: driver }))) as { Name?: string };
    hangar.log.info(`Created volume ${name} (${driver}).`);
    return created.Name ?? name;
  },
};
