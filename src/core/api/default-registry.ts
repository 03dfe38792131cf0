import { promises as fs } from "node:fs";
import * as path from "node:path";
import { writeFileAtomic } from "../util/atomic-file";

/**
 * Docker clients qualify some names before sending them: `docker pull
 * busybox` asks for fromImage "<D>/library/busybox", `docker tag busybox
 * me/app` sends repo "<D>/me/app", where D is the client's default
 * registry. The image store knows names without that domain ("busybox",
 * "me/app"), and Hangar writes no registry hostname into its code (the
 * store takes one from HANGAR_DEFAULT_REGISTRY when set). So the API learns
 * D from the clients themselves: a name "<D>/library/<one component>" is how
 * clients spell an official image of their default registry, and D is
 * remembered (in `engine/default-registry`, across restarts) to strip it
 * from names such as "<D>/me/app" too. Only a plain host name is learned
 * (no port, not localhost, not an IP address), so a local registry is never
 * mistaken for the default one; HANGAR_DEFAULT_REGISTRY, when set, wins.
 */
export class DefaultRegistry {
  private constructor(
    private readonly file: string,
    private domain: string | undefined,
    private readonly configured: boolean,
  ) {}

  static async load(engineDir: string, env: NodeJS.ProcessEnv): Promise<DefaultRegistry> {
    const file = path.join(engineDir, "default-registry");
    const configured = env.HANGAR_DEFAULT_REGISTRY?.trim();
    if (configured) return new DefaultRegistry(file, configured, true);
    const learned = (await fs.readFile(file, "utf8").catch(() => "")).trim();
    return new DefaultRegistry(file, learnable(learned) ? learned : undefined, false);
  }

  /** The default registry's domain, once configured or learned. */
  get known(): string | undefined {
    return this.domain;
  }

  /**
   * A name as a client sent it → as the store knows it: the default
   * registry's domain dropped; other names unchanged. `learn`: the name is
   * one clients qualify themselves (pull's fromImage, tag's repo), so its
   * "<D>/library/x" form teaches D; names users type (paths) never do.
   */
  async fromClient(name: string, learn: boolean): Promise<string> {
    const slash = name.indexOf("/");
    if (slash < 0) return name;
    const first = name.slice(0, slash);
    const rest = name.slice(slash + 1);
    if (first === this.domain) return rest;
    if (learn && !this.configured && this.domain === undefined && learnable(first) && /^library\/[^/]+$/.test(rest.replace(/[:@].*$/, ""))) {
      this.domain = first;
      await writeFileAtomic(this.file, `${first}\n`).catch(() => undefined); // best effort: relearned next time
      return rest;
    }
    return name;
  }
}

/** A registry host name as a default one is spelled: dotted, no port, not localhost, not an IP address. */
function learnable(domain: string): boolean {
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i.test(domain) && !/^[\d.]+$/.test(domain);
}
