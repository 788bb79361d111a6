//! The small CLI problems of issue 17 ("Smaller, each seen in the same trial"),
//! each pinned by the behaviour a new user saw.
#![cfg(feature = "cli")]

mod common;

use common::offline_cli;

/// The closing report counts the change step 3 shows refused before any call.
#[test]
fn demo_report_counts_the_refusal_of_step_3() {
    let run = offline_cli(&["demo"], &[], b"");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("nothing sent"), "{}", run.stdout);
    let report = run.stdout.lines().last().unwrap();
    assert!(
        report.contains("1 refused before any call"),
        "{report}\n{}",
        run.stdout
    );
}
