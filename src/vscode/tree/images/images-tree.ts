import type { ImageInfo } from "dockerode";
import * as vscode from "vscode";
import { apiRef, formatAge, formatSize, groupImages, shortId, UNTAGGED, type ImageTag, type RepositoryGroup } from "../../../core/docker/listing/image-groups";
import type { DockerService } from "../../docker/docker-service";
import { DockerProblemItem } from "../docker-problem-item";

/** A repository (e.g. "busybox") holding its tags. */
export class RepositoryItem extends vscode.TreeItem {
  constructor(readonly group: RepositoryGroup) {
    super(group.repository, vscode.TreeItemCollapsibleState.Expanded);
    this.id = `repository:${group.repository}`;
    this.description = group.repository === UNTAGGED ? `${group.tags.length} dangling` : `${group.tags.length} tag${group.tags.length === 1 ? "" : "s"}`;
    this.iconPath = new vscode.ThemeIcon(group.repository === UNTAGGED ? "circle-slash" : "repo");
    this.contextValue = group.repository === UNTAGGED ? "repository.dangling" : "repository";
  }
}

/** One tag (or an untagged image). contextValue `image` / `image.dangling` drives the menus. */
export class ImageItem extends vscode.TreeItem {
  constructor(readonly tag: ImageTag) {
    super(tag.tag, vscode.TreeItemCollapsibleState.Collapsed);
    const image = tag.image;
    const dangling = tag.ref === shortId(image.Id);
    this.id = `image:${tag.ref}@${image.Id}`;
    this.description = `${formatSize(image.Size)} · ${formatAge(image.Created)}${tag.containers > 0 ? ` · ${tag.containers} container${tag.containers === 1 ? "" : "s"}` : ""}`;
    this.iconPath = new vscode.ThemeIcon("package");
    this.contextValue = dangling ? "image.dangling" : "image";
    this.tooltip = new vscode.MarkdownString(
      [
        `**${tag.ref}**`,
        `ID: \`${shortId(image.Id)}\``,
        `Created: ${new Date(image.Created * 1000).toLocaleString()}`,
        `Size: ${formatSize(image.Size)}`,
        ...(image.RepoTags?.length ? [`Tags: ${image.RepoTags.join(", ")}`] : []),
      ].join("\n\n"),
    );
  }

  /** What the API accepts for this image: the tag, or the ID when untagged. */
  get ref(): string {
    return apiRef(this.tag);
  }
}

/** A layer of an image's history (`docker history`). */
export class LayerItem extends vscode.TreeItem {
  constructor(entry: { Id: string; Created: number; CreatedBy: string; Size: number; Comment?: string }, index: number) {
    const step =
      entry.CreatedBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, "")
        .replace(/^\/bin\/sh -c /, "RUN ")
        .trim() ||
      entry.Comment ||
      "(no instruction)";
    super(step.length > 80 ? `${step.slice(0, 79)}…` : step, vscode.TreeItemCollapsibleState.None);
    this.id = `layer:${entry.Id}:${index}`;
    this.description = `${formatSize(entry.Size)} · ${formatAge(entry.Created)}`;
    this.tooltip = new vscode.MarkdownString().appendCodeblock(entry.CreatedBy || entry.Comment || "", "dockerfile");
    this.iconPath = new vscode.ThemeIcon(entry.Size > 0 ? "layers" : "symbol-property");
    this.contextValue = "imageLayer";
  }
}

type Node = RepositoryItem | ImageItem | LayerItem | DockerProblemItem;

/**
 * The Images view: the current endpoint's images grouped by repository,
 * tags with size and age, each tag's history as children. Reloads on the
 * endpoint's image events.
 */
export class ImagesTreeProvider implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];
  /** The images last listed, for tests. */
  lastShown: ImageInfo[] = [];

  constructor(private readonly docker: DockerService) {
    this.subscriptions = [docker.onDidChangeImages(() => this.refresh())];
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  getTreeItem(item: Node): vscode.TreeItem {
    return item;
  }

  async getChildren(item?: Node): Promise<Node[]> {
    if (item instanceof RepositoryItem) return item.group.tags.map((t) => new ImageItem(t));
    if (item instanceof ImageItem) {
      const { value, error } = await this.docker.list(
        (d) => d.getImage(item.tag.image.Id).history() as Promise<Array<{ Id: string; Created: number; CreatedBy: string; Size: number; Comment?: string }>>,
      );
      return error ? [new DockerProblemItem((await this.docker.endpoint()).name, error)] : (value ?? []).map((l, i) => new LayerItem(l, i));
    }
    if (item) return [];
    const { value, error } = await this.docker.list((d) => d.listImages());
    if (error) return [new DockerProblemItem((await this.docker.endpoint()).name, error)];
    this.lastShown = value ?? [];
    return groupImages(this.lastShown).map((g) => new RepositoryItem(g));
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.changed.dispose();
  }
}
