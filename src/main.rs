#![forbid(unsafe_code)]

//! The `wbxprov` command: a thin layer over the library (see `wbxprov::cli`).

fn main() -> std::process::ExitCode {
    wbxprov::cli::main()
}
