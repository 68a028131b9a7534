// A project's environments as the backend orders them: this computer first (always there, a
// `local` entry only holds its overrides), then the Render environments in the order listed.
// The same rules as the Rust `Environments`, for the pages that show or follow the chain.
import type { Environment, Environments, RenderLink } from "../ipc";

export const LOCAL = "local";

/** This computer, with the project's own settings. */
export function localEnvironment(): Environment {
  return { name: LOCAL, target: "local" };
}

/** Every environment in chain order: this computer first, then the Render ones as listed. */
export function chain(environments: Environments | null | undefined): Environment[] {
  const list = environments?.list ?? [];
  const local = list.find((environment) => environment.target === "local") ?? localEnvironment();
  return [local, ...list.filter((environment) => environment.target === "render")];
}

function same(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

export function findEnvironment(environments: Environments | null | undefined, name: string): Environment | null {
  return chain(environments).find((environment) => same(environment.name, name)) ?? null;
}

/** Where Release goes when none is chosen: the default, else the first Render one, else here. */
export function defaultEnvironment(environments: Environments | null | undefined): Environment {
  const all = chain(environments);
  const named = environments?.default ? findEnvironment(environments, environments.default) : null;
  return named ?? all.find((environment) => environment.target === "render") ?? all[0] ?? localEnvironment();
}

/** The environment after `name` in the chain: where a promotion from it goes. */
export function nextAfter(environments: Environments | null | undefined, name: string): Environment | null {
  return nextIn(chain(environments), name);
}

/** The environment after `name` in a chain already in order. */
export function nextIn(all: Environment[], name: string): Environment | null {
  const at = all.findIndex((environment) => same(environment.name, name));
  return at < 0 ? null : (all[at + 1] ?? null);
}

/** How a sentence names it: "this computer", or "production". */
export function environmentLabel(name: string): string {
  return same(name, LOCAL) ? "this computer" : name;
}

/** How a list or a heading names it: "This computer", or "production". */
export function environmentTitle(name: string): string {
  return same(name, LOCAL) ? "This computer" : name;
}

/** The Render service as a person reads it: its name on Render, else its id. */
export function serviceName(service: RenderLink | null | undefined): string | null {
  if (!service) return null;
  return service.name ?? service.id;
}

/** An image name without its tag or digest (`docker.io/acme/web:latest` → `docker.io/acme/web`). */
export function withoutTag(image: string): string {
  const withoutDigest = image.split("@")[0] ?? image;
  const colon = withoutDigest.lastIndexOf(":");
  return colon > withoutDigest.lastIndexOf("/") ? withoutDigest.slice(0, colon) : withoutDigest;
}

/** Letters, digits, - and _ only, up to 40: the names the backend takes. */
export function nameProblem(name: string): string | null {
  const trimmed = name.trim();
  if (trimmed === "") return "Give the environment a name.";
  if (trimmed.length > 40 || !/^[A-Za-z0-9_-]+$/.test(trimmed)) {
    return "Use letters, digits, - or _ only (for example staging or production).";
  }
  return null;
}
