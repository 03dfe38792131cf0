// The environment a Compose client needs to reach a Docker endpoint: the
// same DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH variables the docker
// CLI reads, so v1 and v2 clients alike talk to the endpoint Hangar's views show.
import * as path from "node:path";
import type { DockerEndpoint } from "../docker/endpoints/docker-endpoint";
import { HangarError } from "../util/errors";

/** Variables that would point a client elsewhere: replaced, never inherited. */
const ENDPOINT_VARIABLES = ["DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_TLS", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH"];

/**
 * `base` with the endpoint's address. TLS files must sit in one folder as
 * ca.pem, cert.pem and key.pem, because DOCKER_CERT_PATH is the only way
 * both Compose versions take them; other layouts are refused with what to do.
 */
export function composeEnvironment(endpoint: DockerEndpoint, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of ENDPOINT_VARIABLES) delete env[name];
  env.DOCKER_HOST = endpoint.host;
  // docker-compose 1.x gives up on a request after 60 s; the embedded engine's first container create can boot
  // its machine, which takes longer on a busy computer. The user's own value wins.
  if (!base.COMPOSE_HTTP_TIMEOUT) env.COMPOSE_HTTP_TIMEOUT = "600";
  if (endpoint.tls) {
    const files = (["ca", "cert", "key"] as const).flatMap((k) => (endpoint.tls![k] ? [{ k, file: endpoint.tls![k]! }] : []));
    const dirs = new Set(files.map((f) => path.dirname(f.file)));
    const standard = files.every((f) => path.basename(f.file) === `${f.k}.pem`);
    if (dirs.size > 1 || !standard) {
      throw new HangarError(
        `Compose cannot use the TLS files of the Docker endpoint "${endpoint.name}": ${files.map((f) => f.file).join(", ")}.`,
        "Compose reads them only from one folder as ca.pem, cert.pem and key.pem (DOCKER_CERT_PATH): put them there and point the endpoint at that folder.",
      );
    }
    if (dirs.size === 1) env.DOCKER_CERT_PATH = [...dirs][0];
    if (endpoint.tls.verify) env.DOCKER_TLS_VERIFY = "1";
    else env.DOCKER_TLS = "1";
  }
  return env;
}
