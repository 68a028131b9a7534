//! This machine's and this person's names, as History records who released where.

/// The OS account's name, when the environment does not say it.
pub fn account_name() -> Option<String> {
    account()
}

/// The machine's name, `None` when it has none.
pub fn machine_name() -> Option<String> {
    machine().filter(|name| !name.is_empty())
}

#[cfg(unix)]
fn account() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|user| user.name)
}

#[cfg(unix)]
fn machine() -> Option<String> {
    nix::unistd::gethostname()
        .ok()
        .map(|name| name.to_string_lossy().into_owned())
}

#[cfg(not(unix))]
fn account() -> Option<String> {
    std::env::var("USERNAME").ok()
}

#[cfg(not(unix))]
fn machine() -> Option<String> {
    std::env::var("COMPUTERNAME").ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn this_machine_has_a_name_and_an_account() {
        let machine = super::machine_name();
        assert!(machine.as_deref().is_some_and(|name| !name.is_empty()), "{machine:?}");
        let account = super::account_name();
        assert!(account.as_deref().is_some_and(|name| !name.is_empty()), "{account:?}");
    }
}
