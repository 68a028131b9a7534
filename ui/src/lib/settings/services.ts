// What each service is for, in one sentence, and where its token is made: the same words in
// Settings and in the first-run guide.
import type { KnownLogin } from "../ipc";
import type { Step } from "./accounts.svelte";

export interface ServiceInfo {
  step: Step;
  /** The section's accessible name (the window tests find each form by it). */
  region: string;
  name: string;
  purpose: string;
  /** The page of the service where a token is made. */
  tokenUrl: string;
  /** What to tick on that page, when something must be. */
  tokenNote: string | null;
  optional: boolean;
}

export const SERVICES: Record<Step, ServiceInfo> = {
  registry: {
    step: "registry",
    region: "Docker registry",
    name: "Docker Hub or another registry",
    purpose: "Docker Hub stores your app's image: Slipway pushes each release's image there, and Render runs it from there.",
    tokenUrl: "https://app.docker.com/settings/personal-access-tokens",
    tokenNote: "Give the token the Read & Write permission.",
    optional: false,
  },
  render: {
    step: "render",
    region: "Render",
    name: "Render",
    purpose: "Render runs your app on the internet: Slipway asks it to deploy each release.",
    tokenUrl: "https://dashboard.render.com/u/settings#api-keys",
    tokenNote: null,
    optional: false,
  },
  sentry: {
    step: "sentry",
    region: "Sentry",
    name: "Sentry",
    purpose:
      "Sentry collects the errors your running app hits: Slipway names each release there, then watches for new errors after it.",
    tokenUrl: "https://sentry.io/settings/account/api/auth-tokens/",
    tokenNote: "Tick the scopes org:read, project:read, project:releases, event:read and event:write.",
    optional: false,
  },
  circleCi: {
    step: "circleCi",
    region: "CircleCI",
    name: "CircleCI",
    purpose: "CircleCI runs your project's CI on each push; connect it only if your project uses it.",
    tokenUrl: "https://app.circleci.com/settings/user/tokens",
    tokenNote: null,
    optional: true,
  },
};

export const SERVICE_ORDER: Step[] = ["registry", "render", "sentry", "circleCi"];

/** The button that uses a login another tool keeps: "Use the Docker Hub login from Docker (alex)". */
export function knownLoginWords(login: KnownLogin): string {
  if (login.service === "sentry") {
    const where = [login.organization, login.project].filter(Boolean).join("/");
    return `Use the Sentry login from sentry-cli${where ? ` (${where})` : ""}`;
  }
  const who = login.username ? ` (${login.username})` : "";
  const registry = login.server === "docker.io" ? "the Docker Hub login" : `the login to ${login.server}`;
  return `Use ${registry} from Docker${who}`;
}
