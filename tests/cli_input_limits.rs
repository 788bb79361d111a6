//! Every file and stream the command line reads is bounded (issue 15 item 7):
//! a user file, a configuration or a password larger than any real one is
//! refused with the limit named, not read whole into memory.
#![cfg(feature = "cli")]

mod common;

fn wbxprov(args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> common::Run {
    common::offline_cli(args, env, stdin)
}

/// A valid document followed by `padding` bytes of whitespace: only its size is wrong.
fn padded(document: &str, padding: usize) -> Vec<u8> {
    let mut bytes = document.as_bytes().to_vec();
    bytes.resize(bytes.len() + padding, b' ');
    bytes
}

#[test]
fn a_user_file_beyond_the_limit_is_refused() {
    let env = [("WBXPROV_SESSION_TICKET", "ticket")];
    let args = [
        "render",
        "GetUser",
        "--user",
        "-",
        "--site-name",
        "example",
        "--admin",
        "a",
    ];
    let small = wbxprov(&args, &env, &padded(r#"{"webExId": "jdoe"}"#, 1000));
    assert_eq!(small.code, 0, "{}", small.stderr);

    let large = wbxprov(&args, &env, &padded(r#"{"webExId": "jdoe"}"#, 2 << 20));
    assert_eq!(large.code, 1, "{}", large.stdout);
    assert!(
        large.stderr.contains("limit of 1048576 bytes"),
        "{}",
        large.stderr
    );
}

#[test]
fn a_configuration_beyond_the_limit_is_refused() {
    let dir = std::env::temp_dir().join(format!("wbxprov-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("wbxprov.toml");
    let mut text = padded(
        "siteUrl = \"http://127.0.0.1:9/WBXService/XMLService\"\n",
        0,
    );
    text.extend(std::iter::repeat_n(b"# padding\n".as_slice(), 200_000).flatten());
    std::fs::write(&config, text).unwrap();
    let run = wbxprov(
        &["user", "list"],
        &[
            ("WBXPROV_CONFIG", config.to_str().unwrap()),
            ("WBXPROV_ADMIN_ID", "admin"),
            ("WBXPROV_ADMIN_PASSWORD", "pw"),
        ],
        b"",
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stderr.contains("limit of 1048576 bytes"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_password_line_beyond_the_limit_is_refused() {
    let run = wbxprov(
        &["user", "set-password", "jdoe"],
        &[
            (
                "WBXPROV_SITE_URL",
                "http://127.0.0.1:9/WBXService/XMLService",
            ),
            ("WBXPROV_ADMIN_ID", "admin"),
            ("WBXPROV_ADMIN_PASSWORD", "pw"),
        ],
        &vec![b'x'; 1 << 20],
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stderr.contains("limit of"), "{}", run.stderr);
}
