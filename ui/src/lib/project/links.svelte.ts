// Where the open project runs and reports to: its environments (this computer, then its
// Render environments) and its Sentry project. Every change is saved by the backend at once
// and answered with the saved settings, which go back into the project's settings store.
import type { ChecksStore } from "../checks/checks.svelte";
import {
  api as defaultApi,
  toSlipwayError,
  type Account,
  type Api,
  type Environment,
  type EnvironmentChange,
  type ProjectSettings,
  type RenderService,
  type SentryLink,
  type SentryProject,
  type SlipwayError,
} from "../ipc";
import { chain, defaultEnvironment, findEnvironment } from "./environments";

export type LinksApi = Pick<
  Api,
  | "renderServices"
  | "addEnvironment"
  | "changeEnvironment"
  | "removeEnvironment"
  | "listAccounts"
  | "sentryAccountProjects"
  | "linkSentryProject"
  | "unlinkSentryProject"
>;

/** A change that touches nothing but what it names. */
export function change(fields: Partial<EnvironmentChange> = {}): EnvironmentChange {
  return { makeDefault: false, ...fields };
}

export class LinksStore {
  /** The services the connected Render key sees; `null` until asked. */
  services = $state<RenderService[] | null>(null);
  servicesLoading = $state(false);
  /** Why the services could not be listed (Render not connected: action `openAccounts`). */
  servicesError = $state<SlipwayError | null>(null);
  /** The connected Sentry accounts; `null` until asked. */
  sentryAccounts = $state<Account[] | null>(null);
  /** The projects of `sentryProjectsOf`'s organization. */
  sentryProjects = $state<SentryProject[]>([]);
  sentryProjectsOf = $state<string | null>(null);
  sentryProjectsLoading = $state(false);
  /** What is being saved now: an environment's name, "sentry", or null. */
  busy = $state<string | null>(null);
  /** Why the last change was refused. */
  error = $state<SlipwayError | null>(null);
  sentryError = $state<SlipwayError | null>(null);

  constructor(
    readonly checks: ChecksStore,
    private readonly api: LinksApi = defaultApi,
  ) {}

  /** The project whose settings are loaded. */
  get path(): string | null {
    return this.checks.details?.path ?? null;
  }

  /** The saved settings of the project at `path`, when they are the ones loaded. */
  settingsFor(path: string | null): ProjectSettings | null {
    return path !== null && this.checks.details?.path === path ? this.checks.details.settings : null;
  }

  /** The project's environments in chain order (this computer first). */
  environmentsFor(path: string | null): Environment[] | null {
    const settings = this.settingsFor(path);
    return settings ? chain(settings.environments) : null;
  }

  get environments(): Environment[] {
    return chain(this.checks.details?.settings.environments);
  }

  get defaultName(): string {
    return defaultEnvironment(this.checks.details?.settings.environments).name;
  }

  get sentryLink(): SentryLink | null {
    return this.checks.details?.settings.sentryProject ?? null;
  }

  find(name: string): Environment | null {
    return findEnvironment(this.checks.details?.settings.environments, name);
  }

  /** Loads the project's settings unless they are the ones shown already. */
  async ensure(path: string): Promise<void> {
    if (this.checks.details?.path !== path) await this.checks.load(path);
  }

  /** Asks Render for the services its key sees (again). */
  async loadServices(): Promise<void> {
    this.servicesLoading = true;
    this.servicesError = null;
    try {
      this.services = await this.api.renderServices();
    } catch (raw) {
      this.services = null;
      this.servicesError = toSlipwayError(raw);
    } finally {
      this.servicesLoading = false;
    }
  }

  /** Render is not connected (the services cannot be listed until it is). */
  get renderNotConnected(): boolean {
    return this.servicesError?.action === "openAccounts";
  }

  serviceById(id: string | null | undefined): RenderService | null {
    return this.services?.find((service) => service.id === id) ?? null;
  }

  private async save(
    busy: string,
    work: (path: string) => Promise<ProjectSettings>,
    sentry = false,
    path: string | null = this.path,
  ): Promise<boolean> {
    if (path === null) return false;
    this.busy = busy;
    if (sentry) this.sentryError = null;
    else this.error = null;
    try {
      const settings = await work(path);
      // The person may have opened another project meanwhile.
      if (this.path === path) this.checks.applySaved(settings);
      return true;
    } catch (raw) {
      if (sentry) this.sentryError = toSlipwayError(raw);
      else this.error = toSlipwayError(raw);
      return false;
    } finally {
      this.busy = null;
    }
  }

  /** Adds the Render environment `name` deploying to `serviceId` (to the project at `path`,
   * by default the one whose settings are loaded). */
  add(name: string, serviceId: string, makeDefault = false, path: string | null = this.path): Promise<boolean> {
    return this.save(
      name,
      (at) => this.api.addEnvironment(at, name.trim(), change({ renderService: serviceId, makeDefault })),
      false,
      path,
    );
  }

  /** Changes the environment `name`: only the fields `fields` names. */
  update(name: string, fields: Partial<EnvironmentChange>, path: string | null = this.path): Promise<boolean> {
    return this.save(name, (at) => this.api.changeEnvironment(at, name, change(fields)), false, path);
  }

  remove(name: string): Promise<boolean> {
    return this.save(name, (path) => this.api.removeEnvironment(path, name));
  }

  makeDefault(name: string): Promise<boolean> {
    return this.update(name, { makeDefault: true });
  }

  /** Gives the environment `name` the service `serviceId`, adding the environment when the
   * project has none of that name yet. */
  pickService(name: string, serviceId: string, path: string | null = this.path): Promise<boolean> {
    // A plan names an environment the project has; only the loaded settings can say otherwise.
    const known = path !== this.path || this.find(name) !== null;
    return known ? this.update(name, { renderService: serviceId }, path) : this.add(name, serviceId, false, path);
  }

  /** The connected Sentry accounts, for the link's picker. */
  async loadSentryAccounts(): Promise<void> {
    try {
      const accounts = await this.api.listAccounts();
      this.sentryAccounts = accounts.filter((account) => account.service === "sentry");
    } catch (raw) {
      this.sentryAccounts = [];
      this.sentryError = toSlipwayError(raw);
    }
  }

  /** The projects of the organization the Sentry account `account` belongs to. */
  async loadSentryProjects(account: string): Promise<void> {
    this.sentryProjectsOf = account;
    this.sentryProjects = [];
    this.sentryProjectsLoading = true;
    this.sentryError = null;
    try {
      const projects = await this.api.sentryAccountProjects(account);
      if (this.sentryProjectsOf === account) this.sentryProjects = projects;
    } catch (raw) {
      if (this.sentryProjectsOf === account) this.sentryError = toSlipwayError(raw);
    } finally {
      if (this.sentryProjectsOf === account) this.sentryProjectsLoading = false;
    }
  }

  linkSentry(account: Account, project: string): Promise<boolean> {
    return this.save(
      "sentry",
      (path) => this.api.linkSentryProject(path, account.account, account.sentryOrganization ?? "", project),
      true,
    );
  }

  unlinkSentry(): Promise<boolean> {
    return this.save("sentry", (path) => this.api.unlinkSentryProject(path), true);
  }
}
