import { containerLifecycleCommand } from "./container-lifecycle";

export const startContainer = containerLifecycleCommand("hangar.container.start", "Starting", ["created", "exited", "dead"], (c, signal) => c.start({ abortSignal: signal }));
