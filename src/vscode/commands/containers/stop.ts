import { containerLifecycleCommand } from "./container-lifecycle";

export const stopContainer = containerLifecycleCommand("hangar.container.stop", "Stopping", ["running", "restarting", "paused"], (c, signal) => c.stop({ abortSignal: signal }));
