//! `wbxprov decode` within bounds (issue 15 item 7): standard input and files
//! are read with a byte cap (the decoder's 64 MiB limit), and a large page is
//! decoded and printed within 3× its size. Peak memory is the child's VmHWM
//! (peak resident set), polled from /proc while it runs: Linux only.
#![cfg(all(feature = "cli", target_os = "linux"))]

#[path = "common/pages.rs"]
mod pages;

use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const MIB: u64 = 1 << 20;
const LIMIT: u64 = 64 * MIB;

fn wbxprov() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wbxprov"))
}

/// The child's peak resident set in bytes, as last seen.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

struct Ended {
    code: i32,
    stderr: String,
    /// The highest VmHWM seen, and how many times it was read.
    peak: u64,
    samples: u32,
}

/// Waits for `child`, polling its peak resident set meanwhile.
fn watch(mut child: Child) -> Ended {
    let pid = child.id();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).unwrap();
        s
    });
    let (mut peak, mut samples) = (0, 0);
    let status = loop {
        if let Some(hwm) = vm_hwm(pid) {
            peak = peak.max(hwm);
            samples += 1;
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    Ended {
        code: status.code().unwrap_or(-1),
        stderr: reader.join().unwrap(),
        peak,
        samples,
    }
}

#[test]
fn stdin_beyond_the_limit_is_refused_without_reading_it_all() {
    let mut child = wbxprov()
        .args(["decode", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // 256 MiB of whitespace; the child stops reading early, so writes may fail.
    let feeder = std::thread::spawn(move || {
        let chunk = vec![b' '; MIB as usize];
        let mut sent = 0u64;
        while sent < 4 * LIMIT && stdin.write_all(&chunk).is_ok() {
            sent += MIB;
        }
        sent
    });
    let ended = watch(child);
    let sent = feeder.join().unwrap();
    assert_eq!(ended.code, 1, "{}", ended.stderr);
    assert!(
        ended.stderr.contains("exceeds the limit of 67108864 bytes"),
        "{}",
        ended.stderr
    );
    assert!(ended.samples > 0, "the child was never seen running");
    assert!(
        ended.peak < LIMIT + 40 * MIB,
        "peak RSS {} MiB after {} MiB were offered",
        ended.peak / MIB,
        sent / MIB
    );
    assert!(sent < 4 * LIMIT, "the child stopped reading at the limit");
}

#[test]
fn a_file_beyond_the_limit_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("wbxprov-decode-limit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("huge.xml");
    // A sparse file: 1 GiB long, no disk used.
    std::fs::File::create(&path)
        .unwrap()
        .set_len(16 * LIMIT)
        .unwrap();
    let child = wbxprov()
        .arg("decode")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ended = watch(child);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(ended.code, 1, "{}", ended.stderr);
    assert!(
        ended.stderr.contains("exceeds the limit of 67108864 bytes"),
        "{}",
        ended.stderr
    );
    assert!(ended.peak < 40 * MIB, "peak RSS {} MiB", ended.peak / MIB);
}

#[test]
fn a_large_page_is_decoded_and_printed_within_three_times_its_size() {
    let page = pages::list_page(60_000);
    let size = page.len() as u64;
    let dir = std::env::temp_dir().join(format!("wbxprov-decode-page-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("page.xml");
    std::fs::write(&path, &page).unwrap();
    drop(page);
    for json in [false, true] {
        let mut cmd = wbxprov();
        cmd.arg("decode").arg(&path);
        if json {
            cmd.arg("--json");
        }
        // Printed lines are counted as they come, so the pipe never fills.
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let counter = std::thread::spawn(move || {
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).unwrap();
            let text = String::from_utf8(out).unwrap();
            (
                text.matches("user0059999").count(),
                text.matches("O'Brien").count(),
            )
        });
        let ended = watch(child);
        let (last_user, escaped) = counter.join().unwrap();
        assert_eq!(ended.code, 0, "{}", ended.stderr);
        assert_eq!(last_user, 1, "json={json}: the last user is printed");
        assert_eq!(escaped, 15_000, "json={json}: names come back unescaped");
        assert!(ended.samples > 0);
        assert!(
            ended.peak <= 3 * size,
            "json={json}: peak RSS {} MiB for a {} MiB page ({:.2}×)",
            ended.peak / MIB,
            size / MIB,
            ended.peak as f64 / size as f64
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
