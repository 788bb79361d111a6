//! What the command line sends where: plain `http://` only to this machine
//! unless wbxprov.toml or the environment allows it explicitly.
#![cfg(feature = "cli")]

mod common;

use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An address of this machine other than loopback (the one its default route
/// leaves from), or `None` where there is none.
fn non_loopback_ip() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    // Connecting a UDP socket sends nothing; it only picks the route.
    socket.connect("198.51.100.7:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// Counts connections; answers each with a body that is not XML (so the
/// command ends at once, without retrying).
fn counting_server(ip: IpAddr) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let url = format!(
        "http://{}/WBXService/XMLService",
        listener.local_addr().unwrap()
    );
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    std::thread::spawn(move || {
        for mut socket in listener.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 65536];
            let _ = socket.read(&mut buf);
            let _ = socket.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope!",
            );
        }
    });
    (url, connections)
}

fn wbxprov(site_url: &str, env: &[(&str, &str)]) -> common::Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wbxprov"));
    cmd.args(["user", "get", "jdoe"])
        .current_dir(std::env::temp_dir())
        .env_remove("WBXPROV_CONFIG")
        .env_remove("WBXPROV_ACCESS_TOKEN")
        .env_remove("WBXPROV_ALLOW_INSECURE_HTTP")
        .env("WBXPROV_SITE_URL", site_url)
        .env("WBXPROV_ADMIN_ID", "admin")
        .env("WBXPROV_ADMIN_PASSWORD", "Adm1n-s3cret")
        .envs(env.iter().copied());
    common::run(cmd, b"")
}

fn config_file(text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("wbxprov-{}-insecure.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn plain_http_to_another_host_is_refused_unless_the_config_allows_it() {
    let Some(ip) = non_loopback_ip() else {
        let _ = writeln!(std::io::stderr(), "skipped: no address but loopback");
        return;
    };
    let (url, connections) = counting_server(ip);

    let refused = wbxprov(&url, &[]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("refusing plain http://") && refused.stderr.contains(&url),
        "{}",
        refused.stderr
    );
    assert_eq!(connections.load(Ordering::SeqCst), 0, "nothing was sent");

    let allowed = wbxprov(&url, &[("WBXPROV_ALLOW_INSECURE_HTTP", "1")]);
    assert!(!allowed.stderr.contains("refusing"), "{}", allowed.stderr);
    let after_env = connections.load(Ordering::SeqCst);
    assert!(after_env >= 1, "allowed by the environment, it was sent");

    let file = config_file("allowInsecureHttp = true\n");
    let allowed = wbxprov(&url, &[("WBXPROV_CONFIG", file.to_str().unwrap())]);
    assert!(!allowed.stderr.contains("refusing"), "{}", allowed.stderr);
    assert!(
        connections.load(Ordering::SeqCst) > after_env,
        "allowed by wbxprov.toml"
    );

    let file = config_file("allowInsecureHttp = false\n");
    let refused = wbxprov(&url, &[("WBXPROV_CONFIG", file.to_str().unwrap())]);
    assert!(refused.stderr.contains("refusing"), "{}", refused.stderr);
    let _ = std::fs::remove_file(file);
}
