//! `wbxprov render OPERATION --user USER.json`: the request document wbxprov
//! would send, for review. Credentials come from the environment only.

use std::io::{self, Write};
use std::path::PathBuf;

use super::config::env;
use super::exit;
use wbxprov::ops::*;
use wbxprov::schema::{Attribute, FlatKey, FlatUser, Value};
use wbxprov::secret::Secret;
use wbxprov::xml::encode::{Credentials, Request, SecurityContext, SiteRef, encode};
use wbxprov::xml::{EncodeError, Form, Secrets};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The operation to write a request for.
    #[arg(value_parser = super::operation_parser(), ignore_case = true)]
    operation: String,
    /// The user as a flat JSON object (`wbxprov attrs` lists the keys). A value
    /// `{"env": "NAME"}` is read from environment variable NAME, for secrets.
    /// GetUser and DelUser read only `webExId`; LstsummaryUser reads `webExId`,
    /// `email` and `active` as filters.
    #[arg(long)]
    user: Option<PathBuf>,
    /// Write the namespace-qualified form the 2011 XSDs validate.
    #[arg(long)]
    qualified: bool,
    /// Print passwords, PINs and tokens as they would be sent instead of `***`.
    #[arg(long)]
    show_secrets: bool,
    /// The site name (default: from $WBXPROV_SITE_URL). Not `--site`, which
    /// elsewhere names a site profile file.
    #[arg(long, value_name = "NAME")]
    site_name: Option<String>,
    /// The admin's Webex ID (default: $WBXPROV_ADMIN_ID).
    #[arg(long)]
    admin: Option<String>,
}

/// A failure to prepare the request: says what to fix.
struct Unusable(String);

pub fn run(args: &Args, out: &mut impl Write) -> io::Result<u8> {
    match render(args) {
        Ok(xml) => {
            out.write_all(xml.as_bytes())?;
            Ok(exit::OK)
        }
        Err(Unusable(message)) => {
            eprintln!("error: {message}");
            Ok(exit::COULD_NOT_RUN)
        }
    }
}

fn render(args: &Args) -> Result<String, Unusable> {
    let operation: Operation = args.operation.parse().expect("clap checked the name");
    let security = security_context(args)?;
    let user = match &args.user {
        Some(path) => super::read_flat_user(path).map_err(Unusable)?,
        None => FlatUser::new(),
    };
    let form = if args.qualified {
        Form::Qualified
    } else {
        Form::Plain
    };
    let secrets = if args.show_secrets {
        Secrets::Reveal
    } else {
        Secrets::Mask
    };
    let text = |a: Attribute| match user.get(&FlatKey::new(a)) {
        Some(Value::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let need_id = || {
        text(Attribute::WebExId).ok_or_else(|| {
            Unusable(format!(
                "{operation} needs `webExId` in the user JSON (--user FILE)"
            ))
        })
    };
    fn go<R: Request>(
        r: &R,
        s: &SecurityContext,
        form: Form,
        secrets: Secrets,
    ) -> Result<String, Unusable> {
        encode(r, s, form, secrets).map_err(|e: EncodeError| Unusable(e.to_string()))
    }
    match operation {
        Operation::CreateUser => go(&CreateUser { user }, &security, form, secrets),
        Operation::SetUser => {
            let id = need_id()?;
            let mut change = user;
            change.remove(&FlatKey::new(Attribute::WebExId));
            go(&SetUser::new(&id, change), &security, form, secrets)
        }
        Operation::GetUser => go(
            &GetUser {
                web_ex_id: need_id()?,
            },
            &security,
            form,
            secrets,
        ),
        Operation::DelUser => go(
            &DelUser {
                web_ex_ids: vec![need_id()?],
                sync_web_office: None,
            },
            &security,
            form,
            secrets,
        ),
        Operation::LstsummaryUser => go(
            &LstsummaryUser {
                web_ex_id: text(Attribute::WebExId),
                email: text(Attribute::Email),
                active: text(Attribute::Active),
                ..Default::default()
            },
            &security,
            form,
            secrets,
        ),
        Operation::AuthenticateUser => {
            let request = match std::env::var(env::ACCESS_TOKEN) {
                Ok(token) => AuthenticateUser::AccessToken(Secret::from(token)),
                Err(_) => AuthenticateUser::Password,
            };
            go(&request, &security, form, secrets)
        }
        Operation::GetSite => go(&GetSite, &security, form, secrets),
        Operation::LstMeetingType => go(&LstMeetingType::default(), &security, form, secrets),
    }
}

fn security_context(args: &Args) -> Result<SecurityContext, Unusable> {
    let from_env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let site = match &args.site_name {
        Some(s) => s.clone(),
        None => {
            let url = from_env(env::SITE_URL).ok_or_else(|| {
                Unusable(format!(
                    "no site: pass --site-name NAME or set {}",
                    env::SITE_URL
                ))
            })?;
            super::config::site_of(&url).map_err(Unusable)?.0
        }
    };
    let admin = args.admin.clone().or_else(|| from_env(env::ADMIN_ID));
    let need_admin = || {
        admin.clone().ok_or_else(|| {
            Unusable(format!(
                "no admin Webex ID: pass --admin ID or set {}",
                env::ADMIN_ID
            ))
        })
    };
    let credentials = if let Some(token) = from_env(env::ACCESS_TOKEN) {
        Credentials::AccessToken {
            web_ex_id: admin.clone(),
            token: Secret::from(token),
        }
    } else if let Some(ticket) = from_env(env::SESSION_TICKET) {
        Credentials::SessionTicket {
            web_ex_id: need_admin()?,
            ticket: Secret::from(ticket),
        }
    } else if let Some(password) = from_env(env::ADMIN_PASSWORD) {
        Credentials::Password {
            web_ex_id: need_admin()?,
            password: Secret::from(password),
        }
    } else if args.show_secrets {
        return Err(Unusable(format!(
            "no credential to show: set {}, {} or {} (never on the command line), or render without --show-secrets",
            env::ACCESS_TOKEN,
            env::SESSION_TICKET,
            env::ADMIN_PASSWORD
        )));
    } else {
        // Masked as `***` like any credential: the document is the same without one.
        Credentials::Password {
            web_ex_id: need_admin()?,
            password: Secret::new(""),
        }
    };
    Ok(SecurityContext {
        site: SiteRef::Name(site),
        credentials,
    })
}
