import { createRequire } from "node:module";
import * as vscode from "vscode";
import type { HangarContext } from "../hangar-context";
import { VagrantfileCompletionProvider, VAGRANTFILE_TRIGGER_CHARACTERS } from "./vagrantfile/completion-provider";
import { VagrantfileHoverProvider } from "./vagrantfile/hover-provider";
import { VagrantfileCodeLensProvider } from "./vagrantfile/codelens-provider";
import { VAGRANTFILE_LANGUAGE_ID, VagrantfileDiagnostics } from "./vagrantfile/vagrantfile-diagnostics";
import { listEngineImageNames } from "../../core/api/engine-image-names";
import { engineSocket } from "../../core/api/engine-socket";
import { pingEngine } from "../../core/api/engine-control";
import { DockerfileBuildCodeLensProvider } from "./dockerfile/build-codelens";
import { MissingImageDiagnostics } from "./dockerfile/missing-image-diagnostics";
import { DockerfileCompletionProvider, DOCKERFILE_TRIGGER_CHARACTERS } from "./dockerfile/completion-provider";
import { DockerfileHoverProvider } from "./dockerfile/hover-provider";
import { DockerfileFormattingProvider } from "./dockerfile/formatting-provider";
import { DockerfileDiagnostics } from "./dockerfile/dockerfile-diagnostics";
import { DOCKERFILE_LANGUAGE_ID } from "./dockerfile/dockerfile-ranges";
import { dockerfileLanguageLoader } from "./dockerfile/dockerfile-language-loader";
import { COMPOSE_LANGUAGE_ID, ComposeFileLanguage } from "./compose/compose-documents";
import { ComposeCodeLensProvider } from "./compose/compose-codelens";

/**
 * Completion, hover, diagnostics and Up lenses for Vagrantfiles. Cheap to call at
 * activation: providers compute from the text on request, and Ruby starts
 * only when a Vagrantfile is opened.
 */
export function registerVagrantfileLanguage(hangar: HangarContext): void {
  const selector: vscode.DocumentSelector = { language: VAGRANTFILE_LANGUAGE_ID };
  const lenses = new VagrantfileCodeLensProvider(hangar);
  hangar.extension.subscriptions.push(
    vscode.languages.registerCodeLensProvider(selector, lenses),
    lenses,
    vscode.workspace.onDidSaveTextDocument((d) => d.languageId === VAGRANTFILE_LANGUAGE_ID && lenses.refresh()),
    vscode.languages.registerCompletionItemProvider(selector, new VagrantfileCompletionProvider(), ...VAGRANTFILE_TRIGGER_CHARACTERS),
    vscode.languages.registerHoverProvider(selector, new VagrantfileHoverProvider()),
    new VagrantfileDiagnostics(hangar),
  );
}

function registerBuildLenses(selector: vscode.DocumentSelector): vscode.Disposable[] {
  const provider = new DockerfileBuildCodeLensProvider();
  return [vscode.languages.registerCodeLensProvider(selector, provider), provider];
}

/**
 * Completion, hover, diagnostics and formatting for Dockerfiles, in process
 * (dockerfile-language-service; no language server), a "Build Image" lens,
 * and a warning on FROM images the embedded engine lacks. Image names after
 * FROM come from the current Docker endpoint — for the embedded engine only
 * when it is running, never started for this — plus busybox:latest and scratch.
 */
export function registerDockerfileLanguage(hangar: HangarContext): void {
  const selector: vscode.DocumentSelector = { language: DOCKERFILE_LANGUAGE_ID };
  const embeddedNames = async (): Promise<string[] | undefined> => {
    const socket = engineSocket(hangar.hangarHome);
    return (await pingEngine(socket, 500)) ? listEngineImageNames(socket) : undefined;
  };
  const endpointNames = async (): Promise<string[]> => {
    if ((await hangar.docker.endpoint()).source === "embedded") return (await embeddedNames()) ?? [];
    const { value } = await hangar.docker.list((d) => d.listImages());
    return [...new Set((value ?? []).flatMap((i) => i.RepoTags ?? []).filter((t) => !t.startsWith("<none>")))];
  };
  const language = dockerfileLanguageLoader(endpointNames);
  const missing = new MissingImageDiagnostics(async () => ((await hangar.docker.endpoint()).source === "embedded" ? embeddedNames() : undefined));
  const formatting = new DockerfileFormattingProvider(language);
  hangar.extension.subscriptions.push(
    vscode.languages.registerCompletionItemProvider(selector, new DockerfileCompletionProvider(language), ...DOCKERFILE_TRIGGER_CHARACTERS),
    vscode.languages.registerHoverProvider(selector, new DockerfileHoverProvider(language)),
    vscode.languages.registerDocumentFormattingEditProvider(selector, formatting),
    vscode.languages.registerDocumentRangeFormattingEditProvider(selector, formatting),
    new DockerfileDiagnostics(language),
    ...registerBuildLenses(selector),
    missing,
    hangar.docker.onDidChangeImages(() => missing.recheck()),
    hangar.docker.onDidChangeEndpoint(() => missing.recheck()),
  );
}

/**
 * The language client (vscode-languageclient, about 1 MB of code) is a bundle
 * of its own, dist/compose-language-client.js, required at the first Compose
 * document: in extension.js its loading alone would cost activation (goal
 * ≤ 150 ms) tens of milliseconds for every user, Compose or not.
 */
function loadComposeLanguageClient(hangar: HangarContext): typeof import("./compose/compose-language-client") {
  return createRequire(__filename)(hangar.extension.asAbsolutePath("dist/compose-language-client.js")) as typeof import("./compose/compose-language-client");
}

/**
 * Compose files: the language id (also for the user's own file patterns), a
 * Compose Up/Down/Restart/Logs lens, and Microsoft's Compose language server
 * for completion, hover and diagnostics — started with the first Compose
 * document, not at activation.
 */
export function registerComposeLanguage(hangar: HangarContext): void {
  let server: Promise<vscode.Disposable> | undefined;
  const startServer = (doc: vscode.TextDocument): void => {
    if (server || doc.languageId !== COMPOSE_LANGUAGE_ID) return;
    server = Promise.resolve().then(() => loadComposeLanguageClient(hangar).startComposeLanguageClient(hangar));
    server.catch((err: unknown) => {
      hangar.log.error("The Compose language server did not start:", err);
      server = undefined;
    });
  };
  hangar.extension.subscriptions.push(
    new ComposeFileLanguage(),
    vscode.languages.registerCodeLensProvider({ language: COMPOSE_LANGUAGE_ID }, new ComposeCodeLensProvider()),
    vscode.workspace.onDidOpenTextDocument(startServer),
    {
      dispose: () =>
        void server?.then(
          (s) => s.dispose(),
          () => undefined,
        ),
    },
  );
  for (const doc of vscode.workspace.textDocuments) startServer(doc);
}
