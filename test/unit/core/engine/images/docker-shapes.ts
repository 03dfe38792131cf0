import { imageHistory, imageInspect, imageSummary, type ImageHistoryItem, type ImageInspect, type ImageSummary } from "../../../../../src/core/api/image-responses";
import type { CreateImageInput, ImageStore, ListOptions, StoredImage } from "../../../../../src/core/engine/images/image-store";

/**
 * The store's images as the Docker API shows them: tests state Docker's
 * behaviour (`docker image inspect`, `docker images`, `docker history`) in
 * Docker's own field names, through the same shaping the routes use.
 */
export async function dockerInspect(store: ImageStore, ref: string): Promise<ImageInspect> {
  return imageInspect(await store.image(ref));
}

export async function dockerList(store: ImageStore, options?: ListOptions): Promise<ImageSummary[]> {
  return (await store.list(options)).map((i) => imageSummary(i));
}

export async function dockerHistory(store: ImageStore, ref: string): Promise<ImageHistoryItem[]> {
  return imageHistory(await store.history(ref));
}

export async function dockerCreate(store: ImageStore, input: CreateImageInput): Promise<ImageInspect> {
  return imageInspect(await store.create(input));
}

/** For functions that return the store's description (built-in images). */
export async function shaped(image: Promise<StoredImage>): Promise<ImageInspect>;
export async function shaped(image: Promise<StoredImage | undefined>): Promise<ImageInspect | undefined>;
export async function shaped(image: Promise<StoredImage | undefined>): Promise<ImageInspect | undefined> {
  const stored = await image;
  return stored && imageInspect(stored);
}
