//! The README is runnable (issue 17): every example of `README.md` is run here,
//! in README order, against the simulator, so the README cannot drift from the
//! program. The examples are read from the README itself, never copied.
//!
//! How the README's fenced blocks are read (a small fence parser, below):
//! - ` ```rust `: doc-tested, through `#[cfg(doctest)] #[doc = include_str!("../README.md")]`
//!   in `src/lib.rs` (checked here).
//! - ` ```sh `: commands to type. Run by `bash -euo pipefail` in one temporary
//!   directory, in order, with the `wbxprov` cargo built first on `PATH`; exported
//!   variables carry over to the next block, as in one terminal. A `[…]` part of a
//!   `wbxprov` line is optional: the run leaves it out. `wbxprov sim serve` and
//!   `wbxprov scim serve` are started by the test in the background (`RUST_LOG=warn`)
//!   and stopped at the end of their block; a `# first line: X` comment after one is
//!   its exact first line, `# NAME: X (…)` another line it prints (up to the
//!   parenthesis). What the simulator cannot be (a real site's name, a fixed
//!   port, a live token) is replaced by [`SUBSTITUTIONS`]; commands too slow or
//!   not meant for a test are in [`NOT_RUN`], each with its reason.
//! - ` ```text `: synopses and layouts; not run.
//! - ` ```toml file=NAME ` / ` ```json file=NAME `: the file NAME the commands use,
//!   written into a directory when a block there names it, and exercised where it
//!   appears with its real parser and a real use ([`Run::exercise_file`]).
//!   ` append=NAME `: lines added to the file NAME the README shows (a fragment
//!   such as a `[controlHub]` or `[scim…]` table), exercised as NAME with them; in
//!   the Control Hub section, the profile that section's commands run with.
//! - Every `wbxprov` line of every block is parsed by the command's own clap
//!   definition (src/cli, included here by path), each optional part in and
//!   out, so a renamed flag fails here.
//!
//! Files the commands name that the README does not show (a source of people, a
//! saved GetSite …) are [`FIXTURES`]. A block of any other kind, a file block no
//! exercise knows, a `cargo` line not listed, or a stale list entry fails the test.
#![cfg(feature = "cli")]

mod common;

/// The binary's own command line, compiled in here: its clap definition parses
/// the README's lines in-process. The CLI is the binary's, not a library module
/// (issue 20); including its source keeps the shipped program free of a
/// parse-only mode that would exist for this test alone. Only `command()` is
/// used, so the rest is dead code here.
#[allow(dead_code, unused_imports)]
#[path = "../src/cli/mod.rs"]
mod cli;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// README text the test replaces before running, and why.
const SUBSTITUTIONS: &[(&str, &str, &str)] = &[
    (
        "cargo run --release -- ",
        "wbxprov ",
        "the same program; cargo test has built it already (in debug)",
    ),
    (
        "export WBXPROV_SITE_URL=example",
        "export WBXPROV_SITE_URL={SIM_URL}",
        "the README's site is a real one; the test's is the simulator",
    ),
    (
        "127.0.0.1:8080",
        "127.0.0.1:{FREE_PORT}",
        "a fixed port may be taken on the machine running the tests",
    ),
    (
        "127.0.0.1:8443",
        "127.0.0.1:{FREE_PORT}",
        "a fixed port may be taken on the machine running the tests",
    ),
    (
        "export WBXPROV_IDENTITY_TOKEN=…",
        "export WBXPROV_IDENTITY_TOKEN=wbxprov-sim-identity",
        "a live Webex token; the simulator's identity API takes its own",
    ),
];

/// README commands that are not run here, and why (each must be in the README).
const NOT_RUN: &[(&str, &str)] = &[
    (
        "cargo install --path .",
        "installs into ~/.cargo/bin; the test puts the binary cargo built on PATH instead",
    ),
    ("cargo test --workspace", "the suite this test is part of"),
    (
        "cargo run -p wbxprov-codegen",
        "rewrites src/schema/generated.rs; tests/codegen_fresh.rs checks it is fresh",
    ),
    (
        "cargo run -p wbxprov-codegen -- --check",
        "tests/codegen_fresh.rs runs the same check through the library",
    ),
    (
        "cargo bench --bench decode",
        "a release build and a minute of measurement",
    ),
    (
        "python3 -m venv target/peer-venv && target/peer-venv/bin/pip install lxml",
        "installs lxml from PyPI for the decode bench's Python peer",
    ),
    (
        "target/peer-venv/bin/python benches/peers/lxml_getuser.py",
        "the Python peer of the decode bench: a minute of measurement",
    ),
    (
        "cargo bench --bench import",
        "a release build and a 100,000-user site, twice",
    ),
    (
        "cargo bench --bench sim",
        "a release build and a minute of measurement",
    ),
    (
        "cargo bench --bench sync",
        "a release build and minutes of measurement",
    ),
    (
        "cargo bench --bench scim",
        "a release build and seconds of measurement at 50 ms a site call",
    ),
    (
        "RUSTC_BOOTSTRAP=1 cargo fuzz run decode_response -- -max_total_time=600",
        "ten minutes of fuzzing, with cargo-fuzz installed",
    ),
];

