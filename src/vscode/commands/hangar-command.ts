import type { HangarContext } from "../hangar-context";
import type { HangarTrees } from "../tree/registerTrees";

/** What every command handler receives. */
export interface CommandEnv {
  hangar: HangarContext;
  trees: HangarTrees;
}

/** One palette/menu command: its id (as in package.json) and its handler. */
export interface HangarCommand {
  id: string;
  run(env: CommandEnv, ...args: unknown[]): Promise<unknown> | unknown;
}
