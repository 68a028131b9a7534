//! Child processes as a tree: started in a group of their own, so that a cancel or a time-out
//! ends what they started too (pytest's workers, a shell's children); whether a process
//! still runs; which processes carry a mark in their environment.

use std::process::ExitStatus;

/// A child's group, named by the child's process id (unix: its process group; Windows: its
/// process tree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group(u32);

impl Group {
    /// The group a child started with [`own_group`] leads.
    pub fn led_by(pid: u32) -> Self {
        Self(pid)
    }
}

/// How a group is ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Asked to stop (unix: SIGTERM), so it can clean up.
    Ask,
    /// Ended at once (unix: SIGKILL).
    Force,
}

/// The child started by `command` leads a group of its own.
pub fn own_group(command: &mut tokio::process::Command) {
    #[cfg(unix)]
    command.process_group(0);
    #[cfg(windows)]
    command.creation_flags(CREATE_NEW_PROCESS_GROUP);
}

/// [`own_group`] for a blocking `std` command.
pub fn own_group_std(command: &mut std::process::Command) {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    #[cfg(windows)]
    std::os::windows::process::CommandExt::creation_flags(command, CREATE_NEW_PROCESS_GROUP);
}

#[cfg(windows)]
const CREATE_NEW_PROCESS_GROUP: u32 = 0x0000_0200;

/// Ends every process of `group`; a group already gone is no error.
pub fn end_group(group: Group, how: Ending) {
    #[cfg(unix)]
    {
        use nix::sys::signal::{killpg, Signal};
        let Ok(pid) = i32::try_from(group.0) else { return };
        let signal = match how {
            Ending::Ask => Signal::SIGTERM,
            Ending::Force => Signal::SIGKILL,
        };
        let _ = killpg(nix::unistd::Pid::from_raw(pid), signal);
    }
    #[cfg(not(unix))]
    {
        // taskkill walks the tree from its root; without /F it asks the windows to close.
        let mut command = std::process::Command::new("taskkill");
        command.args(["/PID", &group.0.to_string(), "/T"]);
        if how == Ending::Force {
            command.arg("/F");
        }
        let _ = command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// Whether the process `pid` still runs (this process always does).
pub fn is_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        i32::try_from(pid).is_ok_and(|pid| {
            // EPERM: it runs, as somebody else.
            !matches!(
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None),
                Err(nix::errno::Errno::ESRCH)
            )
        })
    }
    #[cfg(not(unix))]
    {
        let listed = std::process::Command::new("tasklist")
            .args(["/FI", &format!("PID eq {pid}"), "/FO", "CSV", "/NH"])
            .output();
        // Unknown counts as running: nothing of a live process is ever removed.
        listed.map_or(true, |out| {
            String::from_utf8_lossy(&out.stdout).contains(&format!("\"{pid}\""))
        })
    }
}

/// Ends the one process `pid` at once; true when it was there to end.
pub fn end_process(pid: u32) -> bool {
    #[cfg(unix)]
    {
        i32::try_from(pid).is_ok_and(|pid| {
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL).is_ok()
        })
    }
    #[cfg(not(unix))]
    {
        std::process::Command::new("taskkill")
            .args(["/PID", &pid.to_string(), "/F"])
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// The processes whose environment holds `pair` (`NAME=value`). Linux reads `/proc`; where
/// another process's environment cannot be read, none are found.
pub fn marked_with(pair: &str) -> Vec<u32> {
    #[cfg(target_os = "linux")]
    {
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_string_lossy().parse::<u32>().ok())
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/environ"))
                    .is_ok_and(|environ| environ.split(|byte| *byte == 0).any(|one| one == pair.as_bytes()))
            })
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pair;
        Vec::new()
    }
}

/// The signal that ended a process, where processes end by signals.
pub fn ending_signal(status: &ExitStatus) -> Option<i32> {
    #[cfg(unix)]
    {
        std::os::unix::process::ExitStatusExt::signal(status)
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A shell, `/proc` and signals: Linux's side, the one tested here.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_group_ends_whole_and_its_processes_are_then_gone() -> Result<(), Box<dyn std::error::Error>> {
        let mut command = std::process::Command::new("sh");
        // The shell's own child is in the group too; its pid is printed for the check.
        command
            .args(["-c", "sleep 30 & echo $!; wait"])
            .env("SLIPWAY_PLATFORM_TEST_MARK", "group-test")
            .stdout(std::process::Stdio::piped());
        own_group_std(&mut command);
        let mut child = command.spawn()?;
        let mut line = String::new();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let grandchild: u32 = line.trim().parse()?;
        assert!(is_running(child.id()) && is_running(grandchild));
        assert!(marked_with("SLIPWAY_PLATFORM_TEST_MARK=group-test").contains(&grandchild));

        end_group(Group::led_by(child.id()), Ending::Force);
        let status = child.wait()?;
        assert_eq!(ending_signal(&status), Some(9), "{status}");
        for _ in 0..100 {
            if !is_running(grandchild) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        // The grandchild is reparented and reaped by init, or is a zombie until then.
        let state = std::fs::read_to_string(format!("/proc/{grandchild}/stat")).unwrap_or_default();
        assert!(!is_running(grandchild) || state.contains(") Z"), "{state}");
        assert!(!end_process(u32::MAX));
        Ok(())
    }
}
