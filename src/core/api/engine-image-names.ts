import * as http from "node:http";

/**
 * The repo:tag names of the images in a running engine (GET /images/json on
 * its socket), for FROM completion. Never starts the engine and never
 * throws: no engine, a slow one or an odd reply all give []. Untagged images
 * (`<none>:<none>`) are left out: FROM cannot name them.
 */
export function listEngineImageNames(socket: string, timeoutMs = 1500): Promise<string[]> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: "/images/json", timeout: timeoutMs, headers: { Host: "hangar" } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(res.statusCode === 200 ? repoTags(body) : []));
      res.on("error", () => resolve([]));
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve([]));
  });
}

function repoTags(body: string): string[] {
  let images: unknown;
  try {
    images = JSON.parse(body);
  } catch {
    return [];
  }
  if (!Array.isArray(images)) return [];
  const names = images.flatMap((image: { RepoTags?: unknown }) => (Array.isArray(image?.RepoTags) ? image.RepoTags : []));
  return [...new Set(names.filter((n): n is string => typeof n === "string" && !n.startsWith("<none>")))];
}
