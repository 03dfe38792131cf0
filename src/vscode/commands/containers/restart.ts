import { containerLifecycleCommand } from "./container-lifecycle";

export const restartContainer = containerLifecycleCommand("hangar.container.restart", "Restarting", undefined, (c, signal) => c.restart({ abortSignal: signal }));
