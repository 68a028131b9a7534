// The plan's remote and CircleCI beside it: what the store follows after a plan (a fetch still
// running, a pipeline still running), "Run on CircleCI", and how CircleCI's verdict reads.
import { render, screen, waitFor, within } from "@testing-library/svelte";
import userEvent from "@testing-library/user-event";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SlipwayError, type CiPanel, type CiVerdict, type CiWorkflow, type GivenValue, type Plan, type RemoteStanding } from "../ipc";
import { openedInBrowser } from "../testing/fakes";
import { appError, plan, projectDetails } from "../testing/fixtures";
import CircleCiVerdict from "./CircleCiVerdict.svelte";
import { ReleaseStore } from "./release.svelte";

const path = "/p/lettings";
const app = "https://app.circleci.com/pipelines/github/acme/lettings";

function verdict(state: CiVerdict["state"], workflows: CiWorkflow[] = [], number = 101): CiVerdict {
  return {
    pipelineId: `p-${number}`,
    pipelineNumber: number,
    pipelineUrl: `${app}/${number}`,
    revision: "abc1234def",
    state,
    workflows,
    errors: [],
  };
}

function workflow(status: string, jobs: CiWorkflow["jobs"]): CiWorkflow {
  return { id: "wf-1", name: "build-and-test", status, url: `${app}/101/workflows/wf-1`, jobs };
}

function job(name: string, status: string, number: number | null, kind = "build"): CiWorkflow["jobs"][number] {
  return {
    id: `job-${name}`,
    name,
    jobNumber: number,
    status,
    kind,
    url: number === null ? null : `${app}/101/workflows/wf-1/jobs/${number}`,
  };
}

function panel(overrides: Partial<CiPanel> = {}): CiPanel {
  return {
    project: "gh/acme/lettings",
    projectSource: "the project's settings",
    verdict: null,
    problem: null,
    comparison: null,
    canRun: false,
    ...overrides,
  };
}

function standing(overrides: Partial<RemoteStanding> = {}): RemoteStanding {
  return {
    remote: "origin",
    remoteUrl: "git@github.com:acme/lettings.git",
    upstream: "origin/main",
    branch: "main",
    state: "ahead",
    ahead: 1,
    behind: 0,
    reach: { kind: "fetched", at: "2026-12-07T10:00:00Z" },
    host: "GitHub",
    commitOnRemote: false,
    ...overrides,
  };
}

/** A backend that plans `plans` in turn (the last one again after that). */
function fakeApi(plans: Plan[]) {
  let planned = 0;
  return {
    planRelease: vi.fn(async (asked: string): Promise<Plan> => {
      const next = plans[Math.min(planned++, plans.length - 1)] ?? plan();
      return { ...next, projectPath: asked };
    }),
    startRelease: vi.fn(),
    cancelRelease: vi.fn(async () => true),
    listReleases: vi.fn(async () => []),
    giveProjectValues: vi.fn(async (asked: string, _values: GivenValue[]) => projectDetails(asked).settings),
    remoteFetchSettled: vi.fn(async (_path: string) => null),
    circleciVerdict: vi.fn(async (_path: string): Promise<CiPanel | null> => panel()),
    runOnCircleci: vi.fn(async (_path: string): Promise<CiVerdict> => verdict("running")),
  };
}

afterEach(() => {
  vi.useRealTimers();
  clearMocks();
});

