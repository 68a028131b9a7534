//! The environment the project's processes get: built from what they need, never inherited
//! whole. Slipway's own environment holds the session bus address (the keyring answers
//! there), the SSH agent, its Sentry DSN and, in its tests, registry passwords; a project's
//! tests are code from a repository, often a contributor's, and a CI never hands them those.
//!
//! What a child keeps from Slipway's environment is [`inherited`]: where programs are
//! (`PATH`, `HOME`), the locale and time zone, the proxies and certificates an install needs,
//! and pip's and uv's own settings. Everything else goes, and so does any kept name that
//! looks like a credential (`UV_PUBLISH_TOKEN`). The values the project is given (its
//! settings, its keyring values, the virtualenv's activation) come on top in
//! [`super::process::supervise`]. No `SLIPWAY_*` variable is kept: none is read by a child
//! (`SLIPWAY_UV` and `SLIPWAY_DATA_DIR` are read by Slipway itself), and the tests' registry
//! password is one of them. The one Slipway adds, the run's mark, is set by `supervise`.

use std::ffi::OsString;

/// Kept by exact name.
const KEPT: &[&str] = &[
    // Where programs and the person's files are.
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TMPDIR",
    // Where tools keep caches and read pip's configuration (`pip.conf`) from.
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    // pyenv's interpreters, which Slipway's environments are often made from.
    "PYENV_ROOT",
    // A Python built into a private prefix finds its libraries.
    "LD_LIBRARY_PATH",
    // The locale and the terminal, as the tests would see them in a terminal.
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    // Proxies and certificates: installs and tests that download reach the network as the
    // person's own tools do.
    "http_proxy",
    "https_proxy",
    "ftp_proxy",
    "all_proxy",
    "no_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "FTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "HTTPLIB2_CA_CERTS",
];

/// Kept by prefix: the locale's categories, pip's and uv's settings (the index, find-links,
/// the certificate pip trusts).
const KEPT_PREFIXES: &[&str] = &["LC_", "PIP_", "UV_"];

/// Parts of a name that mark a credential, dropped even under a kept prefix.
const SECRET_WORDS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "KEY",
    "AUTH",
    "CREDENTIAL",
    "DSN",
];

/// Docker's and testcontainers' variables: given only to a project whose sandbox is off, as
/// its tests use the engine (`DOCKER_HOST` may hold the engine's password).
const DOCKER_PREFIXES: &[&str] = &["DOCKER_", "TESTCONTAINERS_"];

fn looks_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_WORDS.iter().any(|word| upper.contains(word))
}

fn kept(name: &str) -> bool {
    (KEPT.contains(&name) || KEPT_PREFIXES.iter().any(|prefix| name.starts_with(prefix))) && !looks_secret(name)
}

/// The variables of `from` a project's process keeps; names that are not text are dropped
/// (no tool the checks run reads one).
pub(super) fn inherited(from: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<(OsString, OsString)> {
    from.into_iter()
        .filter(|(name, _)| name.to_str().is_some_and(kept))
        .collect()
}

/// The Docker variables of `from`, for a project whose tests use the engine.
pub(super) fn docker(from: impl IntoIterator<Item = (OsString, OsString)>) -> Vec<(String, String)> {
    from.into_iter()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .filter(|(name, _)| DOCKER_PREFIXES.iter().any(|prefix| name.starts_with(prefix)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(name, value)| (OsString::from(name), OsString::from(value)))
            .collect()
    }

    fn names(kept: &[(OsString, OsString)]) -> Vec<String> {
        kept.iter()
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_keyring_the_agent_and_slipways_own_values_never_reach_a_child() {
        let parent = vars(&[
            ("PATH", "/usr/bin"),
            ("HOME", "/home/ann"),
            ("LANG", "C.UTF-8"),
            ("LC_TIME", "en_GB.UTF-8"),
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("PIP_INDEX_URL", "https://mirror.example/simple"),
            ("PIP_FIND_LINKS", "/opt/wheels"),
            ("UV_NO_CACHE", "1"),
            ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/1000/bus"),
            ("SSH_AUTH_SOCK", "/run/user/1000/ssh-agent"),
            ("GNOME_KEYRING_CONTROL", "/run/user/1000/keyring"),
            ("XDG_RUNTIME_DIR", "/run/user/1000"),
            ("SENTRY_DSN", "https://key@o1.ingest.example/2"),
            ("SLIPWAY_TEST_REGISTRY_PASSWORD", "hunter2"),
            ("SLIPWAY_DATA_DIR", "/tmp/data"),
            ("SLIPWAY_UV", "off"),
            ("GITHUB_TOKEN", "ghp_x"),
            ("UV_PUBLISH_TOKEN", "pypi-x"),
            ("PIP_KEYRING_PROVIDER", "subprocess"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("DOCKER_HOST", "tcp://user:pass@127.0.0.1:2375"),
            ("DISPLAY", ":0"),
        ]);
        assert_eq!(
            names(&inherited(parent)),
            [
                "PATH",
                "HOME",
                "LANG",
                "LC_TIME",
                "HTTPS_PROXY",
                "PIP_INDEX_URL",
                "PIP_FIND_LINKS",
                "UV_NO_CACHE"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn docker_variables_are_given_apart_and_odd_bytes_are_dropped() {
        use std::os::unix::ffi::OsStringExt;
        let mut parent = vars(&[
            ("DOCKER_HOST", "unix:///run/docker.sock"),
            ("TESTCONTAINERS_RYUK_DISABLED", "true"),
            ("HOME", "/home/ann"),
        ]);
        parent.push((OsString::from_vec(vec![0xff, 0x50]), OsString::from("x")));
        assert_eq!(
            docker(parent.clone()),
            [
                ("DOCKER_HOST".to_owned(), "unix:///run/docker.sock".to_owned()),
                ("TESTCONTAINERS_RYUK_DISABLED".to_owned(), "true".to_owned()),
            ]
        );
        assert_eq!(names(&inherited(parent)), ["HOME"]);
    }
}