/// The README section whose commands run against a simulator in Control Hub mode.
const CONTROL_HUB_SECTION: &str = "Control-Hub-managed sites";

/// The simulator's admin password, typed at the README's `read -rs` prompt.
const SIM_PASSWORD: &str = "wbxprov-sim";

/// Placeholders of the synopses, and a value of the kind the command takes,
/// for parsing (a name of an operation where clap checks it).
const PLACEHOLDERS: &[(&str, &str)] = &[("OPERATION", "GetUser"), ("OP", "GetUser")];

/// Where a fixture comes from.
enum Fixture {
    Text(&'static str),
    Repo(&'static str),
}

/// Files the README's commands name without showing them. The people are the
/// same in each source, so that `--deprovision` with the README's mapping
/// keeps everyone the earlier commands created; every `department` is one the
/// mapping's lookup knows, `employee_id` an immutable key for a mapping to name.
const FIXTURES: &[(&str, Fixture)] = &[
    (
        "getsite.xml",
        Fixture::Repo("fixtures/responses/getsite.xml"),
    ),
    (
        "people.csv",
        Fixture::Text(
            "webExId,firstName,lastName,email,employee_id,username,first,last,status,department\n\
             jdoe,Jane,Doe,jane.doe@example.com,1001,jdoe,Jane,Doe,active,Sales\n\
             asmith,Anna,Smith,anna.smith@example.com,1002,asmith,Anna,Smith,active,Sales\n\
             bkim,Bo,Kim,bo.kim@example.com,1003,bkim,Bo,Kim,active,Sales\n",
        ),
    ),
    (
        "hr.jsonl",
        Fixture::Text(
            r#"{"employee_id": "1001", "username": "jdoe", "first": "Jane", "last": "Doe", "status": "active", "department": "Sales"}
{"employee_id": "1002", "username": " ASmith ", "first": "Anna", "last": "Smith", "status": "active", "department": "Support"}
{"employee_id": "1003", "username": "bkim", "first": "Bo", "last": "Kim", "status": "active", "department": "Sales"}
{"employee_id": "1004", "username": "cruiz", "first": "Carla", "last": "Ruiz", "status": "active", "department": "Support"}
{"employee_id": "1005", "username": "dlee", "first": "Dan", "last": "Lee", "status": "left", "department": "Sales"}
"#,
        ),
    ),
    ("changes.json", Fixture::Text(r#"{"title": "Engineer"}"#)),
    ("new-password.txt", Fixture::Text("Fresh-Start-2027!\n")),
    (
        "user.json",
        Fixture::Text(
            r#"{"webExId": "kim.lee@example.com", "email": "kim.lee@example.com", "firstName": "Kim", "lastName": "Lee", "privilegeHost": true}"#,
        ),
    ),
];

/// A user the "Managing users" commands expect on the site (they deactivate it).
const SITE_USER: &str = r#"{"webExId": "asmith", "firstName": "Anna", "lastName": "Smith", "email": "anna.smith@example.com"}"#;

#[test]
fn every_readme_example_runs_in_order_against_the_simulator() {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let blocks = parse_fences(&readme);
    let mut run = Run::new(&blocks);
    let mut used = Used::default();
    for (index, block) in blocks.iter().enumerate() {
        run.block(index, block, &mut used);
    }
    used.assert_all_used();
    // Kept when the test fails, to look at.
    let _ = std::fs::remove_dir_all(&run.root);
}

#[test]
fn every_wbxprov_line_of_the_readme_parses_with_each_optional_part() {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let mut parsed = 0;
    let mut placeholders_seen = Vec::new();
    for block in parse_fences(&readme) {
        if !matches!(block.lang.as_str(), "sh" | "text") {
            continue;
        }
        for command in logical_commands(&substituted(
            &block.text,
            "http://127.0.0.1:1/WBXService/XMLService",
        )) {
            let Some(words) = wbxprov_words(&command) else {
                continue;
            };
            for expansion in expansions(&words) {
                let args = with_placeholders(&expansion, &mut placeholders_seen);
                let parsed_args = cli::command()
                    .try_get_matches_from(std::iter::once("wbxprov".to_owned()).chain(args));
                if let Err(e) = parsed_args {
                    panic!(
                        "README line {}: `wbxprov {}` does not parse:\n{e}",
                        block.line,
                        expansion.join(" ")
                    );
                }
                parsed += 1;
            }
        }
    }
    assert!(parsed > 30, "only {parsed} command lines found");
    for (placeholder, _) in PLACEHOLDERS {
        assert!(
            placeholders_seen.contains(placeholder),
            "PLACEHOLDERS lists {placeholder}, which no README synopsis uses any more"
        );
    }
}

#[test]
fn the_readme_puts_wbxprov_on_the_path_before_its_first_bare_use() {
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let mut installed = false;
    for block in parse_fences(&readme) {
        for command in logical_commands(&block.text) {
            if command.trim() == "cargo install --path ." && block.lang == "sh" {
                installed = true;
            }
            if wbxprov_words(&command).is_some() {
                assert!(
                    installed,
                    "README line {}: `{command}` comes before `cargo install --path .`",
                    block.line
                );
                return;
            }
        }
    }
    panic!("no wbxprov command in the README");
}

#[test]
fn the_readme_rust_examples_are_doc_tests() {
    let lib = std::fs::read_to_string(common::repo_root().join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("#[cfg(doctest)]\n#[doc = include_str!(\"../README.md\")]"),
        "src/lib.rs no longer includes the README as its documentation: its rust blocks would not be tested"
    );
    let readme = std::fs::read_to_string(common::repo_root().join("README.md")).unwrap();
    let rust: Vec<_> = parse_fences(&readme)
        .into_iter()
        .filter(|b| b.lang.starts_with("rust"))
        .collect();
    assert!(!rust.is_empty());
    for block in rust {
        assert!(
            !block.lang.contains("ignore"),
            "README line {}: an ignored rust block is tested by nothing",
            block.line
        );
    }
}

// ---------------------------------------------------------------------------
// The fence parser.

/// One fenced block of the README.
#[derive(Debug, Clone)]
struct Block {
    /// The info string's first word (`sh`, `toml`, `rust,no_run` …).
    lang: String,
    /// `file=NAME` or `append=NAME`, when the info string has one.
    file: Option<FileRole>,
    /// The `##` section the block is in.
    section: String,
    /// The README line of the opening fence (1-based).
    line: usize,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum FileRole {
    /// The whole file of that name.
    Whole(String),
    /// Lines added to the file of that name.
    Append(String),
}

fn parse_fences(readme: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut section = String::new();
    let mut open: Option<Block> = None;
    for (number, line) in readme.lines().enumerate() {
        match (&mut open, line.strip_prefix("```")) {
            (Some(_), Some(rest)) if rest.trim().is_empty() => blocks.push(open.take().unwrap()),
            (Some(block), _) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            (None, Some(info)) => open = Some(opening(info, &section, number + 1)),
            (None, None) => {
                if let Some(heading) = line.strip_prefix("## ") {
                    section = heading.trim().to_owned();
                }
            }
        }
    }
    assert!(open.is_none(), "README ends inside a fenced block");
    blocks
}

fn opening(info: &str, section: &str, line: usize) -> Block {
    let mut words = info.split_whitespace();
    let lang = words.next().unwrap_or_default().to_owned();
    let file = words.find_map(|word| {
        if let Some(name) = word.strip_prefix("file=") {
            Some(FileRole::Whole(name.to_owned()))
        } else {
            word.strip_prefix("append=")
                .map(|name| FileRole::Append(name.to_owned()))
        }
    });
    Block {
        lang,
        file,
        section: section.to_owned(),
        line,
        text: String::new(),
    }
}

/// The block's commands: continuation lines joined; comment lines kept (they
/// hold expected output); blank lines dropped.
fn logical_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    let mut pending = String::new();
    for line in text.lines() {
        if let Some(head) = line.trim_end().strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        if !pending.trim().is_empty() {
            commands.push(pending.trim().to_owned());
        }
        pending.clear();
    }
    commands
}

/// A command without its trailing `# comment`.
fn without_comment(command: &str) -> &str {
    match command.find(" #") {
        Some(at) => command[..at].trim_end(),
        None => command.trim_end(),
    }
}

/// The words after `wbxprov`, when the command runs wbxprov: leading
/// `NAME=value` assignments skipped, the comment and redirections cut.
fn wbxprov_words(command: &str) -> Option<Vec<String>> {
    let mut words = without_comment(command)
        .split_whitespace()
        .skip_while(|w| is_assignment(w));
    if words.next()? != "wbxprov" {
        return None;
    }
    let words = words
        .take_while(|w| !matches!(*w, ">" | "<" | "|" | "&&" | "2>"))
        .map(str::to_owned)
        .collect();
    Some(words)
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
    })
}

/// One part of a synopsis: a word, or an optional group with its alternatives.
enum Part {
    Word(String),
    Optional(Vec<Vec<String>>),
}

fn parts(words: &[String]) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut group: Option<Vec<String>> = None;
    for word in words {
        let mut word = word.as_str();
        if let Some(rest) = word.strip_prefix('[') {
            group = Some(Vec::new());
            word = rest;
        }
        let closes = word.ends_with(']');
        let word = word.trim_end_matches(']');
        match &mut group {
            Some(g) => g.push(word.to_owned()),
            None => parts.push(Part::Word(word.to_owned())),
        }
        if closes {
            parts.push(Part::Optional(alternatives(group.take().unwrap())));
        }
    }
    assert!(group.is_none(), "an unclosed [ in {words:?}");
    parts
}

/// `--op create|update` → `[--op create]`, `[--op update]`.
fn alternatives(group: Vec<String>) -> Vec<Vec<String>> {
    let Some(at) = group.iter().position(|w| w.contains('|')) else {
        return vec![group];
    };
    group[at]
        .split('|')
        .map(|choice| {
            let mut one = group.clone();
            one[at] = choice.to_owned();
            one
        })
        .collect()
}

/// The command with no optional part, with all (first alternatives), and with
/// each alternative of each group alone.
fn expansions(words: &[String]) -> Vec<Vec<String>> {
    let parts = parts(words);
    let build = |choose: &dyn Fn(usize) -> Option<usize>| {
        let mut out = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            match part {
                Part::Word(w) => out.push(w.clone()),
                Part::Optional(alts) => {
                    if let Some(k) = choose(i) {
                        out.extend(alts[k].iter().cloned());
                    }
                }
            }
        }
        out
    };
    let mut all = vec![build(&|_| None), build(&|_| Some(0))];
    for (i, part) in parts.iter().enumerate() {
        if let Part::Optional(alts) = part {
            for k in 0..alts.len() {
                all.push(build(&|j| (j == i).then_some(k)));
            }
        }
    }
    all
}

