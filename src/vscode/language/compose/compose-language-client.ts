// Completion, hover, diagnostics, formatting and image links for Compose
// files come from Microsoft's @microsoft/compose-language-service, run as a
// language server (dist/compose-language-server.js) in its own Node process
// over IPC. Loaded with the first Compose document, never at activation.
import * as vscode from "vscode";
import { DocumentSettingsClientFeature } from "@microsoft/compose-language-service/vscode";
import { LanguageClient, TransportKind, type ClientCapabilities, type FeatureState, type StaticFeature } from "vscode-languageclient/node";
import type { HangarContext } from "../../hangar-context";
import { COMPOSE_LANGUAGE_ID } from "./compose-documents";

/**
 * The service's "Run Service" lenses call Container Tools' commands, which
 * Hangar does not have: it is told (through the capability it defines for
 * exactly this) that the client shows its own start lenses, Hangar's
 * first-line Compose lens. Everything else stays the service's.
 */
class OwnStartLenses implements StaticFeature {
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.experimental = {
      ...(capabilities.experimental as object | undefined),
      alternateYamlLanguageService: {
        syntaxValidation: false,
        schemaValidation: false,
        basicCompletions: false,
        advancedCompletions: false,
        serviceStartupCodeLens: true,
        hover: false,
        imageLinks: false,
        formatting: false,
      },
    };
  }
  getState(): FeatureState {
    return { kind: "static" };
  }
  initialize(): void {}
  clear(): void {}
}

/** Starts the server; the returned client is stopped (and its process ended) when disposed. */
export async function startComposeLanguageClient(hangar: HangarContext): Promise<vscode.Disposable> {
  const module = hangar.extension.asAbsolutePath("dist/compose-language-server.js");
  const client = new LanguageClient(
    "hangar.compose",
    "Hangar Compose Language Server",
    { run: { module, transport: TransportKind.ipc }, debug: { module, transport: TransportKind.ipc } },
    {
      documentSelector: [{ language: COMPOSE_LANGUAGE_ID }],
      outputChannel: hangar.log,
      // The server's telemetry events stay in this process: nothing is sent anywhere.
      initializationOptions: { telemetryAggregationInterval: 24 * 60 * 60 * 1000 },
    },
  );
  client.registerFeature(new OwnStartLenses());
  client.registerFeature(new DocumentSettingsClientFeature(client));
  await client.start();
  hangar.log.info("Started the Compose language server.");
  return { dispose: () => void client.stop().catch(() => undefined) };
}
