// The open project's images: what the engine and the registry hold, and the build, push,
// retag and remove actions with their progress.
import {
  api as defaultApi,
  toSlipwayError,
  type Api,
  type DockerEvent,
  type ImageDestination,
  type ImagesOverview,
  type PushedImage,
  type SlipwayError,
} from "../ipc";

type ImagesApi = Pick<Api, "imagesOverview" | "buildProjectImage" | "pushImage" | "retagImage" | "removeImage">;

export interface PushState {
  percent: number;
  layers: Record<string, { status: string; current: number; total: number }>;
  result: PushedImage | null;
}

export class ImagesStore {
  overview = $state<ImagesOverview | null>(null);
  loading = $state(false);
  building = $state(false);
  buildStep = $state<string | null>(null);
  buildLines = $state<string[]>([]);
  pushes = $state<Record<string, PushState>>({});
  error = $state<SlipwayError | null>(null);
  /** The error is the overview's own (not an action's): asking again is what "Try again" means. */
  loadFailed = $state(false);
  private path: string | null = null;

  constructor(private readonly api: ImagesApi = defaultApi) {}

  async load(path: string): Promise<void> {
    // Never show one project's images under another's name while the new ones load.
    if (this.path !== path) this.overview = null;
    this.path = path;
    this.loading = true;
    this.error = null;
    this.loadFailed = false;
    try {
      const overview = await this.api.imagesOverview(path);
      // Another project opened while this one was asked for: its answer is not this page's.
      if (this.path === path) this.overview = overview;
    } catch (raw) {
      if (this.path === path) this.fail(raw, true);
    } finally {
      if (this.path === path) this.loading = false;
    }
  }

  /** The image repository of the project at `path`, once its overview is here. */
  repositoryFor(path: string | null): string | null {
    return path !== null && this.path === path ? (this.overview?.repository ?? null) : null;
  }

  /** Asks again for the project last loaded (after an error). */
  async reload(): Promise<void> {
    if (this.path) await this.load(this.path);
  }

  async build(): Promise<void> {
    if (!this.path || this.building) return;
    this.building = true;
    this.error = null;
    this.buildLines = [];
    this.buildStep = null;
    try {
      await this.api.buildProjectImage(this.path, (event) => this.onBuild(event));
      await this.load(this.path);
    } catch (raw) {
      this.fail(raw);
    } finally {
      this.building = false;
    }
  }

  async push(reference: string): Promise<void> {
    const path = this.path;
    if (!path) return;
    this.error = null;
    this.pushes[reference] = { percent: 0, layers: {}, result: null };
    try {
      const result = await this.api.pushImage(reference, (event) => this.onPush(reference, event), path);
      const state = this.pushes[reference];
      if (state) {
        state.result = result;
        state.percent = 100;
      }
      if (this.path) await this.load(this.path);
    } catch (raw) {
      delete this.pushes[reference];
      this.fail(raw);
    }
  }

  async retag(source: string, target: string): Promise<boolean> {
    const path = this.path;
    if (!path) return false;
    this.error = null;
    try {
      await this.api.retagImage(source, target, path);
      if (this.path) await this.load(this.path);
      return true;
    } catch (raw) {
      this.fail(raw);
      return false;
    }
  }

  async remove(reference: string): Promise<void> {
    const path = this.path;
    if (!path) return;
    this.error = null;
    try {
      await this.api.removeImage(reference, path);
      if (this.path) await this.load(this.path);
    } catch (raw) {
      this.fail(raw);
    }
  }

  private fail(raw: unknown, whileLoading = false): void {
    this.error = toSlipwayError(raw);
    this.loadFailed = whileLoading;
  }

  private onBuild(event: DockerEvent): void {
    if (event.event === "step") this.buildStep = `Step ${event.data.number}/${event.data.total}: ${event.data.instruction}`;
    else if (event.event === "output") {
      this.buildLines.push(event.data.line);
      if (this.buildLines.length > 2000) this.buildLines.splice(0, this.buildLines.length - 2000);
    } else if (event.event === "built") {
      this.buildStep = `Built ${event.data.imageId.replace("sha256:", "").slice(0, 12)}`;
    } else if (event.event === "context") {
      this.buildStep = `Sending ${formatBytes(event.data.bytes)} of context (${event.data.files} files)`;
      if (event.data.warning) this.buildLines.push(event.data.warning);
    }
  }

  private onPush(reference: string, event: DockerEvent): void {
    const state = this.pushes[reference];
    if (!state) return;
    if (event.event === "layer") {
      state.layers[event.data.id] = { status: event.data.status, current: event.data.current, total: event.data.total };
    } else if (event.event === "pushProgress") {
      state.percent = Math.round(event.data.percent);
    }
  }
}

/** Where a release sends the image, in the person's words. */
export function targetWords(target: ImageDestination["target"]): string {
  return target === "local" ? "This machine" : "Render";
}

/** The registry in words; no registry means the image is never pushed. */
export function registryWords(destination: ImageDestination): string {
  return destination.registry ?? "stays on this machine (not pushed)";
}

/** Why the registry's tags are not shown, when it was not asked: never "no image yet", since
 * the page cannot know. `null` when the tags (or the error asking for them) are there. */
export function unaskedRegistryReason(overview: ImagesOverview): string | null {
  if (overview.remote !== null || overview.remoteError !== null) return null;
  const { registry, canListTags } = overview.destination;
  if (registry === null) return "Not pushed anywhere: releases to this machine keep the image here.";
  if (!canListTags) return `Connect ${registry} in Settings to see its tags.`;
  return `Slipway did not ask ${registry} for its tags this time.`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

/** Two engine image ids name one image: with or without `sha256:`, full or short. */
export function sameImage(id: string, other: string | null): boolean {
  if (other === null) return false;
  const bare = (value: string) => value.replace(/^sha256:/, "");
  const [a, b] = [bare(id), bare(other)];
  return a.length >= 12 && b.length >= 12 && (a.startsWith(b) || b.startsWith(a));
}
