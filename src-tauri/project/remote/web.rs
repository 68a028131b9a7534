//! What a remote's address says: the address without credentials, the forge it is on, the
//! web page of a commit there and the CircleCI project it implies. Pure text, no git.

/// A forge whose web pages and CircleCI slugs Slipway knows how to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Forge {
    GitHub,
    GitLab,
    Bitbucket,
}

impl Forge {
    /// The name a person knows it by.
    pub(super) fn name(self) -> &'static str {
        match self {
            Forge::GitHub => "GitHub",
            Forge::GitLab => "GitLab",
            Forge::Bitbucket => "Bitbucket",
        }
    }

    fn of_host(host: &str) -> Option<Self> {
        // The SSH-over-443 hosts (`ssh.github.com`, `altssh.…`) are the same forge.
        match host.to_ascii_lowercase().as_str() {
            "github.com" | "www.github.com" | "ssh.github.com" => Some(Forge::GitHub),
            "gitlab.com" | "www.gitlab.com" | "altssh.gitlab.com" => Some(Forge::GitLab),
            "bitbucket.org" | "www.bitbucket.org" | "altssh.bitbucket.org" => Some(Forge::Bitbucket),
            _ => None,
        }
    }
}

/// A repository on a known forge: `owner/name` (GitLab's groups may nest: `group/sub/name`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct OnForge {
    pub forge: Forge,
    pub path: String,
}

/// "GitHub", "GitLab" or "Bitbucket" when `remote_url` is on one of them.
pub fn forge_name(remote_url: &str) -> Option<&'static str> {
    on_forge(remote_url).map(|found| found.forge.name())
}

/// The forge and repository `remote_url` names, for the https, `ssh://` and scp-like
/// (`git@host:owner/name.git`) forms, with or without `.git` and credentials.
pub(super) fn on_forge(remote_url: &str) -> Option<OnForge> {
    let url = remote_url.trim();
    let (host, path) = match url.split_once("://") {
        Some((_, rest)) => {
            let (authority, path) = rest.split_once('/')?;
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            let host = host_port.split_once(':').map_or(host_port, |(host, _)| host);
            (host, path)
        }
        None => {
            // scp-like: `[user@]host:path`, which git reads so only when no `/` comes before the `:`.
            let (before, path) = url.split_once(':')?;
            if before.contains('/') {
                return None;
            }
            (before.rsplit_once('@').map_or(before, |(_, host)| host), path)
        }
    };
    let forge = Forge::of_host(host)?;
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path).trim_end_matches('/');
    let parts: Vec<&str> = path.split('/').collect();
    let fits = parts
        .iter()
        .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
    let depth_fits = match forge {
        Forge::GitLab => parts.len() >= 2,
        Forge::GitHub | Forge::Bitbucket => parts.len() == 2,
    };
    (fits && depth_fits).then(|| OnForge {
        forge,
        path: parts.join("/"),
    })
}

/// `remote_url` as it may be shown and recorded: an https (or any non-SSH) address loses its
/// user info whole (`https://user:token@host/…` and `https://token@host/…` both carry a
/// token); an `ssh://` address keeps its user (`git`, no secret) but not a password; the
/// scp-like form has no place for a password and is kept. The redactor runs last, for the
/// shapes it knows (`?token=` in a query).
pub(super) fn without_credentials(remote_url: &str) -> String {
    let url = remote_url.trim();
    let cleaned = match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((user_info, host)) => {
                    // `ssh`, `git+ssh`, `ssh+git`.
                    let ssh = scheme.to_ascii_lowercase().contains("ssh");
                    let user = user_info.split_once(':').map_or(user_info, |(user, _)| user);
                    if ssh && !user.is_empty() {
                        format!("{scheme}://{user}@{host}{path}")
                    } else {
                        format!("{scheme}://{host}{path}")
                    }
                }
                None => url.to_owned(),
            }
        }
        None => url.to_owned(),
    };
    crate::redact::redact(&cleaned).into_owned()
}

