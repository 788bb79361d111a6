//! Create a user on a Webex Meetings site and update it, every change checked
//! first against the site's own GetSite (features, session types, password
//! criteria), so that a change the site would refuse is not sent.
//!
//! ```text
//! WBXPROV_SITE_URL=https://example.webex.com/WBXService/XMLService \
//! WBXPROV_ADMIN_ID=admin WBXPROV_ADMIN_PASSWORD=… \
//!   cargo run --example create_user -- jdoe jdoe@example.com
//! ```
//!
//! Against the simulator: `wbxprov sim serve` prints its URL and admin;
//! `tests/examples.rs` runs this example against an in-process one.

use wbxprov::client::{AdminAuth, Client};
use wbxprov::schema::{FlatKey, FlatUser, Value};
use wbxprov::site::SiteProfile;
use wbxprov::{Error, ErrorKind, Secret};

/// What the example did, for its caller (and its test).
#[derive(Debug)]
pub struct Outcome {
    /// The site's userId of the user.
    pub user_id: Option<i64>,
    /// Whether the user existed already (then it was only updated).
    pub existed: bool,
}

/// A client of the site at `url` that validates every change against the
/// site's GetSite (and its session types) before sending it.
pub async fn connect(url: &str, auth: AdminAuth) -> Result<Client, Error> {
    // A site name (`example`) or URL; the simulator's `http://127.0.0.1:…` too.
    let mut client = Client::for_site(url, auth)?.build()?;
    let mut profile = SiteProfile::from_site(&client.get_site().await?);
    profile.add_meeting_types(&client.meeting_types().await?);
    client.validate_with(profile);
    Ok(client)
}

/// Creates `web_ex_id` (or finds it taken), then gives it a job title.
pub async fn run(
    url: &str,
    auth: AdminAuth,
    web_ex_id: &str,
    email: &str,
) -> Result<Outcome, Error> {
    let client = connect(url, auth).await?;
    let user = flat(&[
        ("webExId", Value::Text(web_ex_id.into())),
        ("email", Value::Text(email.into())),
        ("firstName", Value::Text("Jane".into())),
        ("lastName", Value::Text("Doe".into())),
    ]);
    let (user_id, existed) = match client.create_user(user).await.map_err(Error::from) {
        Ok(created) => (Some(created.user_id), false),
        // Taken (030004): update it instead. Every other failure stops here.
        Err(e) if e.kind() == ErrorKind::Exists => {
            (client.get_user(web_ex_id).await?.user_id, true)
        }
        Err(e) => return Err(e),
    };
    let change = flat(&[("title", Value::Text("Engineer".into()))]);
    client.set_user(web_ex_id, change).await?;
    Ok(Outcome { user_id, existed })
}

/// A flat user from catalogue names (`wbxprov attrs` lists them).
fn flat(pairs: &[(&str, Value)]) -> FlatUser {
    pairs
        .iter()
        .map(|(name, value)| {
            (
                name.parse::<FlatKey>().expect("a catalogue name"),
                value.clone(),
            )
        })
        .collect()
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let web_ex_id = args.next().unwrap_or_else(|| "jdoe".into());
    let email = args
        .next()
        .unwrap_or_else(|| format!("{web_ex_id}@example.com"));
    let url = std::env::var("WBXPROV_SITE_URL")?;
    let auth = AdminAuth::Password {
        web_ex_id: std::env::var("WBXPROV_ADMIN_ID")?,
        password: Secret::new(std::env::var("WBXPROV_ADMIN_PASSWORD")?),
    };
    match run(&url, auth, &web_ex_id, &email).await {
        Ok(outcome) => println!("{web_ex_id}: {outcome:?}"),
        // The kind says what to do; the message names the user, attribute and reason.
        Err(e) => {
            eprintln!("{}: {e}", e.kind());
            std::process::exit(1);
        }
    }
    Ok(())
}