fn with_placeholders(words: &[String], seen: &mut Vec<&'static str>) -> Vec<String> {
    words
        .iter()
        .map(|w| match PLACEHOLDERS.iter().find(|(p, _)| p == w) {
            Some((placeholder, value)) => {
                seen.push(placeholder);
                (*value).to_owned()
            }
            None => w.clone(),
        })
        .collect()
}

/// A runnable command with its optional parts left out.
fn minimal(command: &str) -> String {
    if wbxprov_words(command).is_none() {
        return command.to_owned();
    }
    let code = without_comment(command);
    let mut out = String::new();
    let mut depth = 0;
    for c in code.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---------------------------------------------------------------------------
// Running the blocks.

/// The block's text with [`SUBSTITUTIONS`] applied, `sim_url` the simulated
/// site's; each free port is new.
fn substituted(text: &str, sim_url: &str) -> String {
    let mut text = text.to_owned();
    for (from, to, _) in SUBSTITUTIONS {
        if !text.contains(from) {
            continue;
        }
        let to = to.replace("{SIM_URL}", sim_url);
        let to = if to.contains("{FREE_PORT}") {
            to.replace("{FREE_PORT}", &free_port().to_string())
        } else {
            to
        };
        text = text.replace(from, &to);
    }
    text
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Which list entries the README used: a stale entry fails the test.
#[derive(Default)]
struct Used {
    substitutions: Vec<&'static str>,
    not_run: Vec<&'static str>,
    fixtures: Vec<&'static str>,
}

impl Used {
    fn note_substitutions(&mut self, text: &str) {
        for (from, _, _) in SUBSTITUTIONS {
            if text.contains(from) {
                self.substitutions.push(from);
            }
        }
    }

    fn assert_all_used(&self) {
        for (from, _, why) in SUBSTITUTIONS {
            assert!(
                self.substitutions.contains(from),
                "SUBSTITUTIONS replaces {from:?} ({why}), which the README no longer holds"
            );
        }
        for (command, why) in NOT_RUN {
            assert!(
                self.not_run.contains(command),
                "NOT_RUN lists `{command}` ({why}), which the README no longer holds"
            );
        }
        for (name, _) in FIXTURES {
            assert!(
                self.fixtures.contains(name),
                "FIXTURES holds {name}, which no README command names any more"
            );
        }
    }
}

/// A `wbxprov … serve` in the background, stopped when dropped.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    first_line: String,
}

impl Server {
    /// Starts `command` (a shell command line running `wbxprov … serve`) in
    /// `dir` with `env`, and reads its first line.
    fn start(command: &str, dir: &Path, env: &BTreeMap<String, String>) -> Server {
        let mut child = Command::new("bash")
            .args(["-c", &format!("exec {command}")])
            .current_dir(dir)
            .env_clear()
            .envs(env)
            // Its per-request log lines are not the test's output.
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let (send, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let mut server = Server {
            child,
            lines,
            first_line: String::new(),
        };
        // Starting is quick, but the machine may be busy: a generous guard.
        server.first_line = server
            .lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("`{command}` printed nothing"));
        server
    }

    /// The next line it prints; `None` once it has stopped printing. A
    /// server prints its start-up lines at once; the wait only keeps a README
    /// that expects a line never printed from hanging the test.
    fn next_line(&mut self) -> Option<String> {
        self.lines.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// The URL of its first line, `listening on URL`.
    fn url(&self) -> &str {
        self.first_line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {}", self.first_line))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The whole run: the work directory, the simulated site the README's
/// commands address, and the environment the blocks exported so far.
struct Run {
    root: PathBuf,
    work: PathBuf,
    bin: PathBuf,
    site: Server,
    env: BTreeMap<String, String>,
    /// The file blocks, by name (their text as the README shows it).
    files: BTreeMap<String, String>,
    /// `append=NAME` blocks, by the section they are in.
    appends: Vec<Block>,
}

impl Run {
    fn new(blocks: &[Block]) -> Run {
        let root = std::env::temp_dir().join(format!("wbxprov-readme-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let (work, bin) = (root.join("work"), root.join("bin"));
        std::fs::create_dir_all(&work).unwrap();
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_wbxprov"), bin.join("wbxprov")).unwrap();
        // "From the repository root": the README's paths into fixtures/.
        std::os::unix::fs::symlink(common::repo_root().join("fixtures"), work.join("fixtures"))
            .unwrap();
        let mut env = base_env(&bin);
        // `scim serve` without --state keeps its state under XDG_STATE_HOME:
        // this run's own folder, never the user's or another test's.
        env.insert(
            "XDG_STATE_HOME".into(),
            root.join("state").display().to_string(),
        );
        let site = Server::start("wbxprov sim serve", &work, &env);
        let mut run = Run {
            root,
            work,
            bin,
            site,
            env,
            files: BTreeMap::new(),
            appends: Vec::new(),
        };
        run.collect_files(blocks);
        run.create_site_user();
        run
    }

    fn collect_files(&mut self, blocks: &[Block]) {
        for block in blocks {
            match &block.file {
                Some(FileRole::Whole(name)) => {
                    let previous = self.files.insert(name.clone(), block.text.clone());
                    assert!(previous.is_none(), "two README blocks are file {name}");
                }
                Some(FileRole::Append(_)) => self.appends.push(block.clone()),
                None => {}
            }
        }
    }

    /// The user the README's "Managing users" commands deactivate besides jdoe.
    fn create_site_user(&self) {
        let dir = self.root.join("setup");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("asmith.json"), SITE_USER).unwrap();
        let out = self.wbxprov(
            &dir,
            &["user", "create", "--user", "asmith.json"],
            &self.site_env(),
        );
        assert_success("creating asmith on the simulator", &out);
    }

    /// The environment that addresses the test's simulated site.
    fn site_env(&self) -> BTreeMap<String, String> {
        let mut env = self.env.clone();
        env.insert("WBXPROV_SITE_URL".into(), self.site.url().to_owned());
        env.insert("WBXPROV_ADMIN_ID".into(), "admin".into());
        env.insert("WBXPROV_ADMIN_PASSWORD".into(), SIM_PASSWORD.into());
        env
    }

    fn wbxprov(&self, dir: &Path, args: &[&str], env: &BTreeMap<String, String>) -> Output {
        Command::new(self.bin.join("wbxprov"))
            .args(args)
            .current_dir(dir)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn block(&mut self, index: usize, block: &Block, used: &mut Used) {
        match (block.lang.as_str(), &block.file) {
            ("sh", None) if block.section == CONTROL_HUB_SECTION => {
                self.control_hub_block(block, used)
            }
            ("sh", None) => {
                let work = self.work.clone();
                let mut env = self.env.clone();
                self.run_commands(block, &work, &mut env, used);
                self.env = env;
            }
            ("text", None) => {}
            (lang, None) if lang.starts_with("rust") => {}
            ("toml" | "json", Some(FileRole::Whole(name))) => {
                self.exercise_file(name, self.file(name), index)
            }
            // The Control Hub profile's lines are used by that section's commands.
            ("toml", Some(FileRole::Append(name))) if block.section == CONTROL_HUB_SECTION => {
                assert_eq!(name, "site.toml", "README line {}", block.line)
            }
            // Lines added to a file elsewhere: the file's exercise, with them.
            ("toml", Some(FileRole::Append(name))) => {
                let content = format!("{}\n{}", self.file(name), block.text);
                self.exercise_file(name, &content, index)
            }
            _ => panic!(
                "README line {}: a ```{} block this test does not know how to run \
                 (see the conventions at the top of tests/readme.rs)",
                block.line, block.lang
            ),
        }
    }

    /// Runs one `sh` block in `dir`: shell commands through bash, servers
    /// in the background, stopped at the end of the block.
    fn run_commands(
        &self,
        block: &Block,
        dir: &Path,
        env: &mut BTreeMap<String, String>,
        used: &mut Used,
    ) {
        used.note_substitutions(&block.text);
        let text = substituted(&block.text, self.site.url());
        self.provide_files(&text, dir, used);
        let mut servers: Vec<Server> = Vec::new();
        let mut script = String::new();
        for command in logical_commands(&text) {
            if not_run(&command, used) {
                continue;
            }
            assert!(
                !command.starts_with("cargo "),
                "README line {}: `{command}` is neither run by this test nor listed in NOT_RUN",
                block.line
            );
            if let Some(check) = command.strip_prefix("# ") {
                if let Some(server) = servers.last_mut().filter(|_| script.is_empty()) {
                    check_server_output(server, check, block.line);
                }
                continue;
            }
            let runnable = minimal(&command);
            if is_server(&command) {
                run_script(&script, dir, env, block.line);
                script.clear();
                let server = Server::start(&runnable, dir, env);
                check_server_answers(&server, env, block.line);
                servers.push(server);
            } else {
                script.push_str(&runnable);
                script.push('\n');
            }
        }
        run_script(&script, dir, env, block.line);
    }

    /// Writes into `dir` each file block and fixture the text names, unless
    /// an earlier command made it already.
    fn provide_files(&self, text: &str, dir: &Path, used: &mut Used) {
        let words: Vec<&str> = text
            .split(|c: char| c.is_whitespace() || "[]<>\"'=".contains(c))
            .collect();
        let named = |name: &str| words.contains(&name);
        for (name, content) in &self.files {
            if named(name) && !dir.join(name).exists() {
                std::fs::write(dir.join(name), content).unwrap();
            }
        }
        for (name, fixture) in FIXTURES {
            if !named(name) {
                continue;
            }
            used.fixtures.push(name);
            if !dir.join(name).exists() {
                std::fs::write(dir.join(name), fixture_bytes(fixture)).unwrap();
            }
        }
    }

    /// The Control Hub section's commands, against a simulator in Control Hub
    /// mode started from the README's site profile with the section's
    /// `[controlHub]` lines (a real organisation needs a live token). What
    /// they export stays in the section.
    fn control_hub_block(&mut self, block: &Block, used: &mut Used) {
        let dir = self.root.join("control-hub");
        std::fs::create_dir_all(&dir).unwrap();
        let addition = self
            .appends
            .iter()
            .find(|a| a.section == block.section)
            .expect("the Control Hub section shows its [controlHub] lines");
        let profile = format!("{}\n{}", self.file("site.toml"), addition.text);
        std::fs::write(dir.join("site.toml"), &profile).unwrap();
        self.provide_files(&profile, &dir, used);
        let mut site = Server::start("wbxprov sim serve --site site.toml", &dir, &self.env);
        let identity = server_line(&mut site, "identity API: ");
        let identity_url = identity["identity API: ".len()..]
            .split_whitespace()
            .next()
            .unwrap();
        let mut env = self.env.clone();
        env.insert("WBXPROV_SITE_URL".into(), site.url().to_owned());
        env.insert("WBXPROV_IDENTITY_URL".into(), identity_url.to_owned());
        self.run_commands(block, &dir, &mut env, used);
    }

    fn file(&self, name: &str) -> &str {
        self.files
            .get(name)
            .unwrap_or_else(|| panic!("the README shows no file {name}"))
    }

    /// Exercises a file the README shows, where it shows it, with its real
    /// parser and a real use.
    fn exercise_file(&self, name: &str, content: &str, index: usize) {
        let dir = self.root.join(format!("exercise-{index}-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), content).unwrap();
        match name {
            "jdoe.json" => self.exercise_user(&dir),
            "site.toml" => self.exercise_profile(&dir),
            "wbxprov.toml" => self.exercise_config(&dir),
            "map.toml" => self.exercise_mapping(&dir),
            _ => panic!("no exercise for the README's file {name}: add one to tests/readme.rs"),
        }
    }
}

impl Run {
    /// `jdoe.json`: a request rendered from it, and a create against a site
    /// made from the README's profile.
    fn exercise_user(&self, dir: &Path) {
        let out = self.wbxprov(
            dir,
            &[
                "render",
                "CreateUser",
                "--user",
                "jdoe.json",
                "--site-name",
                "example",
                "--admin",
                "admin",
            ],
            &self.env,
        );
        assert_success("render of the README's jdoe.json", &out);
        let site = self.profile_site(dir);
        let out = self.wbxprov(dir, &["user", "create", "--user", "jdoe.json"], &site.1);
        assert_success("create of the README's jdoe.json", &out);
    }

    /// `site.toml`: loaded by `SiteProfile::load`, and a simulated site made
    /// from it answers.
    fn exercise_profile(&self, dir: &Path) {
        let (_site, env) = self.profile_site(dir);
        let out = self.wbxprov(dir, &["site", "inspect", "site.toml"], &env);
        assert_success("site inspect of the README's site.toml", &out);
        let out = self.wbxprov(dir, &["user", "list"], &env);
        assert_success("a site simulated from the README's site.toml", &out);
    }

    /// A simulator serving the README's `site.toml` (with the GetSite it
    /// names) in `dir`, and the environment that addresses it.
    fn profile_site(&self, dir: &Path) -> (Server, BTreeMap<String, String>) {
        if !dir.join("site.toml").exists() {
            std::fs::write(dir.join("site.toml"), self.file("site.toml")).unwrap();
        }
        let profile = std::fs::read_to_string(dir.join("site.toml")).unwrap();
        self.provide_files(&profile, dir, &mut Used::default());
        wbxprov::site::SiteProfile::load(&dir.join("site.toml"))
            .unwrap_or_else(|e| panic!("the README's site.toml: {e}"));
        let site = Server::start("wbxprov sim serve --site site.toml", dir, &self.env);
        let mut env = self.site_env();
        env.insert("WBXPROV_SITE_URL".into(), site.url().to_owned());
        (site, env)
    }

    /// `wbxprov.toml`: read by a command run beside it (its variables
    /// override the file's site and credential, as the README says).
    fn exercise_config(&self, dir: &Path) {
        let out = self.wbxprov(dir, &["user", "list"], &self.site_env());
        assert_success("user list beside the README's wbxprov.toml", &out);
    }

    /// `map.toml`: a dry run and a sync of a source with the columns it
    /// names, on a fresh site: every person in scope created, none invalid.
    fn exercise_mapping(&self, dir: &Path) {
        let source = FIXTURES.iter().find(|(n, _)| *n == "hr.jsonl").unwrap();
        let source = fixture_bytes(&source.1);
        std::fs::write(dir.join("hr.jsonl"), &source).unwrap();
        let in_scope = String::from_utf8(source)
            .unwrap()
            .lines()
            .filter(|l| l.contains(r#""status": "active""#))
            .count();
        let site = Server::start("wbxprov sim serve", dir, &self.env);
        let mut env = self.site_env();
        env.insert("WBXPROV_SITE_URL".into(), site.url().to_owned());
        let sync = ["sync", "--source", "hr.jsonl", "--map", "map.toml"];
        let out = self.wbxprov(dir, &[&sync[..], &["--dry-run"]].concat(), &env);
        assert_success("dry run with the README's map.toml", &out);
        let out = self.wbxprov(
            dir,
            &[&sync[..], &["--report", "report.json"]].concat(),
            &env,
        );
        assert_success("sync with the README's map.toml", &out);
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        let summary = &report["summary"];
        assert_eq!(summary["created"], in_scope, "{report}");
        assert_eq!(summary["invalid"], 0, "{report}");
        assert_eq!(summary["failed"], 0, "{report}");
        // Each attribute the mapping names reached each person (a field the
        // source lacks would leave it out).
        let named = mapping_attributes(&std::fs::read_to_string(dir.join("map.toml")).unwrap());
        assert!(!named.is_empty());
        for user in report["users"].as_array().unwrap() {
            for name in &named {
                assert!(user["attributes"].get(name).is_some(), "{name}: {user}");
            }
        }
    }
}

/// The attribute names of a mapping's `[attributes]` table.
fn mapping_attributes(mapping: &str) -> Vec<String> {
    mapping
        .lines()
        .skip_while(|l| l.trim() != "[attributes]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(name, _)| name.trim().to_owned())
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .collect()
}

fn fixture_bytes(fixture: &Fixture) -> Vec<u8> {
    match fixture {
        Fixture::Text(text) => text.as_bytes().to_vec(),
        Fixture::Repo(path) => std::fs::read(common::repo_root().join(path)).unwrap(),
    }
}

/// Whether `command` is in [`NOT_RUN`] (noted as used).
fn not_run(command: &str, used: &mut Used) -> bool {
    let listed = NOT_RUN
        .iter()
        .find(|(listed, _)| without_comment(command) == *listed);
    if let Some((listed, _)) = listed {
        used.not_run.push(listed);
    }
    listed.is_some()
}

fn is_server(command: &str) -> bool {
    wbxprov_words(command)
        .is_some_and(|w| w.len() >= 2 && matches!(w[0].as_str(), "sim" | "scim") && w[1] == "serve")
}

/// The environment every command starts from: the test's, without the
/// variables wbxprov reads (the README's commands set what they need), and
/// the binary under test first on PATH.
fn base_env(bin: &Path) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(name, _)| !name.starts_with("WBXPROV_") && name != "RUST_LOG")
        .collect();
    let path = env.get("PATH").cloned().unwrap_or_default();
    env.insert("PATH".into(), format!("{}:{path}", bin.display()));
    env
}

/// Runs `script` with `bash -euo pipefail` in `dir`, the simulator's password
/// on standard input (the README's `read -rs`), and takes the variables it
/// leaves exported into `env`.
fn run_script(script: &str, dir: &Path, env: &mut BTreeMap<String, String>, line: usize) {
    if script.trim().is_empty() {
        return;
    }
    let dump = dir.join(".readme-env");
    let full = format!("{script}\nenv -0 > '{}'\n", dump.display());
    let mut child = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &full])
        .current_dir(dir)
        .env_clear()
        .envs(&*env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let _ = writeln!(stdin, "{SIM_PASSWORD}");
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_success(&format!("README block at line {line}:\n{script}"), &out);
    let dumped = std::fs::read(&dump).unwrap();
    std::fs::remove_file(&dump).unwrap();
    *env = String::from_utf8_lossy(&dumped)
        .split('\0')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| !matches!(*name, "_" | "PWD" | "OLDPWD" | "SHLVL"))
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
}

fn assert_success(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what}\nfailed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `first line: X` is the server's first line; `NAME: X (…)` a later line
/// that starts with `NAME: X`. Other comments are prose.
fn check_server_output(server: &mut Server, comment: &str, line: usize) {
    if let Some(expected) = comment.strip_prefix("first line: ") {
        assert_eq!(server.first_line, expected, "README line {line}");
        return;
    }
    let Some((label, text)) = comment.split_once(": ") else {
        return;
    };
    if label.contains(' ') {
        return;
    }
    let expected = format!("{label}: {}", text.split(" (").next().unwrap());
    server_line(server, &expected);
}

/// Reads the server's lines until one starts with `prefix`; that line.
fn server_line(server: &mut Server, prefix: &str) -> String {
    let mut seen = vec![server.first_line.clone()];
    while let Some(next) = server.next_line() {
        if next.starts_with(prefix) {
            return next;
        }
        seen.push(next);
    }
    panic!("no line starting {prefix:?} in {seen:?}");
}

/// A SCIM server answers its discovery document to the README's token.
fn check_server_answers(server: &Server, env: &BTreeMap<String, String>, line: usize) {
    let url = server.url();
    if !url.ends_with("/scim/v2") {
        return;
    }
    let token = env
        .get("WBXPROV_SCIM_TOKEN")
        .expect("the README exports WBXPROV_SCIM_TOKEN before scim serve");
    let authority = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(authority).unwrap();
    write!(
        stream,
        "GET /scim/v2/ServiceProviderConfig HTTP/1.1\r\nHost: {authority}\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "README line {line}: {url}: {answer}"
    );
}

// ---------------------------------------------------------------------------
// The parser's own behaviour, on made-up README text.

fn words(line: &str) -> Vec<String> {
    wbxprov_words(line).unwrap()
}

#[test]
fn a_synopsis_expands_to_each_optional_part_and_alternative() {
    let all = expansions(&words(
        "wbxprov validate --site s.toml [--op create|update] [--json]   # note",
    ));
    let all: Vec<String> = all.iter().map(|w| w.join(" ")).collect();
    for expected in [
        "validate --site s.toml",
        "validate --site s.toml --op create --json",
        "validate --site s.toml --op create",
        "validate --site s.toml --op update",
        "validate --site s.toml --json",
    ] {
        assert!(all.contains(&expected.to_owned()), "{expected}: {all:?}");
    }
}

#[test]
fn a_runnable_line_leaves_its_optional_parts_and_comment_out() {
    let commands = logical_commands(
        "wbxprov sim serve --addr 127.0.0.1:1 [--site s.toml] \\\n    [--seed 7]\n# first line: x\n",
    );
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert_eq!(
        minimal(&commands[0]),
        "wbxprov sim serve --addr 127.0.0.1:1"
    );
    assert!(is_server(&commands[0]));
    assert_eq!(
        minimal("echo [x] # y"),
        "echo [x] # y",
        "only wbxprov lines"
    );
    assert_eq!(
        words("A=1 B=2 wbxprov user list > out.txt"),
        ["user", "list"]
    );
    assert_eq!(wbxprov_words("cargo run -- demo"), None);
}

#[test]
fn fences_carry_their_language_file_and_section() {
    let blocks = parse_fences(
        "## One\n```toml file=a.toml\nx = 1\n```\n## Two\n```toml append=a.toml\n[y]\n```\n```sh\nls\n```\n",
    );
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0].file, Some(FileRole::Whole("a.toml".into())));
    assert_eq!((blocks[0].section.as_str(), blocks[0].line), ("One", 2));
    assert_eq!(blocks[0].text, "x = 1\n");
    assert_eq!(blocks[1].file, Some(FileRole::Append("a.toml".into())));
    assert_eq!(
        (blocks[2].lang.as_str(), blocks[2].section.as_str()),
        ("sh", "Two")
    );
}
