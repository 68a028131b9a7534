//! One window per data folder: a second launch hands its folder (if any) to the window that
//! is already open and ends, as a desktop app does when it is opened again from the menu or a
//! file manager.
//!
//! The window listens on a socket in its data folder, not on a name of the session bus: two
//! data folders are two Slipways (`SLIPWAY_DATA_DIR` is how the tests, and anyone with two
//! setups, keep them apart), and a desktop without D-Bus still gets one window. The socket is
//! the person's own (0600, in their data folder); what comes through it is one folder to open,
//! which opening shows and never runs.
//!
//! Unix sockets are the platform difference here: elsewhere every launch opens its own window.

use std::path::{Path, PathBuf};

/// What a launch may do.
pub enum Claim {
    /// No window is open for this data folder: this launch opens it, and `listener` hears the
    /// later launches (none where the socket could not be made; every launch then opens a window).
    First(Option<Listener>),
    /// A window was open: it was brought forward and given the folder. This launch ends.
    Handed,
}

/// What a launch asks of the window: sent by a later launch as one JSON line.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Launch {
    /// A project folder to open, absolute.
    pub open: Option<PathBuf>,
    /// Show the folder picker ("Open a project…").
    pub choose: bool,
}

/// The launches the window has not yet taken: a launch is answered as soon as it is read,
/// even while the window is still starting or its page not yet listening, and the page takes
/// them when it can.
#[derive(Debug, Clone, Default)]
pub struct Launches(std::sync::Arc<std::sync::Mutex<Vec<Launch>>>);

impl Launches {
    pub fn push(&self, launch: Launch) {
        if let Ok(mut waiting) = self.0.lock() {
            waiting.push(launch);
        }
    }

    /// Every launch waiting, oldest first; none are left.
    pub fn take(&self) -> Vec<Launch> {
        self.0
            .lock()
            .map(|mut waiting| std::mem::take(&mut *waiting))
            .unwrap_or_default()
    }
}

/// How long a later launch waits for the open window's answer before it says so.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// A launch message is a path: anything longer is not one.
const MAX_MESSAGE: u64 = 64 * 1024;

fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("window.sock")
}

/// Hands `launch` to the window open on `data_dir`, or claims the data folder for this launch.
/// An error means a window is open but did not answer.
pub fn claim(data_dir: &Path, launch: &Launch) -> std::io::Result<Claim> {
    platform::claim(data_dir, launch)
}

/// The window is closing: later launches start a window of their own from now on, rather
/// than hand themselves to one that is going.
pub fn close(data_dir: &Path) {
    let _ = std::fs::remove_file(socket_path(data_dir));
}

#[cfg(unix)]
pub use platform::Listener;

/// Where a socket cannot be had, there is nothing to listen with.
#[cfg(not(unix))]
pub struct Listener;

#[cfg(not(unix))]
mod platform {
    use super::*;

    pub fn claim(_data_dir: &Path, _launch: &Launch) -> std::io::Result<Claim> {
        Ok(Claim::First(None))
    }

    impl Listener {
        pub fn serve(self, _on_launch: impl Fn(Launch) + Send + 'static) {}
    }
}

#[cfg(unix)]
mod platform {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::net::{UnixListener, UnixStream};

    use super::*;

    /// The open window's socket.
    pub struct Listener {
        socket: UnixListener,
        path: PathBuf,
    }

