// "Start Docker": Docker Desktop is started where it is installed; elsewhere (Linux without
// it) the backend says the one command that starts the engine on this system.
import { api as defaultApi, toSlipwayError, type Api } from "../ipc";

export interface DockerStartAnswer {
  /** Docker Desktop was asked to start. */
  started: boolean;
  /** What happened or what to do, in one sentence. */
  sentence: string;
  /** The command to type, when the person has to start it (shown with a Copy button). */
  command: string | null;
}

export async function startDocker(api: Pick<Api, "openDockerDesktop"> = defaultApi): Promise<DockerStartAnswer> {
  try {
    await api.openDockerDesktop();
    return { started: true, sentence: "Docker Desktop is starting; the badge at the top turns green once it runs.", command: null };
  } catch (raw) {
    const error = toSlipwayError(raw);
    return { started: false, sentence: error.message, command: error.terminalHint };
  }
}
