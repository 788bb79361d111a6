#![forbid(unsafe_code)]

//! The `wbxprov` command: a thin layer over the library. The command line's
//! modules (src/cli) belong to this binary alone, so a platform that embeds the
//! library gets no `wbxprov::cli` (issue 20).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