describe("after a plan", () => {
  it("plans again once a fetch still running has answered, and not for one that is done", async () => {
    const fetching = plan({ remote: standing({ reach: { kind: "fetching" } }), remoteWords: "1 commit ahead of origin/main." });
    const fetched = plan({ remote: standing(), remoteWords: "1 commit ahead of origin/main: it is not on GitHub yet." });
    const api = fakeApi([fetching, fetched]);
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    expect(api.remoteFetchSettled).toHaveBeenCalledWith(path);
    await waitFor(() => expect(release.plan?.remoteWords).toBe("1 commit ahead of origin/main: it is not on GitHub yet."));
    expect(api.planRelease).toHaveBeenCalledTimes(2);
    // The fresh plan leaves nothing to wait for.
    expect(api.remoteFetchSettled).toHaveBeenCalledTimes(1);
  });

  it("does not plan the old project again when the fetch answers after another project was opened", async () => {
    let settle: () => void = () => {};
    const api = fakeApi([plan({ remote: standing({ reach: { kind: "fetching" } }) })]);
    api.remoteFetchSettled.mockImplementation(() => new Promise((resolve) => (settle = () => resolve(null))));
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    release.forProject("/p/bookshelf");
    settle();
    await Promise.resolve();
    await Promise.resolve();
    expect(api.planRelease).toHaveBeenCalledTimes(1);
    expect(release.plan).toBeNull();
  });

  it("follows a running pipeline until it ends, then asks no more", async () => {
    vi.useFakeTimers();
    const running = verdict("running", [workflow("running", [job("test", "running", 5)])]);
    const passed = verdict("passed", [workflow("success", [job("test", "success", 5)])]);
    const api = fakeApi([plan({ circleci: panel({ verdict: running }) })]);
    api.circleciVerdict.mockResolvedValueOnce(panel({ verdict: running })).mockResolvedValue(panel({ verdict: passed }));
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    expect(api.circleciVerdict).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.circleciVerdict).toHaveBeenCalledTimes(1);
    expect(release.plan?.circleci?.verdict?.state).toBe("running");
    await vi.advanceTimersByTimeAsync(5000);
    expect(release.plan?.circleci?.verdict?.state).toBe("passed");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(api.circleciVerdict).toHaveBeenCalledTimes(2);
    // Following never planned again: the rest of the plan stays as it was.
    expect(api.planRelease).toHaveBeenCalledTimes(1);
  });

  it("stops following when another project is opened, and never puts its verdict on that one", async () => {
    vi.useFakeTimers();
    const api = fakeApi([plan({ circleci: panel({ verdict: verdict("running") }) })]);
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    release.forProject("/p/bookshelf");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(api.circleciVerdict).not.toHaveBeenCalled();
    expect(release.plan).toBeNull();
  });

  it("says why CircleCI could not be asked again, beside the verdict it had", async () => {
    vi.useFakeTimers();
    const running = verdict("running");
    const api = fakeApi([plan({ circleci: panel({ verdict: running }) })]);
    api.circleciVerdict.mockRejectedValue(
      new SlipwayError(appError({ kind: "network", message: "CircleCI could not be reached.", hint: "Check your connection." })),
    );
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    await vi.advanceTimersByTimeAsync(5000);
    expect(release.ciError?.message).toBe("CircleCI could not be reached.");
    expect(release.plan?.circleci?.verdict).toEqual(running);
    // A new plan clears it.
    await release.loadPlan(path);
    expect(release.ciError).toBeNull();
  });
});

describe("Run on CircleCI", () => {
  const noPipeline = panel({ problem: "CircleCI has no pipeline for abc1234 on main yet.", canRun: true });

  it("shows the pipeline it started in place of the problem, then follows it", async () => {
    vi.useFakeTimers();
    const api = fakeApi([plan({ circleci: noPipeline })]);
    const passed = verdict("passed", [workflow("success", [job("test", "success", 5)])]);
    api.circleciVerdict.mockResolvedValue(panel({ verdict: passed }));
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    const started = release.runOnCircleci(path);
    expect(release.ciStarting).toBe(true);
    await started;
    expect(api.runOnCircleci).toHaveBeenCalledWith(path);
    expect(release.ciStarting).toBe(false);
    expect(release.plan?.circleci).toMatchObject({ problem: null, canRun: false, verdict: { pipelineNumber: 101, state: "running" } });
    await vi.advanceTimersByTimeAsync(5000);
    expect(release.plan?.circleci?.verdict?.state).toBe("passed");
  });

  it("says why it could not start one, and offers it again", async () => {
    const api = fakeApi([plan({ circleci: noPipeline })]);
    api.runOnCircleci.mockRejectedValue(
      new SlipwayError(
        appError({ kind: "precondition", message: "This commit is not on GitHub yet.", hint: "Push it first, then run CircleCI." }),
      ),
    );
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    await release.runOnCircleci(path);
    expect(release.ciStarting).toBe(false);
    expect(release.ciError?.message).toBe("This commit is not on GitHub yet.");
    expect(release.plan?.circleci).toEqual(noPipeline);
  });

  it("leaves another project's plan alone when the pipeline starts after it was opened", async () => {
    let answer: (started: CiVerdict) => void = () => {};
    const api = fakeApi([plan({ circleci: noPipeline }), plan({ circleci: null })]);
    api.runOnCircleci.mockImplementation(() => new Promise((resolve) => (answer = resolve)));
    const release = new ReleaseStore(api, null);
    await release.loadPlan(path);
    const started = release.runOnCircleci(path);
    await release.loadPlan("/p/bookshelf");
    answer(verdict("passed"));
    await started;
    expect(release.plan?.projectPath).toBe("/p/bookshelf");
    expect(release.plan?.circleci).toBeNull();
  });
});