    pub fn claim(data_dir: &Path, launch: &Launch) -> std::io::Result<Claim> {
        let path = socket_path(data_dir);
        // Twice: a window that started in the same instant may bind between our two steps.
        for _ in 0..2 {
            match UnixStream::connect(&path) {
                Ok(stream) => {
                    hand_over(stream, launch)?;
                    return Ok(Claim::Handed);
                }
                // Left by a window that was killed: nobody listens.
                Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::info!(%error, "no single window: the window's socket could not be reached");
                    return Ok(Claim::First(None));
                }
            }
            match UnixListener::bind(&path) {
                Ok(socket) => {
                    if let Err(error) = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
                        tracing::info!(%error, "the window's socket keeps its default permissions");
                    }
                    return Ok(Claim::First(Some(Listener { socket, path })));
                }
                Err(error) if error.kind() == std::io::ErrorKind::AddrInUse => continue,
                // A data folder whose path is too long for a socket, or read-only.
                Err(error) => {
                    tracing::info!(%error, "no single window: the window's socket could not be made");
                    return Ok(Claim::First(None));
                }
            }
        }
        Ok(Claim::First(None))
    }

    fn hand_over(mut stream: UnixStream, launch: &Launch) -> std::io::Result<()> {
        stream.set_read_timeout(Some(ANSWER_WAIT))?;
        stream.set_write_timeout(Some(ANSWER_WAIT))?;
        let mut message = serde_json::to_vec(launch)?;
        message.push(b'\n');
        stream.write_all(&message)?;
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer)?;
        if answer.trim_end() == "ok" {
            Ok(())
        } else {
            Err(std::io::Error::other("the open window did not take the launch"))
        }
    }

    impl Listener {
        /// Hears later launches on a thread of its own for as long as the process lives.
        pub fn serve(self, on_launch: impl Fn(Launch) + Send + 'static) {
            let spawned = std::thread::Builder::new()
                .name("single-window".to_owned())
                .spawn(move || {
                    for stream in self.socket.incoming() {
                        match stream.and_then(read_launch) {
                            Ok((launch, mut stream)) => {
                                // Answered first: what the window does with it may wait for
                                // the window, the launch never does.
                                let _ = stream.write_all(b"ok\n");
                                on_launch(launch);
                            }
                            Err(error) => tracing::info!(%error, "a launch could not be read"),
                        }
                    }
                });
            if let Err(error) = spawned {
                tracing::warn!(%error, "later launches will open windows of their own");
            }
        }
    }

    impl Drop for Listener {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.path);
        }
    }

    fn read_launch(stream: UnixStream) -> std::io::Result<(Launch, UnixStream)> {
        stream.set_read_timeout(Some(ANSWER_WAIT))?;
        let mut line = String::new();
        BufReader::new((&stream).take(MAX_MESSAGE)).read_line(&mut line)?;
        let launch = serde_json::from_str(&line).map_err(std::io::Error::other)?;
        Ok((launch, stream))
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[test]
    fn a_second_launch_hands_its_folder_to_the_first_and_ends() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let Claim::First(Some(listener)) = claim(data.path(), &Launch::default())? else {
            return Err("the first launch did not claim the data folder".into());
        };
        let (heard, hear) = mpsc::channel();
        listener.serve(move |open| {
            let _ = heard.send(open);
        });
        let folder = Launch {
            open: Some(PathBuf::from("/srv/projects/lettings")),
            choose: false,
        };
        assert!(matches!(claim(data.path(), &folder)?, Claim::Handed));
        assert_eq!(hear.recv_timeout(ANSWER_WAIT)?, folder);
        // Without a folder: the window only comes forward.
        assert!(matches!(claim(data.path(), &Launch::default())?, Claim::Handed));
        assert_eq!(hear.recv_timeout(ANSWER_WAIT)?, Launch::default());
        let mode = std::fs::metadata(socket_path(data.path()))?.permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);
        Ok(())
    }

    #[test]
    fn launches_wait_for_the_page_in_order_and_are_taken_once() {
        let launches = Launches::default();
        let folder = |name: &str| Launch {
            open: Some(PathBuf::from(name)),
            choose: false,
        };
        launches.push(folder("/p/one"));
        launches.push(folder("/p/two"));
        assert_eq!(launches.clone().take(), [folder("/p/one"), folder("/p/two")]);
        assert!(launches.take().is_empty());
    }

    #[test]
    fn another_data_folder_is_another_window() -> Result<(), Box<dyn std::error::Error>> {
        let (one, two) = (tempfile::tempdir()?, tempfile::tempdir()?);
        let first = claim(one.path(), &Launch::default())?;
        assert!(matches!(first, Claim::First(Some(_))));
        assert!(matches!(claim(two.path(), &Launch::default())?, Claim::First(Some(_))));
        Ok(())
    }

    #[test]
    fn a_socket_left_by_a_killed_window_is_taken_over() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        // Bound and closed without removing its file: what a killed window leaves.
        drop(std::os::unix::net::UnixListener::bind(socket_path(data.path()))?);
        assert!(socket_path(data.path()).exists());
        assert!(matches!(claim(data.path(), &Launch::default())?, Claim::First(Some(_))));
        Ok(())
    }

    #[test]
    fn a_window_that_does_not_answer_is_said_so() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        // Listening, never answering: a hung window.
        let _hung = std::os::unix::net::UnixListener::bind(socket_path(data.path()))?;
        let started = std::time::Instant::now();
        assert!(claim(data.path(), &Launch::default()).is_err());
        assert!(started.elapsed() >= ANSWER_WAIT);
        Ok(())
    }

    #[test]
    fn a_closing_window_takes_no_more_launches() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let Claim::First(Some(listener)) = claim(data.path(), &Launch::default())? else {
            return Err("the first launch did not claim the data folder".into());
        };
        listener.serve(|_| {});
        close(data.path());
        // Still listening on its way out, but no longer found: the next launch opens a window.
        assert!(matches!(claim(data.path(), &Launch::default())?, Claim::First(Some(_))));
        Ok(())
    }

    #[test]
    fn the_socket_goes_with_the_window() -> Result<(), Box<dyn std::error::Error>> {
        let data = tempfile::tempdir()?;
        let claimed = claim(data.path(), &Launch::default())?;
        assert!(socket_path(data.path()).exists());
        drop(claimed);
        assert!(!socket_path(data.path()).exists());
        Ok(())
    }
}
