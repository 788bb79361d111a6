//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The project's reference material (`../shared` beside the checkout, or
/// `$WBXPROV_SHARED_DIR`). CI always has it; a user's clone may not, and then the
/// tests that read it skip themselves, saying so.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("WBXPROV_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("spec").is_dir() {
        Some(dir)
    } else {
        // Straight to the stderr handle: libtest captures `eprintln!` of passing tests,
        // and a skip must be visible.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped {}: {} not found (set WBXPROV_SHARED_DIR to run it)",
            std::thread::current().name().unwrap_or("test"),
            dir.display()
        );
        None
    }
}

/// Reads a file below the shared directory, or `None` (the test then skips).
pub fn read_shared(relative: &str) -> Option<String> {
    let path = shared_dir()?.join(relative);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// Root of this repository.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
