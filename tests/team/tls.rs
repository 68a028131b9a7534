//! The team's PostgreSQL over TLS with a certificate its own authority signed: trusted when
//! the URL names that authority, refused in a plain sentence about the certificate when not.

use super::*;

#[test]
fn tls_with_the_teams_authority_is_trusted_and_refused_without_it() -> TestResult {
    let team = Team::start("lettings", PgOptions { tls: true })?;
    let ann = team.member("ann", "ann-laptop")?;
    let url = team.pg.url_with_password(DATABASE);
    assert!(url.contains("sslmode=verify-full&sslrootcert="), "{url}");

    let released = ann.release(&[])?;
    assert_eq!(
        released.status.code(),
        Some(0),
        "{}{}",
        text(&released.stdout),
        text(&released.stderr)
    );
    let releases = ann.history(&[])?;
    assert_eq!(releases.len(), 1, "{releases:?}");
    // It went over TLS: the server took no other kind of connection (hostssl only).
    assert_eq!(team.sql("SELECT count(*) FROM releases")?, "1");

    // The same server, without the team's authority: the system's roots do not know it.
    let mut stranger = ann.clone();
    stranger.url = Some(url.replace(&format!("&sslrootcert={}", team.pg.ca_file().display()), ""));
    let refused = stranger.run(&["history"])?;
    let said = format!("{}{}", text(&refused.stdout), text(&refused.stderr));
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("certificate"), "a sentence about the certificate: {said}");
    for debug in ["InvalidCertificate", "UnknownIssuer", "Error {", "rustls"] {
        assert!(!said.contains(debug), "{debug:?}, a library's words, in: {said}");
    }
    assert!(
        !said.contains(team.pg.password()),
        "the password is never shown: {said}"
    );
    Ok(())
}