/// The parts of an address's user info that are secrets, for scrubbing git's lines: the
/// password, and a user long enough to be a token (`https://ghp_…@github.com/…`). Git hides
/// them itself; a credential helper or a hook need not.
pub(super) fn url_secrets(remote_url: &str) -> Vec<String> {
    let Some((_, rest)) = remote_url.trim().split_once("://") else {
        return Vec::new();
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let Some((user_info, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    match user_info.split_once(':') {
        Some((_, password)) if !password.is_empty() => vec![password.to_owned()],
        None if user_info.len() >= 20 => vec![user_info.to_owned()],
        _ => Vec::new(),
    }
}

/// The web page of `commit` for a remote on GitHub, GitLab or Bitbucket; `None` for any other
/// remote or for a commit that is not a hex id.
pub fn commit_url(remote_url: &str, commit: &str) -> Option<String> {
    let commit = commit.trim();
    if commit.len() < 7 || !commit.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let OnForge { forge, path } = on_forge(remote_url)?;
    Some(match forge {
        Forge::GitHub => format!("https://github.com/{path}/commit/{commit}"),
        Forge::GitLab => format!("https://gitlab.com/{path}/-/commit/{commit}"),
        Forge::Bitbucket => format!("https://bitbucket.org/{path}/commits/{commit}"),
    })
}

/// The CircleCI project slug a remote implies: `gh/owner/name` on GitHub, `bb/owner/name` on
/// Bitbucket; `None` otherwise (CircleCI's GitLab projects have opaque slugs).
pub fn circleci_slug(remote_url: &str) -> Option<String> {
    let OnForge { forge, path } = on_forge(remote_url)?;
    match forge {
        Forge::GitHub => Some(format!("gh/{path}")),
        Forge::Bitbucket => Some(format!("bb/{path}")),
        Forge::GitLab => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "3f2a9c0d1e4b5a6978c0d1e2f3a4b5c6d7e8f901";

    #[test]
    fn every_address_form_of_each_forge_gives_its_commit_page() {
        let github = format!("https://github.com/acme/lettings/commit/{SHA}");
        for url in [
            "https://github.com/acme/lettings.git",
            "https://github.com/acme/lettings",
            "https://github.com/acme/lettings/",
            "https://alice:ghp_secret123@github.com/acme/lettings.git",
            "git@github.com:acme/lettings.git",
            "git@github.com:acme/lettings",
            "ssh://git@github.com/acme/lettings.git",
            "ssh://git@ssh.github.com:443/acme/lettings.git",
            "GIT@GitHub.com:acme/lettings.git",
        ] {
            assert_eq!(commit_url(url, SHA).as_deref(), Some(github.as_str()), "{url}");
            assert_eq!(circleci_slug(url).as_deref(), Some("gh/acme/lettings"), "{url}");
        }
        assert_eq!(
            commit_url("git@gitlab.com:acme/team/lettings.git", SHA),
            Some(format!("https://gitlab.com/acme/team/lettings/-/commit/{SHA}"))
        );
        assert_eq!(
            commit_url("https://gitlab.com/acme/lettings", SHA),
            Some(format!("https://gitlab.com/acme/lettings/-/commit/{SHA}"))
        );
        assert_eq!(circleci_slug("https://gitlab.com/acme/lettings"), None);
        assert_eq!(
            commit_url("ssh://git@bitbucket.org/acme/lettings.git", SHA),
            Some(format!("https://bitbucket.org/acme/lettings/commits/{SHA}"))
        );
        assert_eq!(
            circleci_slug("git@bitbucket.org:acme/lettings.git").as_deref(),
            Some("bb/acme/lettings")
        );
    }

    #[test]
    fn other_hosts_paths_and_ids_give_no_page() {
        assert_eq!(commit_url("https://git.example.test/acme/lettings.git", SHA), None);
        assert_eq!(commit_url("/srv/git/lettings.git", SHA), None);
        assert_eq!(commit_url("git://127.0.0.1:9418/x.git", SHA), None);
        assert_eq!(commit_url("https://github.com/acme", SHA), None);
        assert_eq!(commit_url("https://github.com/acme/lettings/tree/main", SHA), None);
        assert_eq!(commit_url("https://github.com/acme/lettings.git", "main"), None);
        assert_eq!(commit_url("https://github.com/acme/lettings.git", "abc"), None);
        assert_eq!(circleci_slug("https://git.example.test/acme/lettings.git"), None);
    }

    #[test]
    fn credentials_leave_the_address_and_ssh_users_stay() {
        assert_eq!(
            without_credentials("https://alice:tok-SECRET-99@github.com/acme/lettings.git"),
            "https://github.com/acme/lettings.git"
        );
        assert_eq!(
            without_credentials("https://ghp_tokenonly@github.com/acme/lettings.git"),
            "https://github.com/acme/lettings.git"
        );
        assert_eq!(
            without_credentials("ssh://git:pw-SECRET@host.test:2222/acme/x.git"),
            "ssh://git@host.test:2222/acme/x.git"
        );
        assert_eq!(
            without_credentials("git@github.com:acme/lettings.git"),
            "git@github.com:acme/lettings.git"
        );
        assert_eq!(without_credentials("/srv/git/x.git"), "/srv/git/x.git");
        assert_eq!(
            url_secrets("https://alice:tok-SECRET-99@host.test/x.git"),
            ["tok-SECRET-99"]
        );
        assert_eq!(
            url_secrets("https://ghp_0123456789abcdefghij@github.com/acme/x.git"),
            ["ghp_0123456789abcdefghij"]
        );
        assert!(url_secrets("https://alice@host.test/x.git").is_empty());
        assert!(url_secrets("git@github.com:acme/x.git").is_empty());
        assert_eq!(
            on_forge("https://alice:tok@gitlab.com/acme/x.git").map(|found| found.forge.name()),
            Some("GitLab")
        );
    }
}
