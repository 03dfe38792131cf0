import * as vscode from "vscode";
import { product } from "./core/product";
import { HangarContext } from "./vscode/hangar-context";
import { registerCommands } from "./vscode/commands/registerCommands";
import { registerTrees, type ViewId } from "./vscode/tree/registerTrees";
import { registerVagrantfileLanguage } from "./vscode/language/registerLanguages";

// Set by the bundle's first line (esbuild banner), so module loading counts too.
declare const __hangarLoadStart: number | undefined;
const loadedAt = typeof __hangarLoadStart === "number" ? __hangarLoadStart : performance.now();

/** What `activate` returns: lets tests and other extensions observe Hangar. */
export interface HangarApi {
  version: string;
  /** Milliseconds from loading the bundle to the end of activate(). */
  activationMs: number;
  views: Record<ViewId, vscode.TreeView<vscode.TreeItem>>;
}

/**
 * Activation wires views and commands and nothing more: no emulator, no Ruby
 * VM, no file scan. Each of those starts on first use.
 */
export function activate(context: vscode.ExtensionContext): HangarApi {
  const hangar = new HangarContext(context);
  context.subscriptions.push(hangar);
  const trees = registerTrees(hangar);
  registerCommands({ hangar, trees });
  registerVagrantfileLanguage(hangar);
  const activationMs = performance.now() - loadedAt;
  hangar.log.info(`${product.name} ${product.version} activated in ${activationMs.toFixed(1)} ms (VS Code ${vscode.version}).`);
  return { version: product.version, activationMs, views: trees.views };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
