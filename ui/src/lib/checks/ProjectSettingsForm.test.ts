import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import type { ProjectDetails } from "../ipc";
import { projectDetails } from "../testing/fixtures";
import ProjectSettingsForm from "./ProjectSettingsForm.svelte";
import { ChecksStore } from "./checks.svelte";

const details: ProjectDetails = { ...projectDetails("/p/shop"), git: null };

describe("the build settings", () => {
  it("turn tags, target stage and build arguments into the saved settings", async () => {
    const api = {
      detectProject: vi.fn(async () => details),
      saveProjectSettings: vi.fn(async (_path: string, settings: ProjectDetails["settings"]) => settings),
      runChecks: vi.fn(),
      cancelChecks: vi.fn(),
      setProjectValue: vi.fn(),
      unsetProjectValue: vi.fn(),
    };
    const store = new ChecksStore(api);
    await store.load("/p/shop");
    render(ProjectSettingsForm, { store });
    await fireEvent.input(screen.getByLabelText("Image tags"), { target: { value: "v-{commit}, stable" } });
    await fireEvent.input(screen.getByLabelText("Target stage"), { target: { value: " web " } });
    await fireEvent.input(screen.getByLabelText("Build arguments"), {
      target: { value: "PYTHON_VERSION=3.11\nnot a pair\nDEBUG=0=no" },
    });
    await fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
    const saved = api.saveProjectSettings.mock.calls[0]?.[1];
    if (!saved) throw new Error("the settings were not saved");
    expect(saved.imageTags).toEqual(["v-{commit}", "stable"]);
    expect(saved.buildTarget).toBe("web");
    expect(saved.buildArgs).toEqual({ PYTHON_VERSION: "3.11", DEBUG: "0=no" });
  });

  it("lets the person correct the linter, the default command following it", async () => {
    const api = {
      detectProject: vi.fn(async () => details),
      saveProjectSettings: vi.fn(async (_path: string, settings: ProjectDetails["settings"]) => settings),
      runChecks: vi.fn(),
      cancelChecks: vi.fn(),
      setProjectValue: vi.fn(),
      unsetProjectValue: vi.fn(),
    };
    const store = new ChecksStore(api);
    await store.load("/p/shop");
    render(ProjectSettingsForm, { store });
    const linter = screen.getByLabelText("Linter") as HTMLSelectElement;
    expect(linter.value).toBe(details.settings.lintTool);
    await fireEvent.change(linter, { target: { value: "ruff" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
    const saved = api.saveProjectSettings.mock.calls[0]?.[1];
    expect(saved?.lintTool).toBe("ruff");
    expect(saved?.lintCommand).toBe("ruff check");
  });

  it("asks for a secret build argument the CI passes, for the keyring", async () => {
    const withArgs = structuredClone(details);
    withArgs.detection.buildArgs = [
      { name: "APP_VERSION", value: "1.4", expression: null, secret: false, source: "docker-compose.yml (service web)" },
      {
        name: "SENTRY_AUTH_TOKEN",
        value: null,
        expression: "${SENTRY_AUTH_TOKEN}",
        secret: true,
        source: "docker-compose.yml (service web)",
      },
    ];
    const saved = { ...withArgs.settings, secretEnv: ["SENTRY_AUTH_TOKEN"] };
    const api = {
      detectProject: vi.fn(async () => withArgs),
      saveProjectSettings: vi.fn(),
      runChecks: vi.fn(),
      cancelChecks: vi.fn(),
      setProjectValue: vi.fn(async () => saved),
      unsetProjectValue: vi.fn(),
    };
    const store = new ChecksStore(api);
    await store.load("/p/shop");
    render(ProjectSettingsForm, { store });
    const group = screen.getByRole("group", { name: "Values the image build needs" });
    expect(group).toHaveTextContent("SENTRY_AUTH_TOKEN");
    expect(group).not.toHaveTextContent("APP_VERSION");
    const input = screen.getByLabelText("SENTRY_AUTH_TOKEN") as HTMLInputElement;
    expect(input.type).toBe("password");
    await fireEvent.input(input, { target: { value: "sntrys_token_value" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save to keyring" }));
    expect(api.setProjectValue).toHaveBeenCalledWith("/p/shop", "SENTRY_AUTH_TOKEN", "sntrys_token_value", true);
    expect(await screen.findByTestId("secret-set-SENTRY_AUTH_TOKEN")).toHaveTextContent("set, kept in the keyring");
  });

  it("names the Docker context the project builds and runs on, empty for Docker's own choice", async () => {
    const api = {
      detectProject: vi.fn(async () => details),
      saveProjectSettings: vi.fn(async (_path: string, settings: ProjectDetails["settings"]) => settings),
      runChecks: vi.fn(),
      cancelChecks: vi.fn(),
      setProjectValue: vi.fn(),
      unsetProjectValue: vi.fn(),
    };
    const store = new ChecksStore(api);
    await store.load("/p/shop");
    render(ProjectSettingsForm, { store });
    const field = screen.getByLabelText("Docker context") as HTMLInputElement;
    expect(field.value).toBe("");
    expect(field.placeholder).toBe("Docker's own choice");
    await fireEvent.input(field, { target: { value: " team " } });
    await fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(api.saveProjectSettings.mock.calls[0]?.[1]?.dockerContext).toBe("team");
    await fireEvent.input(field, { target: { value: "  " } });
    await fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(api.saveProjectSettings.mock.calls[1]?.[1]?.dockerContext).toBeUndefined();
  });

  it("turns the sandbox off for tests that use Docker, and says what that gives them", async () => {
    const api = {
      detectProject: vi.fn(async () => details),
      saveProjectSettings: vi.fn(async (_path: string, settings: ProjectDetails["settings"]) => settings),
      runChecks: vi.fn(),
      cancelChecks: vi.fn(),
      setProjectValue: vi.fn(),
      unsetProjectValue: vi.fn(),
    };
    const store = new ChecksStore(api);
    await store.load("/p/shop");
    render(ProjectSettingsForm, { store });
    const toggle = screen.getByRole("checkbox", { name: "Run the checks in a sandbox" }) as HTMLInputElement;
    expect(toggle.checked).toBe(true);
    await fireEvent.click(toggle);
    expect(await screen.findByText(/the tests can reach your keyring/)).toBeInTheDocument();
    await fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
    expect(api.saveProjectSettings.mock.calls[0]?.[1]?.sandbox).toBe(false);
  });

  it("sends a secret test value to the keyring once and never shows it again", async () => {
    const secretDetails = structuredClone(details);
    secretDetails.detection.envVars = [
      {
        name: "DJANGO_SECRET_KEY",
        sources: ["shop/settings.py"],
        example: null,
        secret: true,
        ciValue: null,
        ciExpression: "${{ secrets.DJANGO_SECRET_KEY }}",
        required: true,
        readByCode: true,
        inDotenv: false,
      },
    ];
    const saved = { ...secretDetails.settings, secretEnv: ["DJANGO_SECRET_KEY"] };
    const api = {
      detectProject: vi.fn(async () => secretDetails),
      saveProjectSettings: vi.fn(),
      runChecks: vi.fn(),
      cancelChecks: vi.fn(),
      setProjectValue: vi.fn(async () => saved),
      unsetProjectValue: vi.fn(async () => ({ ...saved, secretEnv: [] })),
    };
    const store = new ChecksStore(api);
    await store.load("/p/shop");
    render(ProjectSettingsForm, { store });
    const input = screen.getByLabelText("DJANGO_SECRET_KEY") as HTMLInputElement;
    expect(input.type).toBe("password");
    await fireEvent.input(input, { target: { value: "s3cret-marker" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save to keyring" }));
    expect(api.setProjectValue).toHaveBeenCalledWith("/p/shop", "DJANGO_SECRET_KEY", "s3cret-marker", true);
    expect(await screen.findByTestId("secret-set-DJANGO_SECRET_KEY")).toHaveTextContent("kept in the keyring");
    expect(document.body.innerHTML).not.toContain("s3cret-marker");
    expect(JSON.stringify(store.draft)).not.toContain("s3cret-marker");
  });
});

describe("values given on the release page", () => {
  it("show in the form at once, the secret by its name only, and what is being edited stays", async () => {
    const withNeeds = structuredClone(details);
    const need = (name: string, secret: boolean) => ({
      name,
      sources: ["shop/settings.py"],
      example: null,
      secret,
      ciValue: null,
      ciExpression: null,
      required: true,
      readByCode: true,
      inDotenv: false,
    });
    withNeeds.detection.envVars = [need("DJANGO_ALLOWED_HOSTS", false), need("DJANGO_SECRET_KEY", true)];
    const api = {
      detectProject: vi.fn(async () => withNeeds),
      saveProjectSettings: vi.fn(async (_path: string, settings: ProjectDetails["settings"]) => settings),
      runChecks: vi.fn(),
      cancelChecks: vi.fn(),
      setProjectValue: vi.fn(),
      unsetProjectValue: vi.fn(),
    };
    const store = new ChecksStore(api);
    await store.load("/p/shop");
    render(ProjectSettingsForm, { store });
    await fireEvent.input(screen.getByLabelText("Test command"), { target: { value: "pytest -x" } });
    store.applyValues({
      ...withNeeds.settings,
      env: { DJANGO_ALLOWED_HOSTS: "localhost,127.0.0.1" },
      secretEnv: ["DJANGO_SECRET_KEY"],
    });
    expect(await screen.findByDisplayValue("localhost,127.0.0.1")).toBeInTheDocument();
    expect(screen.getByTestId("secret-set-DJANGO_SECRET_KEY")).toHaveTextContent("set, kept in the keyring");
    expect(screen.getByLabelText("Test command")).toHaveValue("pytest -x");
    // Saving the form now keeps the values given.
    await fireEvent.click(screen.getByRole("button", { name: "Save settings" }));
    const saved = api.saveProjectSettings.mock.calls[0]?.[1];
    expect(saved?.env).toEqual({ DJANGO_ALLOWED_HOSTS: "localhost,127.0.0.1" });
    expect(saved?.secretEnv).toEqual(["DJANGO_SECRET_KEY"]);
  });
});
