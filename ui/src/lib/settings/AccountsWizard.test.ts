import { render, screen, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { SlipwayError, type Account } from "../ipc";
import AccountsWizard from "./AccountsWizard.svelte";
import { AccountsStore } from "./accounts.svelte";

function account(service: Account["service"], name: string, extra: Partial<Account> = {}): Account {
  return { service, account: name, username: null, server: null, organization: null, project: null, verifiedAt: "2026-11-24T10:00:00Z", scopes: [], source: "wizard", ...extra };
}

/** A backend that accepts `good-*` secrets, keeps accounts, and never echoes a secret back. */
function fakeBackend() {
  let accounts: Account[] = [];
  const sent: string[] = [];
  const keep = (kept: Account) => {
    accounts = [...accounts.filter((a) => !(a.service === kept.service && a.account === kept.account)), kept];
    return kept;
  };
  const store = new AccountsStore({
    listAccounts: async () => accounts,
    connectRegistry: async (server, username, token) => {
      sent.push(token);
      if (!token.startsWith("good-")) throw new SlipwayError({ kind: "registryAuth", message: `${server || "docker.io"} refused the login`, hint: "Re-enter the registry username and access token in Settings." });
      return keep(account("registry", server || "docker.io", { username, scopes: ["pull", "push"] }));
    },
    connectRender: async (key) => {
      sent.push(key);
      return { account: keep(account("render", "default", { username: "Ann's team" })), services: [{ id: "srv-1", name: "web", type: "web_service", image: "docker.io/ann/web:latest", url: null }] };
    },
    chooseRenderService: async (id, image) => keep(account("render", "default", { project: id, organization: image })),
    connectRenderHook: async (url) => keep(account("render", "deploy-hook", { project: url.length > 0 ? "srv-1" : null })),
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
      return keep(account("circleCi", "default", { username: "ann", project: slug }));
    },
    removeAccount: async (service, name) => {
      accounts = accounts.filter((a) => !(a.service === service && a.account === name));
      return null;
    },
    checkAllAccounts: async () => accounts.map((a) => ({ account: a, ok: a.service !== "render", problem: a.service === "render" ? { kind: "registryAuth", message: "Render refused the credentials.", hint: "Re-enter the API key.", action: "reenterToken", detail: "HTTP 401 Unauthorized", terminalHint: null } : null })),
  });
  return { store, sent };
}

describe("the accounts wizard", () => {
  it("checks a registry token, keeps it, and clears the field", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    const registry = screen.getByRole("region", { name: "Docker registry" });
    await user.type(within(registry).getByLabelText("Username"), "ann");
    await user.type(within(registry).getByLabelText("Access token"), "bad-token");
    await user.click(within(registry).getByRole("button", { name: "Check and save" }));
    expect(await within(registry).findByRole("alert")).toHaveTextContent("refused the login");
    expect(within(registry).getByLabelText("Access token")).toHaveValue("");

    await user.type(within(registry).getByLabelText("Access token"), "good-token");
    await user.click(within(registry).getByRole("button", { name: "Check and save" }));
    const connected = await within(registry).findByTestId("connected-registry");
    expect(connected).toHaveTextContent("docker.io as ann");
    expect(connected).toHaveTextContent("pull, push");
    expect(within(registry).queryByLabelText("Access token")).not.toBeInTheDocument();
    expect(document.body.innerHTML).not.toContain("good-token");
  });

  it("names a missing Sentry permission", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    const sentry = screen.getByRole("region", { name: "Sentry" });
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
    const sentry = screen.getByRole("region", { name: "Sentry" });
    await user.type(within(sentry).getByLabelText("Auth token"), "good-sentry");
    await user.type(within(sentry).getByLabelText("Organization"), "acme");
    await user.click(within(sentry).getByRole("button", { name: "Find projects" }));
    const picker = await within(sentry).findByRole("combobox", { name: "Project" });
    await user.selectOptions(picker, "worker");
    await user.click(within(sentry).getByRole("button", { name: "Check and save" }));
    expect(await within(sentry).findByTestId("connected-sentry")).toHaveTextContent("acme/worker");
  });

  it("lists Render services to pick from, and checks every account at once", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    const renderStep = screen.getByRole("region", { name: "Render" });
    await user.type(within(renderStep).getByLabelText("API key"), "good-render");
    await user.click(within(renderStep).getByRole("button", { name: "Check and save" }));
    const services = await within(renderStep).findByRole("list", { name: "Render services" });
    expect(services).toHaveTextContent("docker.io/ann/web:latest");
    await user.click(within(services).getByRole("button", { name: "web" }));
    await user.click(screen.getByRole("button", { name: "Check all" }));
    const checks = await screen.findByRole("list", { name: "Account checks" });
    expect(checks).toHaveTextContent("✗ render default: Render refused the credentials.");
  });

  it("removes an account", async () => {
    const user = userEvent.setup();
    const { store } = fakeBackend();
    render(AccountsWizard, { store });
    const circle = screen.getByRole("region", { name: "CircleCI" });
    await user.type(within(circle).getByLabelText("Personal API token"), "good-circle");
    await user.type(within(circle).getByLabelText("Project slug"), "gh/ann/shop");
    await user.click(within(circle).getByRole("button", { name: "Check and save" }));
    await user.click(await within(circle).findByRole("button", { name: "Remove default" }));
    expect(await within(circle).findByLabelText("Personal API token")).toBeInTheDocument();
  });
});
