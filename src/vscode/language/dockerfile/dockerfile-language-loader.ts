import type { DockerfileLanguage } from "../../../core/dockerfile/dockerfile-language";
import type { ImageNamesProvider } from "../../../core/dockerfile/dockerfile-language-types";

export type LoadDockerfileLanguage = () => Promise<DockerfileLanguage>;

/**
 * The Dockerfile service, loaded with the first Dockerfile request rather
 * than at activation: dockerfile-language-service and its docs take tens of
 * milliseconds to evaluate, which activation (goal ≤ 150 ms) should not pay.
 * The bundler keeps a dynamic import's module uninitialized until called.
 */
export function dockerfileLanguageLoader(imageNames: ImageNamesProvider): LoadDockerfileLanguage {
  let loading: Promise<DockerfileLanguage> | undefined;
  return () => (loading ??= import("../../../core/dockerfile/dockerfile-language.js").then((m) => new m.DockerfileLanguage(imageNames)));
}
