// The accounts wizard: what is connected (never a secret), and each step's check.
import {
  api as defaultApi,
  toSlipwayError,
  type Account,
  type AccountCheck,
  type Api,
  type KnownLogin,
  type RenderService,
  type SentryProject,
  type Service,
  type SlipwayError,
} from "../ipc";

type AccountsApi = Pick<
  Api,
  | "listAccounts"
  | "connectRegistry"
  | "connectRender"
  | "connectRenderHook"
  | "connectSentry"
  | "sentryProjects"
  | "connectCircleci"
  | "removeAccount"
  | "checkAllAccounts"
> &
  Partial<Pick<Api, "knownLogins" | "useDockerLogin" | "useSentryCliLogin">>;

export type Step = "registry" | "render" | "sentry" | "circleCi";

export class AccountsStore {
  accounts = $state<Account[]>([]);
  busy = $state<Step | "checkAll" | null>(null);
  errors = $state<Partial<Record<Step, SlipwayError>>>({});
  /** The services the Render key just connected sees (each project picks its own). */
  renderServices = $state<RenderService[]>([]);
  sentryProjects = $state<SentryProject[]>([]);
  checks = $state<AccountCheck[] | null>(null);
  loadError = $state<SlipwayError | null>(null);
  /** The list has been asked for once (until then "nothing connected" is not known). */
  loaded = $state(false);
  /** Logins Docker and sentry-cli already keep here, offered in place of the token forms. */
  knownLogins = $state<KnownLogin[]>([]);
  private knownAsked = false;

  constructor(private readonly api: AccountsApi = defaultApi) {}

  connected(service: Service): Account[] {
    return this.accounts.filter((account) => account.service === service);
  }

  async load(): Promise<void> {
    try {
      this.accounts = await this.api.listAccounts();
    } catch (raw) {
      this.loadError = toSlipwayError(raw);
    } finally {
      this.loaded = true;
    }
  }

  /** Runs one step's check; true when the account was verified and kept. */
  private async step(step: Step, work: () => Promise<unknown>): Promise<boolean> {
    this.busy = step;
    delete this.errors[step];
    try {
      await work();
      await this.load();
      return true;
    } catch (raw) {
      this.errors[step] = toSlipwayError(raw);
      return false;
    } finally {
      this.busy = null;
    }
  }

  connectRegistry(server: string, username: string, token: string, repository: string | null) {
    return this.step("registry", () => this.api.connectRegistry(server, username, token, repository));
  }

  connectRender(apiKey: string) {
    return this.step("render", async () => {
      const connection = await this.api.connectRender(apiKey);
      this.renderServices = connection.services;
    });
  }

  connectRenderHook(url: string) {
    return this.step("render", () => this.api.connectRenderHook(url));
  }

  connectSentry(baseUrl: string, token: string, organization: string, project: string) {
    return this.step("sentry", () => this.api.connectSentry(baseUrl, token, organization, project));
  }

  /** Lists the organization's projects with the token typed so far (not kept). */
  findSentryProjects(baseUrl: string, token: string, organization: string) {
    return this.step("sentry", async () => {
      this.sentryProjects = await this.api.sentryProjects(baseUrl, token, organization);
    });
  }

  connectCircleci(token: string, projectSlug: string) {
    return this.step("circleCi", () => this.api.connectCircleci(token, projectSlug));
  }

  /** Asks once which logins the other tools keep (their helpers may be slow: never awaited by a form). */
  async findKnownLogins(): Promise<void> {
    if (this.knownAsked || !this.api.knownLogins) return;
    this.knownAsked = true;
    try {
      this.knownLogins = (await this.api.knownLogins()).logins;
    } catch {
      // Nothing offered: the forms are there.
    }
  }

  /** The logins found for `step`'s service. */
  known(step: Step): KnownLogin[] {
    return this.knownLogins.filter((login) => login.service === step);
  }

  /** Checks and keeps Docker's login to `server`, as a typed token would be. */
  useDockerLogin(server: string) {
    return this.step("registry", async () => {
      if (!this.api.useDockerLogin) throw new Error("Docker's logins cannot be used here.");
      await this.api.useDockerLogin(server);
    });
  }

  /** Checks and keeps sentry-cli's token for the project (empty: sentry-cli's defaults). */
  useSentryCliLogin(organization: string, project: string) {
    return this.step("sentry", async () => {
      if (!this.api.useSentryCliLogin) throw new Error("sentry-cli's login cannot be used here.");
      await this.api.useSentryCliLogin(organization, project);
    });
  }

  async remove(account: Account): Promise<void> {
    try {
      await this.api.removeAccount(account.service, account.account);
      await this.load();
    } catch (raw) {
      this.loadError = toSlipwayError(raw);
    }
  }

  async checkAll(): Promise<void> {
    this.busy = "checkAll";
    try {
      this.checks = await this.api.checkAllAccounts();
      await this.load();
    } catch (raw) {
      this.loadError = toSlipwayError(raw);
    } finally {
      this.busy = null;
    }
  }
}
