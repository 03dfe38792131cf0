import * as vscode from "vscode";
import { DEFAULT_ENGINE_MEMORY_MIB } from "../../../core/api/engine-context";
import type { StartEngineOptions } from "../../../core/api/engine-control";
import { engineEnvironment } from "../../../core/api/engine-environment";

/** How the editor starts the embedded engine: the `hangar.engine.*` settings (and the Debian mirror), read when it starts. */
export function engineStartOptions(): StartEngineOptions {
  const config = vscode.workspace.getConfiguration("hangar");
  return {
    memoryMiB: config.get<number>("engine.memory", DEFAULT_ENGINE_MEMORY_MIB),
    idleSuspendMinutes: config.get<number>("engine.idleSuspendMinutes", 5),
    mirror: config.get<string>("debianMirror") || undefined,
    env: engineEnvironment(process.env, {
      insecureRegistries: config.get<string[]>("engine.insecureRegistries", []),
      shares: config.get<string[]>("engine.shares", []),
      disk: config.get<boolean>("engine.disk", false),
      defaultRegistry: config.get<string>("engine.defaultRegistry", ""),
    }),
  };
}
