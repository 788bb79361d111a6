//! A site that answers 2 GB costs the client a bounded amount of memory: the
//! answer is read up to the decoder's limit and no further. Measured as the
//! peak resident set (VmHWM) of a `wbxprov` process, in its own process so
//! nothing else in the test binary counts.
#![cfg(all(feature = "cli", target_os = "linux"))]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ANSWER_BYTES: u64 = 2 << 30;
/// 100 MB, in the kB /proc reports.
const PEAK_LIMIT_KB: u64 = 100_000_000 / 1024;

/// Answers every request with `head`, then zeros until 2 GB are sent or the
/// client goes away.
fn zeros_server(head: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/WBXService/XMLService",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut request = [0u8; 65536];
                let _ = socket.read(&mut request);
                if socket.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let zeros = vec![0u8; 1 << 20];
                let mut sent = 0;
                while sent < ANSWER_BYTES && socket.write_all(&zeros).is_ok() {
                    sent += zeros.len() as u64;
                }
            });
        }
    });
    url
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `wbxprov user get x` against `url`; its peak RSS in kB (polled until it
/// exits, or it is killed as soon as the peak passes the limit) and its stderr.
fn peak_of_user_get(url: &str) -> (u64, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wbxprov"))
        .args(["user", "get", "x"])
        .current_dir(std::env::temp_dir())
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_ACCESS_TOKEN")
        .env("WBXPROV_SITE_URL", url)
        .env("WBXPROV_ADMIN_ID", "admin")
        .env("WBXPROV_ADMIN_PASSWORD", "Adm1n-s3cret")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut peak = 0;
    loop {
        // The peak only grows; a reading per millisecond misses at most the
        // last millisecond's growth.
        if let Some(kb) = vm_hwm_kb(child.id()) {
            peak = peak.max(kb);
        }
        let over = peak > PEAK_LIMIT_KB;
        let hung = started.elapsed() > Duration::from_secs(300);
        if over || hung {
            let _ = child.kill();
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (peak, stderr)
}

fn assert_bounded(head: &'static str) {
    let (peak_kb, stderr) = peak_of_user_get(&zeros_server(head));
    eprintln!("peak RSS {peak_kb} kB");
    assert!(
        peak_kb <= PEAK_LIMIT_KB,
        "peak RSS reached {peak_kb} kB for a 2 GB answer (limit {PEAK_LIMIT_KB} kB); stderr: {stderr}"
    );
    let limit = wbxprov::xml::Limits::default().max_bytes;
    assert!(
        stderr.contains(&format!("exceeds the limit of {limit} bytes")),
        "refused for its size: {stderr}"
    );
}

#[test]
fn a_2_gb_answer_without_a_length_is_cut_off_at_the_limit() {
    assert_bounded("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n");
}

#[test]
fn a_2_gb_answer_with_its_length_is_refused_before_reading() {
    assert_bounded(
        "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 2147483648\r\n\r\n",
    );
}
