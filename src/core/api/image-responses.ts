import { unixSeconds, type ImageContainerConfig } from "../engine/images/image-config";
import type { HistoryStep, StoredImage } from "../engine/images/image-state";

/**
 * The Docker API's image JSON, shaped from what the image store describes
 * (StoredImage, HistoryStep). Field names and defaults are Docker's: the
 * CLI and SDKs read them, so an absent value is Docker's zero ("" or the Go
 * zero time), never a missing key.
 */

const ZERO_TIME = "0001-01-01T00:00:00Z";

/** Docker's ImageInspect JSON, as `docker image inspect` prints it. */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ImageContainerConfig;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  RootFS: { Type: "layers"; Layers: string[] };
  Metadata: { LastTagTime: string };
}

/** Docker's ImageSummary (GET /images/json items). */
export interface ImageSummary {
  Id: string;
  ParentId: string;
  RepoTags: string[];
  RepoDigests: string[];
  Created: number;
  Size: number;
  /** -1 unless asked for (as Docker: computed only for `system df`). */
  SharedSize: number;
  VirtualSize?: number;
  Labels: Record<string, string>;
  /** -1 unless counted (as Docker). */
  Containers: number;
}

/** Docker's HistoryResponseItem (GET /images/{name}/history). */
export interface ImageHistoryItem {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

export function imageInspect(image: StoredImage): ImageInspect {
  const config = image.config;
  const inspect: ImageInspect = {
    Id: image.id,
    RepoTags: image.tags,
    RepoDigests: image.repoDigests,
    Parent: image.parent ?? "",
    Comment: config.comment ?? "",
    Created: config.created ?? ZERO_TIME,
    DockerVersion: config.docker_version ?? "",
    Author: config.author ?? "",
    Config: config.config ?? {},
    Architecture: config.architecture ?? "",
    Os: config.os ?? "linux",
    Size: image.size,
    RootFS: { Type: "layers", Layers: [...config.rootfs.diff_ids] },
    Metadata: { LastTagTime: image.lastTagTime ?? ZERO_TIME },
  };
  if (config.variant) inspect.Variant = config.variant;
  return inspect;
}

/** containers: how many containers use the image, when counted. */
export function imageSummary(image: StoredImage, containers?: number): ImageSummary {
  return {
    Id: image.id,
    ParentId: image.parent ?? "",
    RepoTags: image.tags,
    RepoDigests: image.repoDigests,
    Created: unixSeconds(image.config.created),
    Size: image.size,
    SharedSize: image.sharedSize ?? -1,
    VirtualSize: image.size,
    Labels: image.config.config?.Labels ?? {},
    Containers: containers ?? -1,
  };
}

/** Steps that are not a local image get Docker's "<missing>" ID; an image without tags has Tags null. */
export function imageHistory(steps: HistoryStep[]): ImageHistoryItem[] {
  return steps.map((s) => ({
    Id: s.image?.id ?? "<missing>",
    Created: unixSeconds(s.created),
    CreatedBy: s.createdBy,
    Tags: s.image && s.image.tags.length > 0 ? s.image.tags : null,
    Size: s.size,
    Comment: s.comment,
  }));
}
