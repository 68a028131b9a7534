import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { SlipwayError, type Account } from "../ipc";
import { openedInBrowser } from "../testing/fakes";
import { account } from "../testing/fixtures";
import AccountsWizard from "./AccountsWizard.svelte";
import { AccountsStore } from "./accounts.svelte";

/** A backend that accepts `good-*` secrets, keeps accounts, and never echoes a secret back. */
function fakeBackend() {
  let accounts: Account[] = [];
  const sent: string[] = [];
  const keep = (kept: Account) => {
    accounts = [...accounts.filter((a) => !(a.service === kept.service && a.account === kept.account)), kept];
    return kept;
  };
  const api: ConstructorParameters<typeof AccountsStore>[0] = {
    listAccounts: async () => accounts,
    connectRegistry: async (server, username, token) => {
      sent.push(token);
      if (!token.startsWith("good-")) throw new SlipwayError({ kind: "registryAuth", message: `${server || "registry.example.test"} refused the login`, hint: "Re-enter the registry username and access token in Settings." });
      return keep(account("registry", server || "registry.example.test", { username, scopes: ["pull", "push"] }));
    },
    connectRender: async (key) => {
      sent.push(key);
      return { account: keep(account("render", "default", { username: "Ann's team" })), services: [{ id: "srv-1", name: "web", type: "web_service", image: "registry.example.test/ann/web:latest", url: null }] };
    },
    connectRenderHook: async (url) => keep(account("render", "deploy-hook", { renderService: url.length > 0 ? "srv-1" : null })),
    connectSentry: async (_base, token, organization, project) => {
      sent.push(token);
      if (token === "good-but-readonly") throw new SlipwayError({ kind: "registryDenied", message: "The Sentry token lacks the permission event:write.", hint: "Create a token with event:write." });
      return keep(account("sentry", `${organization}/${project}`, { scopes: ["org:read"] }));
    },
    sentryProjects: async (_base, token, organization) => {
      sent.push(token);
      return organization === "acme"
        ? [{ id: "1", slug: "web", name: "Web" }, { id: "2", slug: "worker", name: "Worker" }]
        : [];
    },
    connectCircleci: async (token, slug) => {
      sent.push(token);
      return keep(account("circleCi", "default", { username: "ann", circleciProject: slug }));
    },
    removeAccount: async (service, name) => {
      accounts = accounts.filter((a) => !(a.service === service && a.account === name));
      return null;
    },
    checkAllAccounts: async () => accounts.map((a) => ({ account: a, ok: a.service !== "render", problem: a.service === "render" ? { kind: "registryAuth", message: "Render refused the credentials.", hint: "Re-enter the API key.", action: "reenterToken", detail: "HTTP 401 Unauthorized", terminalHint: null } : null })),
  };
  return { store: new AccountsStore(api), sent, api };
}

/** Opens one service's form, as a person clicks its row. */
async function openService(user: ReturnType<typeof userEvent.setup>, region: string): Promise<HTMLElement> {
  const section = screen.getByRole("region", { name: region });
  const row = within(section).getByRole("button", { expanded: false });
  await user.click(row);
  expect(row).toHaveAttribute("aria-expanded", "true");
  return section;
}

