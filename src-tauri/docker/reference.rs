//! Image references checked against Docker's grammar before any call, so a bad name is
//! reported as "which part is wrong" rather than as an engine error.

use std::sync::LazyLock;

use regex::Regex;

/// `[registry/]path:tag`, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    /// `None` for Docker Hub.
    pub registry: Option<String>,
    /// `namespace/repository` (Docker Hub's `library/` is not added).
    pub repository: String,
    pub tag: String,
}

impl ImageReference {
    /// The repository with its registry, as `docker push` names it.
    pub fn name(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.repository),
            None => self.repository.clone(),
        }
    }

    pub fn full(&self) -> String {
        format!("{}:{}", self.name(), self.tag)
    }
}

impl std::fmt::Display for ImageReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full())
    }
}

/// Splits a name into its registry (a first part with a `.` or `:`, or `localhost`, as
/// Docker reads it) and the rest: `ghcr.io/ann/app` → (`ghcr.io`, `ann/app`).
pub fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// Docker's tag grammar, `[\w][\w.-]{0,127}` with `\w` in ASCII, checked by hand: as a regex
/// the 128 bounded copies of the word class took 2.5 MB of heap for the window's life.
fn is_tag(tag: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    match tag.as_bytes() {
        [first, rest @ ..] => {
            word(*first) && rest.len() <= 127 && rest.iter().all(|&c| word(c) || c == b'.' || c == b'-')
        }
        [] => false,
    }
}

/// Parses `reference`; the error says which part breaks the grammar.
pub fn parse_reference(reference: &str) -> Result<ImageReference, String> {
    if reference.is_empty() {
        return Err("the image name is empty".to_owned());
    }
    if reference.len() > 255 {
        return Err("the image name is longer than 255 characters".to_owned());
    }
    let (name, tag) = match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, tag.to_owned()),
        _ => (reference, "latest".to_owned()),
    };
    if !is_tag(&tag) {
        return Err(format!(
            "the tag \"{tag}\" is not valid: use letters, digits, '_', '.' and '-', not starting with '.' or '-', at most 128 characters"
        ));
    }
    let (registry, path) = split_registry(name);
    let registry = registry.map(str::to_owned);
    let parts: Vec<&str> = path.split('/').collect();
    if let Some(registry) = &registry {
        static HOST: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"^[A-Za-z0-9.-]+(:[0-9]+)?$").ok());
        let host_ok = HOST.as_ref().is_some_and(|re| re.is_match(registry));
        if !host_ok {
            return Err(format!("the registry \"{registry}\" is not a valid host[:port]"));
        }
    }
    static COMPONENT: LazyLock<Option<Regex>> =
        LazyLock::new(|| Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").ok());
    let component = COMPONENT.as_ref().ok_or("the name grammar could not be compiled")?;
    for part in &parts {
        if !component.is_match(part) {
            let why = if part.chars().any(|c| c.is_ascii_uppercase()) {
                "it has capital letters (repository names are lowercase)"
            } else if part.is_empty() {
                "it is empty"
            } else {
                "use lowercase letters, digits and single '.', '_' or '-' between them"
            };
            return Err(format!("the repository part \"{part}\" is not valid: {why}"));
        }
    }
    Ok(ImageReference {
        registry,
        repository: parts.join("/"),
        tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_registry_is_told_from_a_namespace() {
        assert_eq!(split_registry("ghcr.io/ann/app"), (Some("ghcr.io"), "ann/app"));
        assert_eq!(split_registry("ann/app"), (None, "ann/app"));
        assert_eq!(split_registry("localhost:5000/app"), (Some("localhost:5000"), "app"));
        assert_eq!(split_registry("app"), (None, "app"));
    }

    #[test]
    fn good_references_split_into_their_parts() -> Result<(), String> {
        let hub = parse_reference("ann/lettings:3f2a1bc")?;
        assert_eq!(
            (hub.registry, hub.repository.as_str(), hub.tag.as_str()),
            (None, "ann/lettings", "3f2a1bc")
        );
        let local = parse_reference("127.0.0.1:5000/shop/web")?;
        assert_eq!(local.registry.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(local.tag, "latest");
        assert_eq!(local.full(), "127.0.0.1:5000/shop/web:latest");
        Ok(())
    }

    #[test]
    fn bad_references_name_the_wrong_part() {
        let cases = [
            ("Ann/lettings:1", "repository part \"Ann\""),
            ("ann/lettings:-bad", "tag \"-bad\""),
            ("ann//lettings", "repository part \"\""),
            ("ann/let tings", "repository part \"let tings\""),
            ("", "empty"),
        ];
        for (reference, expected) in cases {
            let error = parse_reference(reference).err().unwrap_or_default();
            assert!(error.contains(expected), "{reference}: {error}");
        }
    }

    #[test]
    fn a_tag_is_ascii_words_dots_and_dashes_up_to_128() {
        let longest = format!("v{}", "1".repeat(127));
        for good in ["1.0", "_build", "v2-rc.1", longest.as_str()] {
            assert!(parse_reference(&format!("app:{good}")).is_ok(), "{good}");
        }
        let too_long = format!("v{}", "1".repeat(128));
        for bad in ["", ".hidden", "-x", "caf\u{e9}", "a+b", too_long.as_str()] {
            let error = parse_reference(&format!("app:{bad}")).err().unwrap_or_default();
            assert!(error.contains(&format!("tag \"{bad}\"")), "{bad}: {error}");
        }
    }
}
