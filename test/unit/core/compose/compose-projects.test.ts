// splitComposeProjects: containers with the com.docker.compose.project label
// are grouped by project (sorted, containers by service and number), with the
// project's folder and files from the labels (relative files from the
// folder); the others are returned as they came.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ContainerInfo } from "dockerode";
import { composeProjectFiles, splitComposeProjects } from "../../../../src/core/compose/compose-projects";

function container(name: string, labels: Record<string, string> = {}): ContainerInfo {
  return { Id: name.padEnd(64, "0"), Names: [`/${name}`], Labels: labels, State: "running" } as unknown as ContainerInfo;
}
const labels = (project: string, service: string, n = "1", extra: Record<string, string> = {}): Record<string, string> => ({
  "com.docker.compose.project": project,
  "com.docker.compose.service": service,
  "com.docker.compose.container-number": n,
  ...extra,
});

describe("splitComposeProjects", () => {
  it("groups by project, sorts projects and their containers, keeps the rest in order", () => {
    const files = { "com.docker.compose.project.working_dir": "/w/shop", "com.docker.compose.project.config_files": "/w/shop/compose.yaml,compose.prod.yaml" };
    const { projects, others } = splitComposeProjects([
      container("loose-b"),
      container("shop_web_2", labels("shop", "web", "2", files)),
      container("blog_db_1", labels("blog", "db")),
      container("shop_db_1", labels("shop", "db", "1", files)),
      container("loose-a", { "com.docker.compose.project": "" }),
      container("shop_web_1", labels("shop", "web", "1", files)),
    ]);
    assert.deepEqual(
      projects.map((p) => [p.name, p.containers.map((c) => c.Names[0])]),
      [
        ["blog", ["/blog_db_1"]],
        ["shop", ["/shop_db_1", "/shop_web_1", "/shop_web_2"]],
      ],
    );
    assert.deepEqual(
      others.map((c) => c.Names[0]),
      ["/loose-b", "/loose-a"],
    );
    const shop = projects[1];
    assert.equal(shop.workingDir, "/w/shop");
    assert.deepEqual(shop.configFiles, ["/w/shop/compose.yaml", "/w/shop/compose.prod.yaml"]);
    assert.equal(projects[0].workingDir, undefined);
    assert.deepEqual(projects[0].configFiles, []);
  });

  it("reads the files label without a folder as written", () => {
    assert.deepEqual(composeProjectFiles(container("x", { "com.docker.compose.project.config_files": "a.yml, /b.yml" })), { configFiles: ["a.yml", "/b.yml"] });
  });
});
