//! `cargo run -p wbxprov-codegen [-- --check]`: regenerates `src/schema/generated.rs`
//! from `schema/`, or with `--check` only reports whether it is up to date.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let check = std::env::args().skip(1).any(|a| a == "--check");
    let generated = match wbxprov_codegen::generate(&root.join("schema")) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let target = root.join(wbxprov_codegen::GENERATED_PATH);
    let current = std::fs::read_to_string(&target).unwrap_or_default();
    if current == generated {
        println!("{} is up to date", wbxprov_codegen::GENERATED_PATH);
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!(
            "{} is stale: run `cargo run -p wbxprov-codegen`",
            wbxprov_codegen::GENERATED_PATH
        );
        return ExitCode::FAILURE;
    }
    if let Err(e) = std::fs::write(&target, generated) {
        eprintln!("error: writing {}: {e}", target.display());
        return ExitCode::FAILURE;
    }
    println!("wrote {}", wbxprov_codegen::GENERATED_PATH);
    ExitCode::SUCCESS
}
