//! What a project's command printed, read for what every reader of it needs: whether the
//! command ran at all. A program that is not there, or that refused its command line, says
//! nothing about the code: the tests', lint's and the other gates' readers all ask here first,
//! so none of them calls that "0 violations" or a failed check.

use regex::Regex;

/// The first group of `pattern` in each line that matches it, trimmed.
pub(super) fn captures(pattern: &str, lines: &[String]) -> Vec<String> {
    let Ok(pattern) = Regex::new(pattern) else {
        return Vec::new();
    };
    lines
        .iter()
        .filter_map(|line| {
            pattern
                .captures(line)
                .and_then(|capture| capture.get(1))
                .map(|m| m.as_str().trim().to_owned())
        })
        .collect()
}

/// The program a shell line runs: the first word after any `cd … &&`.
fn program(command: &str) -> String {
    let last = command.rsplit("&&").next().unwrap_or(command);
    last.split_whitespace().next().unwrap_or_default().to_owned()
}

/// Why a command could not run, when its output says so; `None` when it ran.
pub(super) fn could_not_run(command: &str, code: Option<i32>, stderr: &[String]) -> Option<String> {
    let all = stderr.join("\n");
    if code == Some(127) || all.contains(": not found") || all.contains("command not found") {
        let missing = captures(r"(?:^|: )([^\s:]+): (?:not found|command not found)", stderr)
            .into_iter()
            .next()
            .unwrap_or_else(|| program(command));
        return Some(format!("`{missing}` was not found in the project's environment."));
    }
    let usage = [
        "unrecognized arguments",
        "error: unexpected argument",
        "No such option",
        "error: unrecognized option",
        "invalid choice",
    ];
    if let Some(line) = stderr
        .iter()
        .find(|line| usage.iter().any(|marker| line.contains(marker)))
    {
        return Some(format!(
            "`{}` did not accept its command line: {}",
            program(command),
            line.trim()
        ));
    }
    None
}
