//! The team's PostgreSQL over TLS with a certificate its own authority signed: trusted when
//! the URL names that authority, refused in a plain sentence about the certificate when not.

use super::*;

/// What a refusal must not show: a library's words, or the password.
/// The password never shows; the sentence and the hint are in a person's words (the raw
/// cause may follow in parentheses, as every error's detail does, for whoever runs the server).
fn plain(said: &str, password: &str) -> Result<(), String> {
    if said.contains(password) {
        return Err(format!("the password in: {said}"));
    }
    // Slipway's own log lines (a timestamp, a level) are for whoever reads the logs.
    for line in said
        .lines()
        .filter(|line| !line.contains(" WARN ") && !line.contains(" ERROR "))
    {
        let words = line.split(" (").next().unwrap_or(line);
        for technical in [
            "InvalidCertificate",
            "UnknownIssuer",
            "invalid peer certificate",
            "Error {",
            "rustls",
        ] {
            if words.contains(technical) {
                return Err(format!("{technical:?} outside the detail in: {said}"));
            }
        }
    }
    Ok(())
}

#[test]
fn tls_with_the_teams_authority_is_trusted_and_refused_without_it() -> TestResult {
    let team = Team::start("lettings", PgOptions { tls: true })?;
    // Connecting checks the server: it trusts the certificate the URL names.
    let ann = team.member("ann", "ann-laptop")?;
    let url = team.pg.url(DATABASE);
    assert!(url.contains("sslmode=verify-full&sslrootcert="), "{url}");

    let released = ann.release(&[])?;
    assert_succeeded(&released);
    let releases = ann.history(&[])?;
    assert_eq!(releases.len(), 1, "{releases:?}");
    // It went over TLS: the server takes no other kind of connection (hostssl only).
    assert_eq!(team.sql("SELECT count(*) FROM releases")?, "1");

    // Dan, without the team's authority: the system's roots do not know the server's.
    let without_authority = url.replace(&format!("&sslrootcert={}", team.pg.ca_file().display()), "");
    let dan = team.member_alone("dan", "dan-laptop")?;
    let refused = dan.connect(&without_authority, team.pg.password());
    let said = refused
        .err()
        .ok_or("connecting without the authority was refused")?
        .to_string();
    assert!(said.contains("certificate"), "a sentence about the certificate: {said}");
    plain(&said, team.pg.password())?;
    assert!(
        !std::fs::read_to_string(dan.data.join("settings.json"))
            .unwrap_or_default()
            .contains("127.0.0.1"),
        "a refused server is not kept in the settings"
    );

    // And a release through such an address is refused before anything runs, saying why.
    let mut stranger = dan.clone();
    stranger.url = Some(
        team.pg
            .url_with_password(DATABASE)
            .replace(&format!("&sslrootcert={}", team.pg.ca_file().display()), ""),
    );
    let refused = stranger.release(&[])?;
    let said = format!("{}{}", text(&refused.stdout), text(&refused.stderr));
    assert_eq!(refused.status.code(), Some(2), "{said}");
    assert!(said.contains("certificate"), "a sentence about the certificate: {said}");
    plain(&said, team.pg.password())?;
    assert_eq!(
        team.sql("SELECT count(*) FROM releases")?,
        "1",
        "nothing of Dan's reached the team"
    );
    Ok(())
}
