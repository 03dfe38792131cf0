import { containerLifecycleCommand } from "./container-lifecycle";

export const pauseContainer = containerLifecycleCommand("hangar.container.pause", "Pausing", ["running"], (c, signal) => c.pause({ abortSignal: signal }));
