import { containerLifecycleCommand } from "./container-lifecycle";

export const unpauseContainer = containerLifecycleCommand("hangar.container.unpause", "Resuming", ["paused"], (c, signal) => c.unpause({ abortSignal: signal }));