describe("the accounts wizard", () => {
  it("checks a registry token, keeps it, and clears the field", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    // The first service to connect is open from the start.
    const registry = screen.getByRole("region", { name: "Docker registry" });
    await within(registry).findByLabelText("Username");
    await user.type(within(registry).getByLabelText("Username"), "ann");
    await user.type(within(registry).getByLabelText("Access token"), "bad-token");
    await user.click(within(registry).getByRole("button", { name: "Check and save" }));
    expect(await within(registry).findByRole("alert")).toHaveTextContent("refused the login");
    expect(within(registry).getByLabelText("Access token")).toHaveValue("");

    await user.type(within(registry).getByLabelText("Access token"), "good-token");
    await user.click(within(registry).getByRole("button", { name: "Check and save" }));
    const connected = await within(registry).findByTestId("connected-registry");
    expect(connected).toHaveTextContent("registry.example.test as ann");
    expect(connected).toHaveTextContent("pull, push");
    expect(within(registry).queryByLabelText("Access token")).not.toBeInTheDocument();
    expect(document.body.innerHTML).not.toContain("good-token");
  });

  it("names a missing Sentry permission", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    await within(screen.getByRole("region", { name: "Docker registry" })).findByLabelText("Username");
    const sentry = await openService(user, "Sentry");
    await user.type(within(sentry).getByLabelText("Auth token"), "good-but-readonly");
    await user.type(within(sentry).getByLabelText("Organization"), "acme");
    await user.type(within(sentry).getByLabelText("Project"), "web");
    await user.click(within(sentry).getByRole("button", { name: "Check and save" }));
    expect(await within(sentry).findByRole("alert")).toHaveTextContent("event:write");
  });

  it("offers the organization's Sentry projects to pick from", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    await within(screen.getByRole("region", { name: "Docker registry" })).findByLabelText("Username");
    const sentry = await openService(user, "Sentry");
    await user.type(within(sentry).getByLabelText("Auth token"), "good-sentry");
    await user.type(within(sentry).getByLabelText("Organization"), "acme");
    await user.click(within(sentry).getByRole("button", { name: "Find projects" }));
    const picker = await within(sentry).findByRole("combobox", { name: "Project" });
    await user.selectOptions(picker, "worker");
    await user.click(within(sentry).getByRole("button", { name: "Check and save" }));
    expect(await within(sentry).findByTestId("connected-sentry")).toHaveTextContent("acme/worker");
  });

  it("lists the services the Render key sees, leaving the pick to each project, and checks every account at once", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    await within(screen.getByRole("region", { name: "Docker registry" })).findByLabelText("Username");
    const renderStep = await openService(user, "Render");
    await user.type(within(renderStep).getByLabelText("API key"), "good-render");
    await user.click(within(renderStep).getByRole("button", { name: "Check and save" }));
    const services = await within(renderStep).findByRole("list", { name: "Render services" });
    expect(services).toHaveTextContent("registry.example.test/ann/web:latest");
    // No service is picked for every project here: each project picks its own.
    expect(within(services).queryByRole("button")).toBeNull();
    expect(within(renderStep).getByTestId("render-services-note")).toHaveTextContent(
      "Pick which service each project deploys to in its Project settings → Where it runs",
    );
    await user.click(screen.getByRole("button", { name: "Check all" }));
    const checks = await screen.findByRole("list", { name: "Account checks" });
    expect(checks).toHaveTextContent("✗ render default: Render refused the credentials.");
  });

  it("removes an account", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    await within(screen.getByRole("region", { name: "Docker registry" })).findByLabelText("Username");
    const circle = await openService(user, "CircleCI");
    await user.type(within(circle).getByLabelText("Personal API token"), "good-circle");
    await user.type(within(circle).getByLabelText("Project slug"), "gh/ann/shop");
    await user.click(within(circle).getByRole("button", { name: "Check and save" }));
    await user.click(await within(circle).findByRole("button", { name: "Remove default" }));
    expect(await within(circle).findByLabelText("Personal API token")).toBeInTheDocument();
  });

  it("shows one service at a time, each with its status in words", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    const registry = screen.getByRole("region", { name: "Docker registry" });
    await within(registry).findByLabelText("Username");
    expect(within(registry).getByRole("button", { expanded: true })).toHaveTextContent("Not connected");
    expect(within(screen.getByRole("region", { name: "CircleCI" })).getByRole("button")).toHaveTextContent("Optional · not connected");
    // Only the open one shows its form.
    expect(screen.getAllByRole("button", { name: "Check and save" })).toHaveLength(1);

    await user.type(within(registry).getByLabelText("Username"), "ann");
    await user.type(within(registry).getByLabelText("Access token"), "good-token");
    await user.click(within(registry).getByRole("button", { name: "Check and save" }));
    await within(registry).findByTestId("connected-registry");
    // What was just saved stays in view; the next service waits for the person.
    expect(within(registry).getByRole("button", { expanded: true })).toHaveTextContent("Connected: registry.example.test as ann");

    const renderStep = await openService(user, "Render");
    expect(within(renderStep).getByLabelText("API key")).toBeInTheDocument();
    expect(within(registry).queryByLabelText("Access token")).not.toBeInTheDocument();
    expect(within(registry).getByRole("button", { expanded: false })).toHaveTextContent("Connected: registry.example.test as ann");
    // The open one closes again.
    await user.click(within(renderStep).getByRole("button", { expanded: true }));
    expect(screen.queryByRole("button", { name: "Check and save" })).not.toBeInTheDocument();
  });

  it("opens nothing when every service that matters is connected", async () => {
    const { store } = fakeBackend();
    await store.connectRegistry("", "ann", "good-1", null);
    await store.connectRender("good-2");
    await store.connectSentry("", "good-3", "acme", "web");
    render(AccountsWizard, { store });
    await waitFor(() => expect(store.loaded).toBe(true));
    expect(screen.queryByRole("button", { expanded: true })).not.toBeInTheDocument();
    expect(within(screen.getByRole("region", { name: "Sentry" })).getByRole("button")).toHaveTextContent("Connected: acme/web");
  });

  it("says what each service is for, and opens the page that makes its token in the browser", async () => {
    const user = userEvent.setup();
    const opened = openedInBrowser();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    const expected: Array<[string, RegExp, string, RegExp | null]> = [
      ["Docker registry", /stores your app's image/, "https://app.docker.com/settings/personal-access-tokens", /Read & Write/],
      ["Render", /runs your app on the internet/, "https://dashboard.render.com/u/settings#api-keys", null],
      ["Sentry", /collects the errors/, "https://sentry.io/settings/account/api/auth-tokens/", /org:read, project:read, project:releases, event:read and event:write/],
      ["CircleCI", /runs your project's CI/, "https://app.circleci.com/settings/user/tokens", null],
    ];
    await within(screen.getByRole("region", { name: "Docker registry" })).findByLabelText("Username");
    for (const [region, purpose, url, note] of expected) {
      const section = screen.getByRole("region", { name: region });
      if (within(section).queryByRole("button", { expanded: false })) await openService(user, region);
      expect(section).toHaveTextContent(purpose);
      if (note) expect(section).toHaveTextContent(note);
      const link = within(section).getByRole("link", { name: "Get a token" });
      expect(link).toHaveAttribute("href", url);
      await user.click(link);
    }
    await waitFor(() => expect(opened).toEqual(expected.map(([, , url]) => url)));
  });

  it("offers the logins Docker and sentry-cli keep, and checks one like a typed token", async () => {
    const user = userEvent.setup();
    const { api } = fakeBackend();
    const used: string[] = [];
    const withKnown = new AccountsStore({
      ...api,
      listAccounts: async () => (used.length ? [account("registry", "docker.io", { username: "alex", source: "Docker (config.json)" })] : []),
      connectRegistry: async () => {
        throw new Error("no form was sent");
      },
      knownLogins: async () => ({
        logins: [
          { service: "registry", server: "docker.io", username: "alex", organization: null, project: null, source: "Docker (config.json)" },
          { service: "sentry", server: "https://sentry.io/api/0", username: null, organization: "acme", project: null, source: "sentry-cli" },
        ],
        problems: [],
      }),
      useDockerLogin: async (server) => {
        used.push(`docker ${server}`);
        return account("registry", server, { username: "alex" });
      },
      useSentryCliLogin: async (organization, project) => {
        used.push(`sentry ${organization}/${project}`);
        throw new SlipwayError({ kind: "registryDenied", message: "The Sentry token lacks the permission event:write.", hint: "Create a token with event:write." });
      },
    });
    render(AccountsWizard, { store: withKnown });
    const registry = screen.getByRole("region", { name: "Docker registry" });
    const offer = await within(registry).findByRole("button", { name: "Use the Docker Hub login from Docker (alex)" });
    expect(offer).toHaveAttribute("title", expect.stringContaining("Found in Docker (config.json)"));
    await user.click(offer);
    expect(await within(registry).findByTestId("connected-registry")).toHaveTextContent("alex");
    expect(used).toEqual(["docker docker.io"]);

    // sentry-cli names the organization only: the project typed in the form goes with it.
    const sentry = await openService(user, "Sentry");
    await user.type(within(sentry).getByLabelText("Project"), "web");
    await user.click(within(sentry).getByRole("button", { name: "Use the Sentry login from sentry-cli (acme)" }));
    expect(await within(sentry).findByRole("alert")).toHaveTextContent("lacks the permission event:write");
    expect(used).toEqual(["docker docker.io", "sentry /web"]);
  });
});