describe("CircleCI's verdict", () => {
  const held = verdict("onHold", [
    workflow("on_hold", [job("test", "success", 101001), job("lint", "success", 101002), job("hold-deploy", "on_hold", null, "approval")]),
  ]);

  it("names the pipeline, its state, the workflow and every job with its status in words", () => {
    render(CircleCiVerdict, { verdict: held });
    expect(screen.getByTestId("circleci-verdict")).toHaveAttribute("data-state", "onHold");
    const pipeline = screen.getByRole("link", { name: "Pipeline 101" });
    expect(pipeline).toHaveAttribute("href", `${app}/101`);
    expect(screen.getByText("waits for an approval")).toBeInTheDocument();
    const jobs = screen.getByRole("list", { name: "Jobs of build-and-test" });
    const rows = within(jobs).getAllByRole("listitem");
    expect(rows.map((row) => row.textContent?.replace(/\s+/g, " ").trim())).toEqual([
      "test passed",
      "lint passed",
      "hold-deploy (approval) on hold",
    ]);
  });

  it("links every job: a build job to its page, an approval to its workflow's page where it is approved", () => {
    render(CircleCiVerdict, { verdict: held });
    expect(screen.getByRole("link", { name: "test" })).toHaveAttribute("href", `${app}/101/workflows/wf-1/jobs/101001`);
    expect(screen.getByRole("link", { name: "lint" })).toHaveAttribute("href", `${app}/101/workflows/wf-1/jobs/101002`);
    expect(screen.getByRole("link", { name: "hold-deploy" })).toHaveAttribute("href", `${app}/101/workflows/wf-1`);
  });

  it("shows a blocked build job, which has no page yet, as plain text", () => {
    render(CircleCiVerdict, {
      verdict: verdict("failed", [workflow("failed", [job("test", "failed", 7), job("deploy", "blocked", null)])]),
    });
    expect(screen.queryByRole("link", { name: "deploy" })).not.toBeInTheDocument();
    expect(screen.getByText("deploy")).toBeInTheDocument();
    expect(screen.getByText("blocked")).toBeInTheDocument();
    expect(screen.getByText("failed", { selector: ".head span" })).toBeInTheDocument();
  });

  it("says CircleCI's cancelled in the person's spelling and lists a pipeline's errors", () => {
    render(CircleCiVerdict, {
      verdict: { ...verdict("canceled", [workflow("canceled", [])]), errors: ["Config does not conform to schema"] },
    });
    expect(screen.getAllByText("cancelled")).toHaveLength(2);
    expect(screen.getByText("Config does not conform to schema")).toBeInTheDocument();
  });

  it("opens a job's page in the browser, never in Slipway's window", async () => {
    const opened = openedInBrowser();
    const user = userEvent.setup();
    render(CircleCiVerdict, { verdict: held });
    await user.click(screen.getByRole("link", { name: "test" }));
    await waitFor(() => expect(opened).toEqual([`${app}/101/workflows/wf-1/jobs/101001`]));
  });
});

describe("plans answering out of order", () => {
  it("shows the newest question's plan when an older one answers last", async () => {
    const api = fakeApi([]);
    let answerStaging: (plan: Plan) => void = () => {};
    api.planRelease
      .mockImplementationOnce(
        (asked: string) => new Promise<Plan>((resolve) => (answerStaging = (given) => resolve({ ...given, projectPath: asked }))),
      )
      .mockImplementationOnce(async (asked: string) => plan({ projectPath: asked, environment: "production" }));
    const release = new ReleaseStore(api, null);
    const first = release.loadPlan(path);
    await release.loadPlan(path);
    expect(release.plan?.environment).toBe("production");
    answerStaging(plan({ environment: "staging" }));
    await first;
    expect(release.plan?.environment).toBe("production");
    expect(release.planning).toBe(false);
  });
});
