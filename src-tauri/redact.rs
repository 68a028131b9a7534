//! Replaces secrets with `[redacted]` in any text. On the ground floor: errors, logs, the
//! ledger and the secrets store all use it, and it uses none of them.
//!
//! Two nets: secrets registered by value (and their derived forms, such as the base64 of
//! `user:token` that Docker puts in `auth` fields and `X-Registry-Auth` headers), and shapes
//! that are secret whatever their value (`Authorization: Bearer …`, `key=` in a deploy hook
//! URL, a password in a URL's user info, common `token`/`password` fields). The shapes catch
//! secrets the store never saw, such as a token typed into a failing command.

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use aho_corasick::AhoCorasick;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use regex::{Regex, RegexSet};

pub const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not registered by value: replacing every "abc" in a log
/// would destroy the log and protect nothing.
const MIN_SECRET_LEN: usize = 6;

/// A set of known secrets plus the secret-shaped patterns.
pub struct Redactor {
    known: RwLock<Known>,
    patterns: Vec<(Regex, &'static str)>,
    /// The patterns as one automaton: a clean line (nearly every line of a log) is passed in
    /// one scan instead of one per pattern. A release's output goes through here twice a line.
    any_pattern: Option<RegexSet>,
}

/// The registered secrets and one automaton that finds any of them in one scan.
#[derive(Default)]
struct Known {
    forms: Vec<String>,
    finder: Option<AhoCorasick>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self::new()
    }
}

impl Redactor {
    pub fn new() -> Self {
        // The patterns are literals checked by the unit tests; a failure to compile one is a
        // programming error caught there, so it is skipped rather than crashing a user's app.
        let patterns = [
            (
                r"(?i)(authorization:\s*(?:bearer|basic|token)\s+)[^\s,;]+",
                "${1}[redacted]",
            ),
            (r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}", "${1}[redacted]"),
            (
                r"(?i)([?&](?:key|token|access_token|auth|password|secret|api_key)=)[^&\s#]+",
                "${1}[redacted]",
            ),
            (r"(?i)(circle-token:\s*)[^\s,;]+", "${1}[redacted]"),
            (r"(?i)(x-registry-auth:\s*)[^\s,;]+", "${1}[redacted]"),
            (
                r#"(?i)("(?:password|secret|token|auth|identitytoken|registrytoken|access_token|api_key|apikey)"\s*:\s*")[^"]+"#,
                "${1}[redacted]",
            ),
            (r"([a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+(@)", "${1}[redacted]${2}"),
        ];
        let patterns: Vec<(Regex, &'static str)> = patterns
            .into_iter()
            .filter_map(|(pattern, replacement)| Regex::new(pattern).ok().map(|regex| (regex, replacement)))
            .collect();
        let any_pattern = RegexSet::new(patterns.iter().map(|(regex, _)| regex.as_str())).ok();
        Self {
            known: RwLock::new(Known::default()),
            patterns,
            any_pattern,
        }
    }

    /// Remembers a secret and its derived forms. `user` is the account name that goes with
    /// it, when there is one, for the `user:secret` forms.
    pub fn register(&self, secret: &str, user: Option<&str>) {
        if secret.len() < MIN_SECRET_LEN {
            return;
        }
        let mut forms = vec![secret.to_owned()];
        let mut encodable = vec![secret.to_owned()];
        if let Some(user) = user {
            encodable.push(format!("{user}:{secret}"));
        }
        for plain in &encodable {
            for engine in [&STANDARD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                let encoded = engine.encode(plain);
                // A trailing `=` pad may be cut off in URLs; the body alone identifies it.
                forms.push(encoded.trim_end_matches('=').to_owned());
            }
        }
        let mut known = match self.known.write() {
            Ok(known) => known,
            Err(poisoned) => poisoned.into_inner(),
        };
        for form in forms {
            if form.len() >= MIN_SECRET_LEN && !known.forms.contains(&form) {
                known.forms.push(form);
            }
        }
        // Longest first, so a secret inside a longer derived form does not leave the rest.
        known.forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
        // Built only here: secrets are registered a few times a session, and text is redacted
        // thousands of times a second.
        known.finder = AhoCorasick::new(&known.forms).ok();
    }

    /// The text with every known secret and secret-shaped value replaced.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        {
            let known = match self.known.read() {
                Ok(known) => known,
                Err(poisoned) => poisoned.into_inner(),
            };
            match &known.finder {
                Some(finder) => {
                    if finder.is_match(text) {
                        out = Cow::Owned(cover(text, finder));
                    }
                }
                // The automaton could not be built (never seen): the forms one by one.
                None => {
                    for secret in &known.forms {
                        if out.contains(secret.as_str()) {
                            out = Cow::Owned(out.replace(secret.as_str(), REDACTED));
                        }
                    }
                }
            }
        }
        if self.any_pattern.as_ref().is_some_and(|set| !set.is_match(&out)) {
            return out;
        }
        for (regex, replacement) in &self.patterns {
            if regex.is_match(&out) {
                let replaced = regex.replace_all(&out, *replacement).into_owned();
                out = Cow::Owned(replaced);
            }
        }
        out
    }
}

