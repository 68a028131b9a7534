import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import type { GivenValue, NeededValue } from "../ipc";
import { appError, plan, projectDetails } from "../testing/fixtures";
import ReleasePlan from "./ReleasePlan.svelte";
import { ReleaseStore } from "./release.svelte";

const secretKey: NeededValue = {
  name: "DJANGO_SECRET_KEY",
  why: "shop/settings.py reads it with no default; your CI gives it from ${{ secrets.DJANGO_SECRET_KEY }}",
  secret: true,
  required: true,
  ciSecret: true,
  testValue: { kind: "randomKey", length: 50 },
};
const hosts: NeededValue = {
  name: "ALLOWED_HOSTS",
  why: "shop/settings.py reads it with no default",
  secret: false,
  required: true,
  ciSecret: false,
  testValue: { kind: "text", value: "localhost,127.0.0.1" },
};
const database: NeededValue = {
  name: "DATABASE_URL",
  why: "shop/settings.py reads it with no default",
  secret: false,
  required: true,
  ciSecret: true,
  testValue: null,
};

function backend(needs: NeededValue[]) {
  let given: GivenValue[] = [];
  const api = {
    planRelease: vi.fn(async (path: string) => plan({ projectPath: path, needs: needs.filter((need) => !given.some((value) => value.name === need.name)) })),
    startRelease: vi.fn(),
    cancelRelease: vi.fn(async () => true),
    listReleases: vi.fn(async () => []),
    giveProjectValues: vi.fn(async (path: string, values: GivenValue[]) => {
      given = values;
      return projectDetails(path).settings;
    }),
  };
  return api;
}

async function shown(needs: NeededValue[]) {
  const api = backend(needs);
  const release = new ReleaseStore(api, null);
  await release.loadPlan("/p/shop");
  const view = render(ReleasePlan, { props: { plan: release.plan ?? plan(), release } });
  return { api, release, view };
}

describe("the values the plan asks for", () => {
  it("says the CI keeps them in its secret store", async () => {
    await shown([secretKey, hosts, database]);
    const note = screen.getByRole("note", { name: "Values the checks need" }).textContent?.replace(/\s+/g, " ");
    expect(note).toContain(
      "The tests need DJANGO_SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL; your CI keeps DJANGO_SECRET_KEY and DATABASE_URL in its secret store",
    );
  });

  it("fills test values the person sees, and saves only on Save", async () => {
    const { api } = await shown([secretKey, hosts, database]);
    await fireEvent.click(screen.getByRole("button", { name: "Fill with test values" }));
    expect(api.giveProjectValues).not.toHaveBeenCalled();
    expect(screen.getByTestId("filled-DJANGO_SECRET_KEY").textContent).toContain("a random key, 50 characters");
    expect(screen.getByLabelText("ALLOWED_HOSTS")).toHaveValue("localhost,127.0.0.1");
    // A database is never guessed: the person types it.
    expect(screen.getByLabelText("DATABASE_URL")).toHaveValue("");
    await fireEvent.click(screen.getByRole("button", { name: "Save 2 values" }));
    await waitFor(() => expect(api.giveProjectValues).toHaveBeenCalledTimes(1));
    expect(api.giveProjectValues).toHaveBeenCalledWith("/p/shop", [
      { name: "DJANGO_SECRET_KEY", secret: true, value: { kind: "randomKey", length: 50 } },
      { name: "ALLOWED_HOSTS", secret: false, value: { kind: "text", value: "localhost,127.0.0.1" } },
    ]);
    // The plan is made again: only what is still missing is asked for.
    await waitFor(() => expect(api.planRelease).toHaveBeenCalledTimes(2));
  });

  it("keeps what the person typed when filling, and a secret goes as typed", async () => {
    const { api } = await shown([secretKey, hosts]);
    await fireEvent.input(screen.getByLabelText("ALLOWED_HOSTS"), { target: { value: "shop.test" } });
    await fireEvent.click(screen.getByRole("button", { name: "Fill with test values" }));
    expect(screen.getByLabelText("ALLOWED_HOSTS")).toHaveValue("shop.test");
    await fireEvent.click(screen.getByRole("button", { name: "Type one instead" }));
    const secret = screen.getByLabelText("DJANGO_SECRET_KEY");
    expect(secret).toHaveAttribute("type", "password");
    await fireEvent.input(secret, { target: { value: "typed-key" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save 2 values" }));
    await waitFor(() =>
      expect(api.giveProjectValues).toHaveBeenCalledWith("/p/shop", [
        { name: "DJANGO_SECRET_KEY", secret: true, value: { kind: "text", value: "typed-key" } },
        { name: "ALLOWED_HOSTS", secret: false, value: { kind: "text", value: "shop.test" } },
      ]),
    );
  });

  it("shows why the values could not be saved", async () => {
    const { api, release } = await shown([hosts]);
    api.giveProjectValues.mockRejectedValueOnce(
      appError({ kind: "keyringUnavailable", message: "The keyring does not answer.", hint: "Unlock it, then save again." }),
    );
    await fireEvent.click(screen.getByRole("button", { name: "Fill with test values" }));
    await fireEvent.click(screen.getByRole("button", { name: "Save value" }));
    await waitFor(() => expect(release.error?.message).toBe("The keyring does not answer."));
    // What was filled stays, to save again.
    expect(screen.getByLabelText("ALLOWED_HOSTS")).toHaveValue("localhost,127.0.0.1");
  });
});
