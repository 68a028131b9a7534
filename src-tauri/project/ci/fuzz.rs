//! Property tests of the CI's shell reader: any script is read without a panic, and words
//! quoted with `quote` and joined with `join` read back as the same words.

use proptest::prelude::*;

use super::shell::{commands, join};

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_script_is_read_without_a_panic(script in "\\PC{0,300}") {
        let _ = commands(&script);
    }

    #[test]
    fn quoted_words_read_back_as_the_same_words(words in prop::collection::vec("[ -~]{1,12}", 1..6)) {
        let read = commands(&format!("pytest {}", join(&words)));
        prop_assert_eq!(read.len(), 1, "{:?}", read);
        prop_assert_eq!(&read[0].words[1..], &words[..]);
    }
}

/// What the property found: a quoted `<` or `>x` was taken for a redirection and lost.
#[test]
fn a_quoted_angle_bracket_is_an_argument_and_a_bare_one_a_redirection() {
    let read = commands("pytest -k '>x' \"<y\" > report.txt");
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].words, ["pytest", "-k", ">x", "<y"]);
    assert_eq!(read[0].output_to, ["> report.txt"]);
}