/// `text` with every stretch any secret covers replaced, overlapping ones as one: two secrets
/// that share characters leave no piece of either.
fn cover(text: &str, finder: &AhoCorasick) -> String {
    let mut spans: Vec<(usize, usize)> = finder
        .find_overlapping_iter(text)
        .map(|found| (found.start(), found.end()))
        .collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut open: Option<(usize, usize)> = None;
    for (start, end) in spans {
        match &mut open {
            Some((_, open_end)) if start <= *open_end => *open_end = (*open_end).max(end),
            _ => {
                if let Some((open_start, open_end)) = open.replace((start, end)) {
                    out.push_str(&text[done..open_start]);
                    out.push_str(REDACTED);
                    done = open_end;
                }
            }
        }
    }
    if let Some((open_start, open_end)) = open {
        out.push_str(&text[done..open_start]);
        out.push_str(REDACTED);
        done = open_end;
    }
    out.push_str(&text[done..]);
    out
}

static GLOBAL: LazyLock<Redactor> = LazyLock::new(Redactor::new);

/// Redacts with the process-wide redactor that every sink shares.
pub fn redact(text: &str) -> Cow<'_, str> {
    GLOBAL.redact(text)
}

/// Registers a secret with the process-wide redactor.
pub fn register_secret(secret: &str, user: Option<&str>) {
    GLOBAL.register(secret, user);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        assert_eq!(Redactor::new().patterns.len(), 7);
    }

    #[test]
    fn known_secrets_and_their_derived_forms_are_replaced() {
        let redactor = Redactor::new();
        redactor.register("tok-MARKER-123456", Some("alice"));
        let basic = STANDARD.encode("alice:tok-MARKER-123456");
        let text = format!("token tok-MARKER-123456, auth {basic}, done");
        let out = redactor.redact(&text);
        assert!(!out.contains("MARKER"), "{out}");
        assert!(!out.contains(basic.trim_end_matches('=')), "{out}");
        assert!(out.contains("done"));
    }

    #[test]
    fn secrets_that_overlap_leave_no_piece_of_either() {
        let redactor = Redactor::new();
        redactor.register("abcdef123456", None);
        redactor.register("xyzabc", None);
        let out = redactor.redact("before xyzabcdef123456 after, and abcdef123456 and xyzabc alone");
        assert_eq!(out, "before [redacted] after, and [redacted] and [redacted] alone");
    }

    #[test]
    fn secret_shapes_are_replaced_without_being_registered() {
        let redactor = Redactor::new();
        let cases = [
            ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
            ("curl -H 'Circle-Token: cc1234567'", "cc1234567"),
            (
                "https://api.render.com/deploy/srv-x?key=hookkey99&imgURL=x",
                "hookkey99",
            ),
            ("https://bob:hunter22@registry.test/v2/", "hunter22"),
            (r#"{"username":"bob","password":"pw-in-json"}"#, "pw-in-json"),
            ("X-Registry-Auth: eyJ1c2VybmFtZSI6ImJvYiJ9", "eyJ1c2VybmFtZSI6ImJvYiJ9"),
        ];
        for (text, secret) in cases {
            let out = redactor.redact(text);
            assert!(!out.contains(secret), "{text} -> {out}");
            assert!(out.contains(REDACTED), "{text} -> {out}");
        }
    }

    #[test]
    fn ordinary_text_is_untouched_and_borrowed() {
        let redactor = Redactor::new();
        redactor.register("abc", None); // too short to register
        let text = "Step 3/7 : RUN pip install -r requirements.txt (abc)";
        assert!(matches!(redactor.redact(text), Cow::Borrowed(t) if t == text));
    }
}
