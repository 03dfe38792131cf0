import * as vscode from "vscode";
import { insecureRegistries, RegistryClient } from "../../../core/engine/registry/registry-client";
import { credentialsFromDockerConfig, dockerConfigRegistries } from "../../../core/engine/registry/registry-credentials";
import { errorMessage } from "../../../core/util/errors";

/** A registry (contextValue `registry`), a repository in it (`registryRepository`) or one of its tags (`registryTag`, pullable). */
export class RegistryItem extends vscode.TreeItem {
  constructor(
    readonly domain: string,
    readonly repository?: string,
    readonly tag?: string,
  ) {
    super(tag ?? repository ?? domain, tag ? vscode.TreeItemCollapsibleState.None : vscode.TreeItemCollapsibleState.Collapsed);
    this.id = `registry:${domain}/${repository ?? ""}:${tag ?? ""}`;
    this.iconPath = new vscode.ThemeIcon(tag ? "tag" : repository ? "repo" : "server");
    this.contextValue = tag ? "registryTag" : repository ? "registryRepository" : "registry";
    if (tag) this.tooltip = `${domain}/${repository}:${tag}`;
  }

  /** The image reference a tag names. */
  get ref(): string {
    return `${this.domain}/${this.repository}:${this.tag}`;
  }
}

/** What a registry could not list, shown in its place. */
class ProblemItem extends vscode.TreeItem {
  constructor(message: string) {
    super(message, vscode.TreeItemCollapsibleState.None);
    this.iconPath = new vscode.ThemeIcon("warning");
    this.contextValue = "registryProblem";
  }
}

/**
 * Registries: those the docker CLI has logins for and those in the
 * `hangar.registries` setting; under each, its repositories (the catalog,
 * where the registry lists one) and their tags, which Pull takes. The
 * registry is asked only when a node is expanded.
 */
export class RegistriesTreeProvider implements vscode.TreeDataProvider<vscode.TreeItem>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.TreeItem | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly watch = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration("hangar.registries") || e.affectsConfiguration("hangar.engine.insecureRegistries")) this.refresh();
  });

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: vscode.TreeItem): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: vscode.TreeItem): Promise<vscode.TreeItem[]> {
    const config = vscode.workspace.getConfiguration("hangar");
    if (!item) {
      const listed = [...config.get<string[]>("registries", []), ...(await dockerConfigRegistries())];
      return [...new Set(listed.map((r) => r.trim()).filter(Boolean))].sort().map((d) => new RegistryItem(d));
    }
    if (!(item instanceof RegistryItem) || item.tag) return [];
    const client = new RegistryClient({
      domain: item.domain,
      credentials: await credentialsFromDockerConfig(item.domain),
      insecure: [...insecureRegistries(process.env), ...config.get<string[]>("engine.insecureRegistries", [])],
    });
    try {
      if (!item.repository) return (await client.repositories()).map((r) => new RegistryItem(item.domain, r));
      return (await client.tags(item.repository)).map((t) => new RegistryItem(item.domain, item.repository, t));
    } catch (err) {
      return [new ProblemItem(`Cannot list: ${errorMessage(err)}`)];
    }
  }

  dispose(): void {
    this.watch.dispose();
    this.changed.dispose();
  }
}
